from __future__ import annotations

from atoll.pods.client import PodLimits
from atoll.pods.info import PodInfo
from atoll.pods.microversions import APIVersion, VersionRange
from atoll.pods.pool import PodClients, version_reader
from atoll.types import PodId, PodStatus, RegionName
from tests.unit.pods.fakepod import FakePod, serve
from tests.unit.pods.test_microversions import CINDER_ROOT, NOVA_ROOT


def _pod(name: str, endpoints: dict[str, str]) -> PodInfo:
    return PodInfo(PodId(name), RegionName(name), "az1", "", False, endpoints, PodStatus.UP)


async def test_one_client_per_pod_and_closed_when_forgotten() -> None:
    clients = PodClients(PodLimits(connections=7))
    one, two = _pod("Pod1", {}), _pod("Pod2", {})
    assert clients(one) is clients(one)
    assert clients(one) is not clients(two)
    assert clients(one).limits.connections == 7  # type: ignore[attr-defined]
    first = clients(one)
    await clients.forget([two.pod_id])
    assert clients(one) is not first
    assert clients(two) is clients(two)
    await clients.close()


async def test_version_reader_reads_the_roots_of_nova_and_cinder() -> None:
    pod = FakePod()
    pod.json("GET", "/compute/", NOVA_ROOT)
    pod.json("GET", "/volume/", CINDER_ROOT, status=300)
    clients = PodClients()
    async with serve(pod):
        info = _pod("Pod1", {"compute": pod.url + "/compute/v2.1", "volumev3": pod.url + "/volume/v3/%(project_id)s"})
        ranges = await version_reader(clients)(info)
        only_image = await version_reader(clients)(_pod("Pod2", {"image": pod.url + "/image"}))
    await clients.close()
    assert ranges == {
        "compute": VersionRange(APIVersion(2, 1), APIVersion(2, 96)),
        "volume": VersionRange(APIVersion(3, 0), APIVersion(3, 71)),
    }
    assert only_image == {}
    assert [s["path"] for s in pod.seen] == ["/compute/", "/volume/"]
