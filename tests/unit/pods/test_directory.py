from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.core.clock import FakeClock
from atoll.core.errors import ServiceUnavailable
from atoll.db import pods as pods_db
from atoll.db.models import Pod
from atoll.pods.directory import PodDirectory
from atoll.types import PodId, PodStatus
from tests.unit.pods.versions_docs import NEUTRON, NOVA

Sessions = async_sessionmaker[AsyncSession]
SERVICES = {"nova": NOVA, "neutron": NEUTRON}

CATALOG = {
    "Pod1": {"compute": "http://nova.pod1", "network": "http://neutron.pod1"},
    "Pod2": {"compute": "http://nova.pod2"},
}


class FakeCatalog:
    def __init__(self, regions: dict[str, dict[str, str]]) -> None:
        self.regions_by_name = regions
        self.asked: list[list[str]] = []
        self.error: ServiceUnavailable | None = None

    async def regions(self, region_names: Iterable[str]) -> Mapping[str, dict[str, str]]:
        names = sorted(region_names)
        self.asked.append(names)
        if self.error is not None:
            raise self.error
        return {n: self.regions_by_name[n] for n in names if n in self.regions_by_name}


class FakePods:
    """Hosts that answer, by name, with their service's version document; any other host refuses the connection."""

    def __init__(self, up: set[str]) -> None:
        self.up = up
        self.hits: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.hits.append(request.url.host)
        if request.url.host in self.up:
            return httpx.Response(200, json=SERVICES[request.url.host.split(".")[0]])
        raise httpx.ConnectError("Connection refused")


async def _pods(sessions: Sessions, *regions: str) -> list[PodId]:
    async with sessions.begin() as session:
        return [PodId((await pods_db.create(session, region_name=r, az_name="az1")).pod_id) for r in regions]


async def _get(sessions: Sessions, pod_id: str) -> Pod:
    async with sessions() as session:
        return await pods_db.get(session, pod_id)


MakeDirectory = Callable[[FakeCatalog | None, FakePods, FakeClock], PodDirectory]


@pytest.fixture
async def make_directory(sessions: Sessions) -> AsyncIterator[MakeDirectory]:
    """Builds directories whose pods are `FakePods`; closes their clients after the test."""
    clients: list[httpx.AsyncClient] = []

    def make(catalog: FakeCatalog | None, pods: FakePods, clock: FakeClock) -> PodDirectory:
        clients.append(httpx.AsyncClient(transport=httpx.MockTransport(pods.handler)))
        return PodDirectory(sessions, catalog, clients[-1], clock, probe_timeout=1.0)

    yield make
    for client in clients:
        await client.aclose()


async def test_discover_stores_endpoints(sessions: Sessions, make_directory: MakeDirectory) -> None:
    clock = FakeClock()
    pod1, pod2, pod3 = await _pods(sessions, "Pod1", "Pod2", "Pod3")
    catalog = FakeCatalog(CATALOG)
    await make_directory(catalog, FakePods(set()), clock).discover()
    assert catalog.asked == [["Pod1", "Pod2", "Pod3"]]
    first, second, third = [await _get(sessions, p) for p in (pod1, pod2, pod3)]
    assert first.endpoints == CATALOG["Pod1"]
    assert second.endpoints == CATALOG["Pod2"]
    assert third.endpoints == {}  # not in the catalog
    assert first.endpoints_updated_at == clock.now()


async def test_discover_only_the_given_pods(sessions: Sessions, make_directory: MakeDirectory) -> None:
    pod1, pod2 = await _pods(sessions, "Pod1", "Pod2")
    catalog = FakeCatalog(CATALOG)
    await make_directory(catalog, FakePods(set()), FakeClock()).discover([pod2, PodId("gone")])
    assert catalog.asked == [["Pod2"]]
    assert (await _get(sessions, pod1)).endpoints == {}
    assert (await _get(sessions, pod2)).endpoints == CATALOG["Pod2"]


async def test_catalog_failure_keeps_existing_endpoints(sessions: Sessions, make_directory: MakeDirectory) -> None:
    clock = FakeClock()
    pod1, pod2 = await _pods(sessions, "Pod1", "Pod2")
    catalog = FakeCatalog(CATALOG)
    directory = make_directory(catalog, FakePods({"nova.pod1", "neutron.pod1"}), clock)
    await directory.discover([pod1])
    await directory.probe([pod1])
    discovered_at = (await _get(sessions, pod1)).endpoints_updated_at

    catalog.error = ServiceUnavailable("Keystone catalog could not be read: ConnectFailure")
    clock.advance(300)
    await directory.discover()
    first, second = await _get(sessions, pod1), await _get(sessions, pod2)
    assert first.endpoints == CATALOG["Pod1"]
    assert first.endpoints_updated_at == discovered_at
    assert (first.status, first.status_reason) == (PodStatus.UP, "")  # a known status is not overwritten
    assert second.endpoints == {}
    assert second.status == PodStatus.UNKNOWN
    assert second.status_reason == "endpoint discovery failed: Keystone catalog could not be read: ConnectFailure"


async def test_without_a_catalog_the_reason_says_so(sessions: Sessions, make_directory: MakeDirectory) -> None:
    [pod] = await _pods(sessions, "Pod1")
    await make_directory(None, FakePods(set()), FakeClock()).discover()
    stored = await _get(sessions, pod)
    assert stored.endpoints == {}
    assert "[service_auth]" in stored.status_reason


