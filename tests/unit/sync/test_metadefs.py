"""The metadata definitions catch-up jobs (`sync_metadef_namespace` and its removal) on two fake Glances."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from atoll.jobs.outcomes import Done, Fail
from atoll.pods.info import PodInfo
from atoll.pods.pool import PodClients
from atoll.sync import metadefs
from atoll.sync.calls import PodCalls
from atoll.types import PodId, PodStatus, RegionName
from tests.unit.pods.fakepod import FakePod, serve
from tests.unit.sync.test_handlers import Pods, clients, task, token  # noqa: F401  (clients: a fixture)

NAMESPACE: dict[str, Any] = {
    "namespace": "OS::Compute::Atoll",
    "display_name": "Atoll",
    "description": "test",
    "visibility": "public",
    "protected": True,
    "owner": "admin-project",
    "resource_type_associations": [{"name": "OS::Nova::Flavor", "prefix": "hw:", "created_at": "2026-01-01"}],
    "properties": {"cpu_policy": {"title": "CPU policy", "type": "string", "enum": ["shared", "dedicated"]}},
    "objects": [{"name": "Topology", "required": [], "properties": {"sockets": {"type": "integer"}}}],
    "tags": [{"name": "b"}, {"name": "a"}],
    "created_at": "2026-01-01T00:00:00Z",
    "schema": "/v2/schemas/metadefs/namespace",
    "self": "/v2/metadefs/namespaces/OS::Compute::Atoll",
}


class Glance:
    """Namespaces kept whole, as Glance's show returns them; the calls it was made, in order."""

    def __init__(self, pod: FakePod) -> None:
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []
        pod.route("GET", "/image/v2/metadefs/namespaces/{name}", self.show)
        pod.route("POST", "/image/v2/metadefs/namespaces", self.create)
        pod.route("PUT", "/image/v2/metadefs/namespaces/{name}", self.update)
        pod.route("DELETE", "/image/v2/metadefs/namespaces/{name}", self.delete)

    async def show(self, r: web.Request) -> web.StreamResponse:
        found = self.namespaces.get(r.match_info["name"])
        return web.json_response(found) if found else web.Response(status=404)

    async def create(self, r: web.Request) -> web.StreamResponse:
        body = await r.json()
        self.calls.append(f"POST {body['namespace']}")
        if body["namespace"] in self.namespaces:
            return web.Response(status=409)
        self.namespaces[body["namespace"]] = {**body, "created_at": "2026-12-06T00:00:00Z"}
        return web.json_response(body, status=201)

    async def update(self, r: web.Request) -> web.StreamResponse:
        name = r.match_info["name"]
        self.calls.append(f"PUT {name}")
        self.namespaces[name].update(await r.json())
        return web.json_response(self.namespaces[name])

    async def delete(self, r: web.Request) -> web.StreamResponse:
        name = r.match_info["name"]
        self.calls.append(f"DELETE {name}")
        if self.namespaces[name].get("protected"):
            return web.Response(status=403)
        self.namespaces.pop(name)
        return web.Response(status=204)


def glance_pod(name: str, url: str) -> PodInfo:
    return PodInfo(PodId(name.lower()), RegionName(name), "az1", "", False, {"image": url + "/image"}, PodStatus.UP)


@pytest.fixture
async def glances(clients: PodClients) -> AsyncIterator[tuple[Glance, Glance, PodCalls]]:  # noqa: F811
    one, two = FakePod(), FakePod()
    source, target = Glance(one), Glance(two)
    source.namespaces[NAMESPACE["namespace"]] = copy.deepcopy(NAMESPACE)
    async with serve(one), serve(two):
        yield source, target, PodCalls(Pods(glance_pod("Pod1", one.url), glance_pod("Pod2", two.url)), clients, token)


def job(force: bool = False) -> Any:
    return task("metadef_namespace", str(NAMESPACE["namespace"]), force=force)


async def test_a_namespace_is_copied_whole_and_a_second_run_changes_nothing(
    glances: tuple[Glance, Glance, PodCalls],
) -> None:
    source, target, calls = glances
    assert isinstance(await metadefs.sync(calls, job()), Done)
    made = target.namespaces["OS::Compute::Atoll"]
    assert metadefs.shape(made) == metadefs.shape(source.namespaces["OS::Compute::Atoll"])
    assert made["tags"] == [{"name": "a"}, {"name": "b"}]
    assert made["resource_type_associations"] == [{"name": "OS::Nova::Flavor", "prefix": "hw:"}]
    assert (made["protected"], made["owner"], made["objects"][0]["name"]) == (True, "admin-project", "Topology")
    assert isinstance(await metadefs.sync(calls, job()), Done)
    assert target.calls == ["POST OS::Compute::Atoll"]


async def test_a_differing_namespace_is_refused_without_force_and_made_again_with_it(
    glances: tuple[Glance, Glance, PodCalls],
) -> None:
    _, target, calls = glances
    stale = copy.deepcopy(NAMESPACE)
    stale["properties"] = {}
    stale["tags"] = [{"name": "old"}]
    target.namespaces["OS::Compute::Atoll"] = stale
    refused = await metadefs.sync(calls, job())
    assert isinstance(refused, Fail)
    assert "Metadata definitions namespace OS::Compute::Atoll differs in Pod2" in refused.reason
    assert "properties: {} != " in refused.reason
    assert isinstance(await metadefs.sync(calls, job(force=True)), Done)
    # protected: unprotected, deleted and made again from the source
    assert target.calls == ["PUT OS::Compute::Atoll", "DELETE OS::Compute::Atoll", "POST OS::Compute::Atoll"]
    assert metadefs.shape(target.namespaces["OS::Compute::Atoll"]) == metadefs.shape(NAMESPACE)


async def test_a_namespace_gone_from_the_source_fails_and_a_removal_deletes_it(
    glances: tuple[Glance, Glance, PodCalls],
) -> None:
    source, target, calls = glances
    source.namespaces.clear()
    failed = await metadefs.sync(calls, job(force=True))
    assert isinstance(failed, Fail)
    assert failed.reason == "Metadata definitions namespace OS::Compute::Atoll does not exist in Pod1."
    target.namespaces["OS::Compute::Atoll"] = copy.deepcopy(NAMESPACE)
    removal = dataclasses.replace(job(), target="Pod2")
    assert isinstance(await metadefs.remove(calls, removal), Done)
    assert target.namespaces == {}
    assert isinstance(await metadefs.remove(calls, removal), Done)  # nothing left to delete: done
