"""Read-only comparison and removal of each resource type against fake pods on loopback: a missing copy
is None, an identical one [], a differing one says what differs (target != source); comparing never
writes; removing deletes the target's copy only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from atoll.jobs.outcomes import Done, PermanentError
from atoll.pods.info import PodInfo
from atoll.pods.pool import PodClients
from atoll.sync import drift, image, keypair, secgroup
from atoll.sync.calls import PodCalls
from atoll.sync.task import Subject
from atoll.types import PodId, PodStatus, RegionName
from tests.unit.pods.fakepod import FakePod, serve
from tests.unit.sync.test_handlers import DATA, Pods, glance_image, glance_pods, task, token

__all__ = ["glance_pods"]  # a fixture of test_handlers, used here


def subject(resource_type: str, resource: str) -> Subject:
    return Subject(resource_type, resource, "Pod1", "project-a", "user-a")


def writes(pod: FakePod) -> list[str]:
    return [s["method"] for s in pod.seen if s["method"] != "GET"]


def info(name: str, url: str) -> PodInfo:
    endpoints = {"compute": url + "/compute/v2.1", "network": url + "/network", "image": url + "/image"}
    return PodInfo(PodId(name.lower()), RegionName(name), "az1", "", False, endpoints, PodStatus.UP)


@pytest.fixture
async def clients() -> AsyncIterator[PodClients]:
    pool = PodClients()
    yield pool
    await pool.close()


class Keypairs:
    def __init__(self, pod: FakePod, keys: dict[str, str]) -> None:
        self.keys = dict(keys)
        pod.route("GET", "/compute/v2.1/os-keypairs/{name}", self.show)
        pod.route("DELETE", "/compute/v2.1/os-keypairs/{name}", self.delete)

    async def show(self, r: web.Request) -> web.StreamResponse:
        assert r.query["user_id"] == "user-a"
        key = self.keys.get(r.match_info["name"])
        if key is None:
            return web.json_response({"itemNotFound": {}}, status=404)
        return web.json_response({"keypair": {"name": r.match_info["name"], "public_key": key, "type": "ssh"}})

    async def delete(self, r: web.Request) -> web.StreamResponse:
        self.keys.pop(r.match_info["name"], None)
        return web.Response(status=202)


async def test_keypairs_missing_identical_and_differing(clients: PodClients) -> None:
    one, two = FakePod(), FakePod()
    Keypairs(one, {"k1": "ssh-rsa AAA\n", "k2": "ssh-rsa BBB"})
    target = Keypairs(two, {"k1": "ssh-rsa AAA", "k2": "ssh-rsa CCC"})
    async with serve(one), serve(two):
        calls = PodCalls(Pods(info("Pod1", one.url), info("Pod2", two.url)), clients, token)
        k1 = await drift.read_source(calls, subject("keypair", "k1"))
        assert await drift.drift(calls, subject("keypair", "k1"), k1, "Pod2") == []
        k2 = await drift.read_source(calls, subject("keypair", "k2"))
        assert await drift.drift(calls, subject("keypair", "k2"), k2, "Pod2") == [
            "public_key: 'ssh-rsa CCC' != 'ssh-rsa BBB'"
        ]
        with pytest.raises(PermanentError, match="Keypair k3 of user user-a does not exist in Pod1"):
            await drift.read_source(calls, subject("keypair", "k3"))
        assert writes(two) == []
        assert isinstance(await keypair.remove(calls, task("keypair", "k2")), Done)
        assert target.keys == {"k1": "ssh-rsa AAA"}
        assert writes(one) == []


def group(gid: str, name: str, rules: list[dict[str, Any]], description: str = "") -> dict[str, Any]:
    full = [{"id": f"{gid}-r{i}", "remote_group_id": None, "remote_ip_prefix": None, **r} for i, r in enumerate(rules)]
    return {"id": gid, "name": name, "description": description, "security_group_rules": full}


WEB = {"direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 80, "port_range_max": 80}


class Neutron:
    def __init__(self, pod: FakePod, groups: list[dict[str, Any]]) -> None:
        self.groups = {g["id"]: g for g in groups}
        pod.route("GET", "/network/v2.0/security-groups", self.list)
        pod.route("DELETE", "/network/v2.0/security-groups/{gid}", self.delete)

    async def list(self, r: web.Request) -> web.StreamResponse:
        assert r.query["project_id"] == "project-a"
        return web.json_response({"security_groups": list(self.groups.values())})

    async def delete(self, r: web.Request) -> web.StreamResponse:
        self.groups.pop(r.match_info["gid"], None)
        return web.Response(status=204)


async def test_security_groups_compare_by_name_and_rules_and_removal_finds_the_target_s_group(
    clients: PodClients,
) -> None:
    one, two = FakePod(), FakePod()
    ssh = {**WEB, "port_range_min": 22, "port_range_max": 22}
    Neutron(one, [group("s-web", "web", [WEB], "web tier"), group("s-db", "db", [{**WEB, "remote_group_id": "s-web"}])])
    target = Neutron(two, [group("t-web", "web", [WEB, ssh], "old"), group("t-x", "other", [])])
    async with serve(one), serve(two):
        calls = PodCalls(Pods(info("Pod1", one.url), info("Pod2", two.url)), clients, token)
        web_group = await drift.read_source(calls, subject("security_group", "s-web"))
        diffs = await drift.drift(calls, subject("security_group", "s-web"), web_group, "Pod2")
        assert diffs == ["description: 'old' != 'web tier'", "extra rule ingress IPv4 tcp 22-22 any"]
        db_group = await drift.read_source(calls, subject("security_group", "db"))
        assert await drift.drift(calls, subject("security_group", "db"), db_group, "Pod2") is None
        assert writes(two) == []
        assert isinstance(await secgroup.remove(calls, task("security_group", "s-web")), Done)
        assert list(target.groups) == ["t-x"]
        assert writes(one) == []


async def test_images_compare_data_and_properties_and_removal_spares_the_source(
    glance_pods: Any,
) -> None:
    source, target, calls = glance_pods
    wanted = await drift.read_source(calls, subject("image", "i-1"))
    assert await drift.drift(calls, subject("image", "i-1"), wanted, "Pod2") is None
    target.images["i-1"] = glance_image(DATA, atoll_probe="no")
    assert await drift.drift(calls, subject("image", "i-1"), wanted, "Pod2") == ["atoll_probe: 'no' != 'yes'"]
    target.images["i-1"]["status"] = "queued"
    assert await drift.drift(calls, subject("image", "i-1"), wanted, "Pod2") == ["status: 'queued' != 'active'"]
    with pytest.raises(PermanentError, match="does not exist in Pod1"):
        await drift.read_source(calls, Subject("image", "i-1", "Pod1", "project-b", "user-b"))
    assert isinstance(await image.remove(calls, task("image", "i-1")), Done)
    assert target.images == {}
    assert "i-1" in source.images


async def test_a_shared_image_s_members_are_compared_too(glance_pods: Any) -> None:
    source, target, calls = glance_pods
    source.images["i-1"]["visibility"] = "shared"
    source.members["i-1"] = {"project-b": "accepted"}
    wanted = await drift.read_source(calls, subject("image", "i-1"))
    target.images["i-1"] = dict(source.images["i-1"])
    target.members["i-1"] = {"project-b": "pending", "project-c": "accepted"}
    assert await drift.drift(calls, subject("image", "i-1"), wanted, "Pod2") == [
        "member project-b: 'pending' != 'accepted'",
        "member project-c: 'accepted' != None",
    ]
    target.members["i-1"] = {"project-b": "accepted"}
    assert await drift.drift(calls, subject("image", "i-1"), wanted, "Pod2") == []
