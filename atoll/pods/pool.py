"""The pod clients of one process: one `PodClient` per pod, made on first use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from atoll.pods.client import PodClient, PodLimits
from atoll.pods.h1 import H1PodClient
from atoll.pods.info import PodInfo
from atoll.pods.microversions import VersionRange, range_from_document
from atoll.pods.versions import version_root
from atoll.types import PodId

ClientFactory = Callable[[str, PodLimits], PodClient]


class PodClients:
    def __init__(self, limits: PodLimits | None = None, factory: ClientFactory = H1PodClient) -> None:
        self.limits = limits or PodLimits()
        self._factory = factory
        self._clients: dict[PodId, PodClient] = {}

    def __call__(self, pod: PodInfo) -> PodClient:
        client = self._clients.get(pod.pod_id)
        if client is None:
            client = self._clients[pod.pod_id] = self._factory(pod.name, self.limits)
        return client

    async def forget(self, keep: Iterable[PodId]) -> None:
        """Close the clients of pods that are gone (unregistered)."""
        wanted = set(keep)
        for pod_id in [p for p in self._clients if p not in wanted]:
            await self._clients.pop(pod_id).close()

    async def close(self) -> None:
        await self.forget(())


MICROVERSIONED: dict[str, int] = {"compute": 2, "volume": 3}
"""Services with microversions, and the major version Atoll serves of each."""


def version_reader(
    clients: PodClients, timeout: float = 5.0
) -> Callable[[PodInfo], Awaitable[dict[str, VersionRange]]]:
    """Reads a pod's microversion ranges from each service's root version document
    (Nova `/`, Cinder `/`: both public, and both list min_version/version)."""

    async def read(pod: PodInfo) -> dict[str, VersionRange]:
        found: dict[str, VersionRange] = {}
        for service, major in MICROVERSIONED.items():
            if not pod.has(service):
                continue
            root = version_root(pod.url(service))
            response = await clients(pod).request("GET", root, token=None, timeout=timeout)
            if response.status in (200, 300):
                found_range = range_from_document(response.json(), major)
                if found_range is not None:
                    found[service] = found_range
        return found

    return read
