from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.core.clock import FakeClock
from atoll.core.errors import BadRequest, ServiceUnavailable
from atoll.db import bindings as bindings_db
from atoll.db import pods as pods_db
from atoll.pods.info import PodInfo
from atoll.pods.pool import PodClients
from atoll.pods.registry import PodSnapshot
from atoll.scheduling.scheduler import Scheduler
from atoll.scheduling.weigher import EvenWeigher, PlacementWeigher, free_share
from atoll.types import PodId, PodStatus, ProjectId, RegionName
from tests.unit.pods.fakepod import FakePod, serve

Sessions = async_sessionmaker[AsyncSession]
P = ProjectId("project-a")


class FixedWeigher:
    def __init__(self, weights: dict[str, float]) -> None:
        self.weights = weights
        self.asked: list[list[str]] = []

    async def weigh(self, pods: Sequence[PodInfo]) -> list[float]:
        self.asked.append([p.name for p in pods])
        return [self.weights.get(p.name, 0.0) for p in pods]


async def _snapshot(sessions: Sessions, *pods: tuple[str, str, PodStatus]) -> PodSnapshot:
    infos = []
    async with sessions.begin() as session:
        for name, az, status in pods:
            row = await pods_db.create(session, region_name=name, az_name=az)
            infos.append(PodInfo(PodId(row.pod_id), RegionName(name), az, "", False, {}, status))
    return PodSnapshot(tuple(infos))


async def _bound(sessions: Sessions) -> list[str]:
    async with sessions() as session:
        return await bindings_db.bound_pods(session, P)


async def test_weigher_chooses_and_the_choice_is_bound(sessions: Sessions) -> None:
    up = PodStatus.UP
    snap = await _snapshot(sessions, ("Pod1", "az1", up), ("Pod2", "az1", up), ("Pod3", "az2", up))
    weigher = FixedWeigher({"Pod2": 5.0, "Pod3": 9.0})
    scheduler = Scheduler(sessions, weigher)
    chosen = await scheduler.choose(snap, P, "az1")
    assert chosen.name == "Pod2"
    assert weigher.asked == [["Pod1", "Pod2"]]
    assert await _bound(sessions) == [chosen.pod_id]
    again = await scheduler.choose(snap, P, "az1")  # the binding decides now, no weighing
    assert again.name == "Pod2"
    assert len(weigher.asked) == 1
    anywhere = await Scheduler(sessions, FixedWeigher({"Pod3": 1.0})).choose(snap, ProjectId("other"), None)
    assert anywhere.name == "Pod3"


async def test_down_pods_are_skipped_unless_bound(sessions: Sessions) -> None:
    snap = await _snapshot(sessions, ("Pod1", "az1", PodStatus.DOWN), ("Pod2", "az1", PodStatus.UP))
    scheduler = Scheduler(sessions, EvenWeigher())
    assert (await scheduler.choose(snap, P, "az1")).name == "Pod2"
    async with sessions.begin() as session:
        await bindings_db.create(session, tenant_id="bound-to-1", pod_id=snap.pods[0].pod_id)
    with pytest.raises(ServiceUnavailable, match=r"^Availability zone az1 is not available now"):
        await scheduler.choose(snap, ProjectId("bound-to-1"), "az1")


async def test_unknown_az_and_no_healthy_pod(sessions: Sessions) -> None:
    snap = await _snapshot(sessions, ("Pod1", "az1", PodStatus.DOWN))
    scheduler = Scheduler(sessions, EvenWeigher())
    with pytest.raises(BadRequest, match="The requested availability zone is not available"):
        await scheduler.choose(snap, P, "az9")
    with pytest.raises(ServiceUnavailable, match="No pod of availability zone az1 is available now"):
        await scheduler.choose(snap, P, "az1")
    with pytest.raises(ServiceUnavailable, match="No pod of any availability zone"):
        await scheduler.choose(snap, P, None)
    assert await _bound(sessions) == []


def test_free_share_is_the_scarcest_resource() -> None:
    inventories: dict[str, Any] = {
        "VCPU": {"total": 8, "reserved": 0, "allocation_ratio": 2.0},
        "MEMORY_MB": {"total": 4096, "reserved": 512, "allocation_ratio": 1.0},
        "DISK_GB": {"total": 100, "reserved": 0, "allocation_ratio": 1.0},
    }
    assert free_share(inventories, {"VCPU": 4, "MEMORY_MB": 3072, "DISK_GB": 10}) == pytest.approx(512 / 3584)
    assert free_share({}, {}) == 0.0


async def test_placement_weigher_reads_capacity_with_the_service_token_and_caches_it() -> None:
    pod = FakePod()
    pod.json("GET", "/placement/resource_providers", {"resource_providers": [{"uuid": "rp1"}]})
    pod.json("GET", "/placement/resource_providers/rp1/inventories", {"inventories": {"VCPU": {"total": 4}}})
    pod.json("GET", "/placement/resource_providers/rp1/usages", {"usages": {"VCPU": 1}})

    async def broken(_request: web.Request) -> web.StreamResponse:
        return web.Response(status=500)

    pod.route("GET", "/broken/resource_providers", broken)
    clients = PodClients()
    clock = FakeClock()
    tokens: list[bool] = []

    async def token(renew: bool) -> str:
        tokens.append(renew)
        return "service-token"

    async with serve(pod):
        good = PodInfo(
            PodId("a"), RegionName("A"), "az1", "", False, {"placement": pod.url + "/placement"}, PodStatus.UP
        )
        bad = PodInfo(PodId("b"), RegionName("B"), "az1", "", False, {"placement": pod.url + "/broken"}, PodStatus.UP)
        weigher = PlacementWeigher(clients, token, cache_time=10, clock=clock)
        assert await weigher.weigh([good, bad]) == [0.75, 0.0]
        calls = len(pod.seen)
        assert await weigher.weigh([good]) == [0.75]
        assert len(pod.seen) == calls
        clock.advance(11)
        await weigher.weigh([good])
        assert len(pod.seen) == calls + 3
    await clients.close()
    assert {s["headers"]["X-Auth-Token"] for s in pod.seen} == {"service-token"}
    assert pod.seen[0]["headers"]["OpenStack-API-Version"] == "placement 1.17"
