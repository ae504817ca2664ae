from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.core.clock import FakeClock
from atoll.core.errors import ServiceUnavailable
from atoll.db import pods as pods_db
from atoll.pods.info import PodInfo, base_url
from atoll.pods.microversions import APIVersion, VersionRange
from atoll.pods.registry import PodRegistry, db_loader
from atoll.types import PodId, PodStatus, RegionName
from tests.unit.pods.dbpods import set_pod

NOVA = VersionRange(APIVersion(2, 1), APIVersion(2, 96))


def pod(name: str, status: PodStatus = PodStatus.UP, az: str = "az1", **endpoints: str) -> PodInfo:
    return PodInfo(
        pod_id=PodId(f"id-{name}"),
        region_name=RegionName(name),
        az_name=az,
        pod_az_name="",
        is_top=az == "",
        endpoints=endpoints or {"compute": f"http://{name}/v2.1"},
        status=status,
    )


class Source:
    def __init__(self, pods: list[PodInfo]) -> None:
        self.pods = pods
        self.loads = 0
        self.version_reads: list[str] = []
        self.gate: asyncio.Event | None = None

    async def load(self) -> Sequence[PodInfo]:
        self.loads += 1
        if self.gate is not None:
            await self.gate.wait()
        return list(self.pods)

    async def versions(self, info: PodInfo) -> Mapping[str, VersionRange]:
        self.version_reads.append(info.name)
        if info.name == "Broken":
            raise ServiceUnavailable("Pod Broken could not be reached (ClientConnectorError).")
        return {"compute": NOVA}


async def test_snapshot_is_loaded_once_then_served_from_memory() -> None:
    source = Source([pod("Top", az=""), pod("Pod1"), pod("Pod2", az="az2")])
    registry = PodRegistry(source.load, source.versions, clock=FakeClock(), ttl=5)
    first = await registry.snapshot()
    assert [p.name for p in first.pods] == ["Top", "Pod1", "Pod2"]
    for _ in range(10):
        assert await registry.snapshot() is first
    assert source.loads == 1
    assert first.top is not None
    assert first.top.name == "Top"
    assert [p.name for p in first.bottoms] == ["Pod1", "Pod2"]
    assert {az: [p.name for p in pods] for az, pods in first.azs().items()} == {"az1": ["Pod1"], "az2": ["Pod2"]}
    assert first.by_name("Pod2") == first.get("id-Pod2")
    assert first.get("nope") is None
    assert first.get("id-Pod1") is not None
    assert first.get("id-Pod1").versions == {"compute": NOVA}  # type: ignore[union-attr]
    await registry.close()


async def test_concurrent_first_calls_share_one_load() -> None:
    source = Source([pod("Pod1")])
    source.gate = asyncio.Event()
    registry = PodRegistry(source.load, clock=FakeClock())
    waiting = [asyncio.create_task(registry.snapshot()) for _ in range(20)]
    await asyncio.sleep(0)
    source.gate.set()
    snapshots = await asyncio.gather(*waiting)
    assert source.loads == 1
    assert all(s is snapshots[0] for s in snapshots)
    await registry.close()


async def test_stale_snapshot_is_served_while_a_refresh_runs() -> None:
    clock = FakeClock()
    source = Source([pod("Pod1")])
    registry = PodRegistry(source.load, clock=clock, ttl=5)
    old = await registry.snapshot()
    source.pods = [pod("Pod1"), pod("Pod2")]
    clock.advance(6)
    source.gate = asyncio.Event()
    assert await registry.snapshot() is old  # no wait on the database
    source.gate.set()
    await asyncio.sleep(0.01)
    new = await registry.snapshot()
    assert [p.name for p in new.pods] == ["Pod1", "Pod2"]
    assert source.loads == 2
    await registry.close()


async def test_invalidate_makes_the_next_call_wait_for_a_load() -> None:
    source = Source([pod("Pod1")])
    registry = PodRegistry(source.load, clock=FakeClock(), ttl=3600)
    await registry.snapshot()
    source.pods = [dataclasses.replace(source.pods[0], az_name="az9")]
    registry.invalidate()
    assert (await registry.snapshot()).pods[0].az_name == "az9"
    await registry.close()


async def test_versions_read_only_when_new_changed_back_up_or_old() -> None:
    clock = FakeClock()
    source = Source([pod("Pod1"), pod("Down", PodStatus.DOWN), pod("Broken"), pod("Top", az="")])
    registry = PodRegistry(source.load, source.versions, clock=clock, ttl=1, versions_ttl=100)
    snap = await registry.refresh()
    assert sorted(source.version_reads) == ["Broken", "Pod1"]  # up bottom pods only
    assert snap.by_name("Broken").versions == {}  # type: ignore[union-attr]

    source.version_reads.clear()
    clock.advance(2)
    await registry.refresh()
    assert source.version_reads == ["Broken"]  # Pod1's range is known; Broken's is not

    source.version_reads.clear()
    source.pods = [pod("Pod1", compute="http://moved/v2.1"), pod("Down"), pod("Broken"), pod("Top", az="")]
    await registry.refresh()
    assert sorted(source.version_reads) == ["Broken", "Down", "Pod1"]  # changed endpoint, came back up

    source.version_reads.clear()
    await registry.refresh()
    assert source.version_reads == ["Broken"]
    clock.advance(101)
    source.version_reads.clear()
    await registry.refresh()
    assert sorted(source.version_reads) == ["Broken", "Down", "Pod1"]  # too old
    await registry.close()


async def test_db_loader_reads_every_pod(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        top = await pods_db.create(session, region_name="RegionOne")
        one = await pods_db.create(session, region_name="Pod1", az_name="az1", pod_az_name="nova")
        await set_pod(session, one.pod_id, endpoints={"compute": "http://n/v2.1"}, status=PodStatus.UP)
    snap = await PodRegistry(db_loader(sessions)).refresh()
    assert [(p.name, p.is_top, p.az_name, p.pod_az_name, p.status) for p in snap.pods] == [
        ("RegionOne", True, "", "", PodStatus.UNKNOWN),
        ("Pod1", False, "az1", "nova", PodStatus.UP),
    ]
    assert snap.get(top.pod_id) is snap.top
    assert snap.by_name("Pod1").url("compute") == "http://n/v2.1"  # type: ignore[union-attr]


def test_base_url_drops_the_project_id_cinder_catalogs_carry() -> None:
    assert base_url("http://c:8776/v3/0123456789abcdef0123456789abcdef") == "http://c:8776/v3"
    assert base_url("http://c:8776/v3/%(project_id)s") == "http://c:8776/v3"
    assert base_url("http://n:8774/v2.1/") == "http://n:8774/v2.1"
    info = pod("Pod1", volumev3="http://c/v3/0123456789abcdef0123456789abcdef")
    assert info.url("volume") == "http://c/v3"
    assert info.has("volume")
    assert not info.has("image")
