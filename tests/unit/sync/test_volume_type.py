"""The volume type catch-up job (`sync_volume_type`, `sync_remove_volume_type`) on two fake Cinders."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from atoll.jobs.outcomes import Done, Fail
from atoll.pods.info import PodInfo
from atoll.pods.pool import PodClients
from atoll.sync import volume_type
from atoll.sync.calls import PodCalls
from atoll.types import PodId, PodStatus, RegionName
from tests.unit.pods.fakepod import FakePod, serve
from tests.unit.sync.test_handlers import Pods, clients, task, token  # noqa: F401  (clients: a fixture)


class Cinder:
    def __init__(self, pod: FakePod, types: dict[str, dict[str, Any]]) -> None:
        self.types = types
        self.access: dict[str, list[str]] = {}
        pod.route("GET", "/volume/v3/types", self.list)
        pod.route("POST", "/volume/v3/types", self.create)
        pod.route("PUT", "/volume/v3/types/{tid}", self.update)
        pod.route("DELETE", "/volume/v3/types/{tid}", self.delete)
        pod.route("POST", "/volume/v3/types/{tid}/extra_specs", self.set_specs)
        pod.route("DELETE", "/volume/v3/types/{tid}/extra_specs/{key}", self.unset_spec)
        pod.route("GET", "/volume/v3/types/{tid}/os-volume-type-access", self.list_access)
        pod.route("POST", "/volume/v3/types/{tid}/action", self.action)

    def named(self, name: str) -> dict[str, Any] | None:
        return next((t for t in self.types.values() if t["name"] == name), None)

    async def list(self, r: web.Request) -> web.StreamResponse:
        return web.json_response({"volume_types": list(self.types.values())})

    async def create(self, r: web.Request) -> web.StreamResponse:
        body = (await r.json())["volume_type"]
        made = {
            "id": str(uuid.uuid4()),
            "name": body["name"],
            "description": body.get("description"),
            "os-volume-type-access:is_public": body.get("os-volume-type-access:is_public", True),
            "extra_specs": body.get("extra_specs", {}),
        }
        self.types[made["id"]] = made
        return web.json_response({"volume_type": made})

    async def update(self, r: web.Request) -> web.StreamResponse:
        body = (await r.json())["volume_type"]
        found = self.types[r.match_info["tid"]]
        found["description"] = body["description"]
        found["os-volume-type-access:is_public"] = body["is_public"]
        return web.json_response({"volume_type": found})

    async def delete(self, r: web.Request) -> web.StreamResponse:
        self.types.pop(r.match_info["tid"])
        return web.Response(status=202)

    async def set_specs(self, r: web.Request) -> web.StreamResponse:
        specs = self.types[r.match_info["tid"]]["extra_specs"]
        specs.update((await r.json())["extra_specs"])
        return web.json_response({"extra_specs": specs})

    async def unset_spec(self, r: web.Request) -> web.StreamResponse:
        self.types[r.match_info["tid"]]["extra_specs"].pop(r.match_info["key"])
        return web.Response(status=202)

    async def list_access(self, r: web.Request) -> web.StreamResponse:
        tid = r.match_info["tid"]
        return web.json_response(
            {"volume_type_access": [{"volume_type_id": tid, "project_id": p} for p in self.access.get(tid, [])]}
        )

    async def action(self, r: web.Request) -> web.StreamResponse:
        body = await r.json()
        listed = self.access.setdefault(r.match_info["tid"], [])
        if "addProjectAccess" in body:
            listed.append(body["addProjectAccess"]["project"])
        else:
            listed.remove(body["removeProjectAccess"]["project"])
        return web.Response(status=202)


def pod_info(name: str, url: str) -> PodInfo:
    endpoints = {"volumev3": url + "/volume/v3/%(project_id)s"}
    return PodInfo(PodId(name.lower()), RegionName(name), "az1", "", False, endpoints, PodStatus.UP)


GOLD = {
    "id": "gold-1",
    "name": "gold",
    "description": "fast",
    "os-volume-type-access:is_public": False,
    "extra_specs": {"k": "v"},
}


@pytest.fixture
async def cinders(clients: PodClients) -> AsyncIterator[tuple[Cinder, Cinder, PodCalls]]:  # noqa: F811
    one, two = FakePod(), FakePod()
    source = Cinder(one, {"gold-1": dict(GOLD, extra_specs={"k": "v"})})
    source.access["gold-1"] = ["project-b"]
    target = Cinder(two, {})
    async with serve(one), serve(two):
        yield source, target, PodCalls(Pods(pod_info("Pod1", one.url), pod_info("Pod2", two.url)), clients, token)


async def test_a_missing_type_is_made_by_name_with_its_specs_and_access(
    cinders: tuple[Cinder, Cinder, PodCalls],
) -> None:
    _, target, calls = cinders
    outcome = await volume_type.sync(calls, task("volume_type", "gold", force=True))
    assert isinstance(outcome, Done)
    made = target.named("gold")
    assert made is not None
    assert made["id"] != "gold-1"  # Cinder chose its own
    assert (made["description"], made["extra_specs"]) == ("fast", {"k": "v"})
    assert target.access[made["id"]] == ["project-b"]
    again = await volume_type.sync(calls, task("volume_type", "gold", force=True))
    assert isinstance(again, Done)
    assert len(target.types) == 1


async def test_a_differing_type_is_made_the_same_with_force_only(cinders: tuple[Cinder, Cinder, PodCalls]) -> None:
    _, target, calls = cinders
    target.types["t-2"] = dict(GOLD, id="t-2", extra_specs={"old": "x"}, description="slow")
    refused = await volume_type.sync(calls, task("volume_type", "gold"))
    assert isinstance(refused, Fail)
    assert "description" in refused.reason
    outcome = await volume_type.sync(calls, task("volume_type", "gold", force=True))
    assert isinstance(outcome, Done)
    assert target.types["t-2"]["extra_specs"] == {"k": "v"}
    assert target.types["t-2"]["description"] == "fast"


async def test_remove_deletes_by_name_and_a_missing_type_is_done(cinders: tuple[Cinder, Cinder, PodCalls]) -> None:
    source, _, calls = cinders
    gone = await volume_type.remove(calls, dataclasses.replace(task("volume_type", "gold"), target="Pod1"))
    assert isinstance(gone, Done)
    assert source.named("gold") is None
    missing = await volume_type.sync(calls, task("volume_type", "nothing"))
    assert isinstance(missing, Fail)
