"""The QoS spec and group type catch-up jobs (`sync_qos_specs`, `sync_group_type` and their removals) on
two fake Cinders."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from atoll.jobs.outcomes import Done, Fail, TemporaryError
from atoll.pods.pool import PodClients
from atoll.sync import group_type, qos_specs
from atoll.sync.calls import PodCalls
from tests.unit.pods.fakepod import FakePod, serve
from tests.unit.sync.test_handlers import Pods, clients, task, token  # noqa: F401  (clients: a fixture)
from tests.unit.sync.test_volume_type import Cinder, pod_info


class MoreCinder(Cinder):
    """Volume types, and QoS specs with their associations, and group types."""

    def __init__(self, pod: FakePod, types: dict[str, dict[str, Any]]) -> None:
        super().__init__(pod, types)
        self.qos: dict[str, dict[str, Any]] = {}
        self.associated: dict[str, set[str]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.versions: list[str] = []
        pod.route("GET", "/volume/v3/qos-specs", self.qos_list)
        pod.route("POST", "/volume/v3/qos-specs", self.qos_create)
        pod.route("PUT", "/volume/v3/qos-specs/{qid}", self.qos_update)
        pod.route("PUT", "/volume/v3/qos-specs/{qid}/delete_keys", self.qos_delete_keys)
        pod.route("GET", "/volume/v3/qos-specs/{qid}/associations", self.qos_associations)
        pod.route("GET", "/volume/v3/qos-specs/{qid}/associate", self.qos_associate)
        pod.route("GET", "/volume/v3/qos-specs/{qid}/disassociate", self.qos_disassociate)
        pod.route("DELETE", "/volume/v3/qos-specs/{qid}", self.qos_delete)
        pod.route("GET", "/volume/v3/group_types", self.group_list)
        pod.route("POST", "/volume/v3/group_types", self.group_create)
        pod.route("PUT", "/volume/v3/group_types/{gid}", self.group_update)
        pod.route("POST", "/volume/v3/group_types/{gid}/group_specs", self.group_set_specs)
        pod.route("DELETE", "/volume/v3/group_types/{gid}/group_specs/{key}", self.group_unset_spec)
        pod.route("DELETE", "/volume/v3/group_types/{gid}", self.group_delete)

    async def qos_list(self, r: web.Request) -> web.StreamResponse:
        return web.json_response({"qos_specs": list(self.qos.values())})

    async def qos_create(self, r: web.Request) -> web.StreamResponse:
        body = dict((await r.json())["qos_specs"])
        name, consumer = body.pop("name"), body.pop("consumer", "back-end")
        made = {"id": str(uuid.uuid4()), "name": name, "consumer": consumer, "specs": body}
        self.qos[made["id"]] = made
        return web.json_response({"qos_specs": made})

    async def qos_update(self, r: web.Request) -> web.StreamResponse:
        body = dict((await r.json())["qos_specs"])
        found = self.qos[r.match_info["qid"]]
        if "consumer" in body:
            found["consumer"] = body.pop("consumer")
        found["specs"].update(body)
        return web.json_response({"qos_specs": body})

    async def qos_delete_keys(self, r: web.Request) -> web.StreamResponse:
        for key in (await r.json())["keys"]:
            self.qos[r.match_info["qid"]]["specs"].pop(key)
        return web.Response(status=202)

    async def qos_associations(self, r: web.Request) -> web.StreamResponse:
        ids = self.associated.get(r.match_info["qid"], set())
        listed = [{"association_type": "volume_type", "name": self.types[t]["name"], "id": t} for t in sorted(ids)]
        return web.json_response({"qos_associations": listed})

    async def qos_associate(self, r: web.Request) -> web.StreamResponse:
        self.associated.setdefault(r.match_info["qid"], set()).add(r.query["vol_type_id"])
        return web.Response(status=202)

    async def qos_disassociate(self, r: web.Request) -> web.StreamResponse:
        self.associated[r.match_info["qid"]].discard(r.query["vol_type_id"])
        return web.Response(status=202)

    async def qos_delete(self, r: web.Request) -> web.StreamResponse:
        assert r.query.get("force") == "True"
        self.qos.pop(r.match_info["qid"])
        return web.Response(status=202)

    async def group_list(self, r: web.Request) -> web.StreamResponse:
        self.versions.append(r.headers.get("OpenStack-API-Version", ""))
        return web.json_response({"group_types": list(self.groups.values())})

    async def group_create(self, r: web.Request) -> web.StreamResponse:
        body = (await r.json())["group_type"]
        made = {"id": str(uuid.uuid4()), **body}
        self.groups[made["id"]] = made
        return web.json_response({"group_type": made})

    async def group_update(self, r: web.Request) -> web.StreamResponse:
        self.groups[r.match_info["gid"]].update((await r.json())["group_type"])
        return web.json_response({"group_type": self.groups[r.match_info["gid"]]})

    async def group_set_specs(self, r: web.Request) -> web.StreamResponse:
        self.groups[r.match_info["gid"]]["group_specs"].update((await r.json())["group_specs"])
        return web.json_response({"group_specs": self.groups[r.match_info["gid"]]["group_specs"]})

    async def group_unset_spec(self, r: web.Request) -> web.StreamResponse:
        self.groups[r.match_info["gid"]]["group_specs"].pop(r.match_info["key"])
        return web.Response(status=202)

    async def group_delete(self, r: web.Request) -> web.StreamResponse:
        self.groups.pop(r.match_info["gid"])
        return web.Response(status=202)


@pytest.fixture
async def cinders(clients: PodClients) -> AsyncIterator[tuple[MoreCinder, MoreCinder, PodCalls]]:  # noqa: F811
    one, two = FakePod(), FakePod()
    gold = {"id": "gold-1", "name": "gold", "description": "", "extra_specs": {}}
    source, target = MoreCinder(one, {"gold-1": gold}), MoreCinder(two, {})
    source.qos["q-1"] = {"id": "q-1", "name": "fast", "consumer": "front-end", "specs": {"read_iops_sec": "500"}}
    source.associated["q-1"] = {"gold-1"}
    source.groups["g-1"] = {
        "id": "g-1",
        "name": "consistent",
        "description": "cg",
        "is_public": True,
        "group_specs": {"consistent_group_snapshot_enabled": "<is> True"},
    }
    async with serve(one), serve(two):
        yield source, target, PodCalls(Pods(pod_info("Pod1", one.url), pod_info("Pod2", two.url)), clients, token)


async def test_a_qos_spec_waits_for_its_volume_type_then_is_made_with_its_keys_and_association(
    cinders: tuple[MoreCinder, MoreCinder, PodCalls],
) -> None:
    _, target, calls = cinders
    with pytest.raises(TemporaryError, match="Volume type gold is not in Pod2 yet"):
        await qos_specs.sync(calls, task("qos_specs", "fast", force=True))
    target.types["gold-2"] = {"id": "gold-2", "name": "gold", "description": "", "extra_specs": {}}
    assert isinstance(await qos_specs.sync(calls, task("qos_specs", "fast", force=True)), Done)
    [made] = target.qos.values()
    assert (made["name"], made["consumer"], made["specs"]) == ("fast", "front-end", {"read_iops_sec": "500"})
    assert target.associated[made["id"]] == {"gold-2"}  # the target's own id of the type of that name
    made["specs"]["extra"] = "1"
    made["consumer"] = "back-end"
    target.associated[made["id"]].add("other")
    target.types["other"] = {"id": "other", "name": "other", "description": "", "extra_specs": {}}
    refused = await qos_specs.sync(calls, task("qos_specs", "fast"))
    assert isinstance(refused, Fail)
    assert "consumer: 'back-end' != 'front-end'" in refused.reason
    assert isinstance(await qos_specs.sync(calls, task("qos_specs", "fast", force=True)), Done)
    assert (made["consumer"], made["specs"], target.associated[made["id"]]) == (
        "front-end",
        {"read_iops_sec": "500"},
        {"gold-2"},
    )
    removed = await qos_specs.remove(calls, dataclasses.replace(task("qos_specs", "fast"), target="Pod2"))
    assert isinstance(removed, Done)
    assert target.qos == {}


async def test_a_group_type_is_made_by_name_with_its_specs_and_made_the_same_with_force(
    cinders: tuple[MoreCinder, MoreCinder, PodCalls],
) -> None:
    source, target, calls = cinders
    assert isinstance(await group_type.sync(calls, task("group_type", "consistent", force=True)), Done)
    [made] = target.groups.values()
    assert made["id"] != "g-1"
    assert (made["description"], made["group_specs"]) == ("cg", source.groups["g-1"]["group_specs"])
    assert set(target.versions) == {"volume 3.11"}
    made["group_specs"] = {"old": "x"}
    made["description"] = "changed"
    assert isinstance(await group_type.sync(calls, task("group_type", "consistent")), Fail)
    assert isinstance(await group_type.sync(calls, task("group_type", "consistent", force=True)), Done)
    assert (made["description"], made["group_specs"]) == ("cg", source.groups["g-1"]["group_specs"])
    removed = await group_type.remove(calls, dataclasses.replace(task("group_type", "consistent"), target="Pod2"))
    assert isinstance(removed, Done)
    assert target.groups == {}
    assert isinstance(await group_type.sync(calls, task("group_type", "nothing")), Fail)
