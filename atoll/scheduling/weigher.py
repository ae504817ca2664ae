"""Pod weighers: which of several healthy pods suits a new resource best (higher is better).

The default reads each pod's free capacity from its Placement service with Atoll's
service token, and caches it briefly: a burst of creates costs one read per pod.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import cachetools

from atoll.core.clock import Clock, SystemClock
from atoll.core.errors import AtollError
from atoll.pods.info import PodInfo
from atoll.pods.pool import PodClients

LOG = logging.getLogger(__name__)

ServiceToken = Callable[[bool], Awaitable[str]]

PLACEMENT_VERSION = "placement 1.17"


class Weigher(Protocol):
    async def weigh(self, pods: Sequence[PodInfo]) -> list[float]:
        """One weight per pod, in order."""
        ...


class EvenWeigher:
    """Every pod weighs the same: the first healthy pod of the AZ wins (tests, single-pod AZs)."""

    async def weigh(self, pods: Sequence[PodInfo]) -> list[float]:
        return [0.0 for _ in pods]


def free_share(inventories: dict[str, Any], usages: dict[str, Any]) -> float:
    """The smallest free fraction of VCPU, MEMORY_MB and DISK_GB of one resource provider."""
    shares = []
    for kind in ("VCPU", "MEMORY_MB", "DISK_GB"):
        inventory = inventories.get(kind)
        if not inventory:
            continue
        capacity = (inventory["total"] - inventory.get("reserved", 0)) * inventory.get("allocation_ratio", 1.0)
        if capacity > 0:
            shares.append(max(0.0, capacity - usages.get(kind, 0)) / capacity)
    return min(shares) if shares else 0.0


class PlacementWeigher:
    def __init__(
        self,
        clients: PodClients,
        service_token: ServiceToken,
        *,
        cache_time: float = 10.0,
        timeout: float = 5.0,
        clock: Clock | None = None,
    ) -> None:
        self._clients = clients
        self._token = service_token
        self._timeout = timeout
        clock = clock or SystemClock()
        self._cache: cachetools.TTLCache[str, float] = cachetools.TTLCache(
            maxsize=10_000, ttl=max(cache_time, 0.001), timer=clock.monotonic
        )

    async def weigh(self, pods: Sequence[PodInfo]) -> list[float]:
        return list(await asyncio.gather(*(self._weight(p) for p in pods)))

    async def _weight(self, pod: PodInfo) -> float:
        cached = self._cache.get(pod.pod_id)
        if cached is not None:
            return cached
        try:
            weight = await self._read(pod)
        except (AtollError, KeyError, TypeError, ValueError) as error:
            LOG.warning("Capacity of pod %s could not be read from Placement: %r", pod.name, error)
            weight = 0.0
        self._cache[pod.pod_id] = weight
        return weight

    async def _get(self, pod: PodInfo, path: str) -> dict[str, Any]:
        token = await self._token(False)
        response = await self._clients(pod).request(
            "GET",
            pod.url("placement") + path,
            token=token,
            headers={"OpenStack-API-Version": PLACEMENT_VERSION},
            timeout=self._timeout,
        )
        if response.status != 200:
            raise ValueError(f"Placement answered {response.status} to GET {path}")
        document: dict[str, Any] = response.json()
        return document

    async def _read(self, pod: PodInfo) -> float:
        providers = (await self._get(pod, "/resource_providers"))["resource_providers"]
        total = 0.0
        for provider in providers:
            uuid = provider["uuid"]
            inventories = (await self._get(pod, f"/resource_providers/{uuid}/inventories"))["inventories"]
            usages = (await self._get(pod, f"/resource_providers/{uuid}/usages"))["usages"]
            total += free_share(inventories, usages)
        return total