async def test_probe_stores_status_reason_and_last_seen(sessions: Sessions, make_directory: MakeDirectory) -> None:
    clock = FakeClock()
    pod1, pod2 = await _pods(sessions, "Pod1", "Pod2")
    pods = FakePods({"nova.pod1", "neutron.pod1", "nova.pod2"})
    directory = make_directory(FakeCatalog(CATALOG), pods, clock)
    await directory.discover()
    await directory.probe()
    up1, up2 = await _get(sessions, pod1), await _get(sessions, pod2)
    assert (up1.status, up1.status_reason, up1.last_seen_at) == (PodStatus.UP, "", clock.now())
    assert (up2.status, up2.last_seen_at) == (PodStatus.UP, clock.now())
    seen_at = clock.now()

    # Pod1 half down: still seen. Pod2 entirely down: last seen stays where it was.
    clock.advance(30)
    pods.up = {"nova.pod1"}
    await directory.probe()
    half, gone = await _get(sessions, pod1), await _get(sessions, pod2)
    assert (half.status, half.status_reason, half.last_seen_at) == (
        PodStatus.DOWN,
        "network: unreachable (ConnectError)",
        clock.now(),
    )
    assert (gone.status, gone.status_reason, gone.last_seen_at) == (
        PodStatus.DOWN,
        "compute: unreachable (ConnectError)",
        seen_at,
    )


async def test_probe_of_a_pod_without_endpoints(sessions: Sessions, make_directory: MakeDirectory) -> None:
    [pod] = await _pods(sessions, "Pod1")
    pods = FakePods(set())
    await make_directory(FakeCatalog({}), pods, FakeClock()).probe([pod])
    stored = await _get(sessions, pod)
    assert stored.status == PodStatus.DOWN
    assert "no endpoints" in stored.status_reason
    assert stored.last_seen_at is None
    assert pods.hits == []


async def test_refresh_discovers_then_probes_only_the_given_pod(
    sessions: Sessions, make_directory: MakeDirectory
) -> None:
    clock = FakeClock()
    pod1, pod2 = await _pods(sessions, "Pod1", "Pod2")
    pods = FakePods({"nova.pod1", "neutron.pod1", "nova.pod2"})
    await make_directory(FakeCatalog(CATALOG), pods, clock).refresh([pod1])
    refreshed, untouched = await _get(sessions, pod1), await _get(sessions, pod2)
    assert (refreshed.endpoints, refreshed.status) == (CATALOG["Pod1"], PodStatus.UP)
    assert (untouched.endpoints, untouched.status) == ({}, PodStatus.UNKNOWN)
    assert sorted(pods.hits) == ["neutron.pod1", "nova.pod1"]


async def _rename(sessions: Sessions, pod_id: str, region: str) -> None:
    async with sessions.begin() as session:
        await pods_db.update(session, pod_id, {"region_name": region})


async def test_a_pod_renamed_during_discovery_keeps_no_endpoints_of_its_old_region(
    sessions: Sessions, make_directory: MakeDirectory
) -> None:
    [pod] = await _pods(sessions, "Pod1")

    class RenamingCatalog(FakeCatalog):
        async def regions(self, region_names: Iterable[str]) -> Mapping[str, dict[str, str]]:
            found = await super().regions(region_names)
            await _rename(sessions, pod, "Pod2")  # the operator renames it while the catalog is read
            return found

    await make_directory(RenamingCatalog(CATALOG), FakePods(set()), FakeClock()).discover()
    renamed = await _get(sessions, pod)
    assert (renamed.region_name, renamed.endpoints, renamed.endpoints_updated_at) == ("Pod2", {}, None)
    assert renamed.status == PodStatus.UNKNOWN


async def test_a_pod_renamed_during_a_probe_keeps_no_health_of_its_old_region(
    sessions: Sessions, make_directory: MakeDirectory
) -> None:
    [pod] = await _pods(sessions, "Pod1")
    pods = FakePods({"nova.pod1", "neutron.pod1"})
    directory = make_directory(FakeCatalog(CATALOG), pods, FakeClock())
    await directory.discover()
    renamed: list[bool] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if not renamed:
            renamed.append(True)
            await _rename(sessions, pod, "Pod2")
        return pods.handler(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        await PodDirectory(sessions, FakeCatalog(CATALOG), client, FakeClock(), probe_timeout=1.0).probe([pod])
    stored = await _get(sessions, pod)
    assert (stored.region_name, stored.status, stored.last_seen_at) == ("Pod2", PodStatus.UNKNOWN, None)
    assert stored.status_reason == "region changed; endpoints not discovered yet"


async def test_a_pod_deleted_during_discovery_is_not_written(sessions: Sessions, make_directory: MakeDirectory) -> None:
    pod1, pod2 = await _pods(sessions, "Pod1", "Pod2")

    class DeletingCatalog(FakeCatalog):
        async def regions(self, region_names: Iterable[str]) -> Mapping[str, dict[str, str]]:
            async with sessions.begin() as session:
                await pods_db.delete(session, pod1)
            return await super().regions(region_names)

    await make_directory(DeletingCatalog(CATALOG), FakePods(set()), FakeClock()).discover()
    async with sessions() as session:
        assert [p.pod_id for p in await pods_db.list_all(session)] == [pod2]
    assert (await _get(sessions, pod2)).endpoints == CATALOG["Pod2"]


async def test_the_probe_discovers_a_pod_never_discovered(sessions: Sessions, make_directory: MakeDirectory) -> None:
    """The engine picks a new pod up at its next probe, not only at its next discovery."""
    [pod] = await _pods(sessions, "Pod1")
    catalog = FakeCatalog(CATALOG)
    directory = make_directory(catalog, FakePods({"nova.pod1", "neutron.pod1"}), FakeClock())
    await directory.probe()
    stored = await _get(sessions, pod)
    assert (stored.endpoints, stored.status) == (CATALOG["Pod1"], PodStatus.UP)
    await directory.probe()
    assert catalog.asked == [["Pod1"]]  # once discovered, probes do not read the catalog again
