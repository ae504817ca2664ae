"""Pods in memory, so a proxied call does no SQL in the common case.

`PodRegistry.snapshot()` returns an immutable `PodSnapshot`. The first call loads it;
afterwards a snapshot older than `ttl` is refreshed in the background while callers
keep the one they have (the admin API calls `invalidate()` after it changes a pod, so
this process sees the change at once; other processes see it within `ttl`). A refresh
also reads the microversion range of each up pod's compute and volume service from its
version document, again only when the pod is new, changed, came back up or its range
is older than `versions_ttl`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.core.clock import Clock, SystemClock
from atoll.core.errors import AtollError
from atoll.db import pods as pods_db
from atoll.pods.info import PodInfo
from atoll.pods.microversions import VersionRange
from atoll.types import PodId, PodStatus, RegionName

LOG = logging.getLogger(__name__)

Loader = Callable[[], Awaitable[Sequence[PodInfo]]]
VersionReader = Callable[[PodInfo], Awaitable[Mapping[str, VersionRange]]]


@dataclasses.dataclass(frozen=True)
class PodSnapshot:
    pods: tuple[PodInfo, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {p.pod_id: p for p in self.pods})
        object.__setattr__(self, "_by_name", {p.region_name: p for p in self.pods})

    def get(self, pod_id: str) -> PodInfo | None:
        by_id: dict[str, PodInfo] = object.__getattribute__(self, "_by_id")
        return by_id.get(pod_id)

    def by_name(self, name: str) -> PodInfo | None:
        by_name: dict[str, PodInfo] = object.__getattribute__(self, "_by_name")
        return by_name.get(name)

    @property
    def top(self) -> PodInfo | None:
        return next((p for p in self.pods if p.is_top), None)

    @property
    def bottoms(self) -> tuple[PodInfo, ...]:
        """The pods that hold resources (every pod but the top one), in registration order."""
        return tuple(p for p in self.pods if not p.is_top)

    def azs(self) -> dict[str, tuple[PodInfo, ...]]:
        """Atoll's availability zones and their pods, in the order the AZs first appear."""
        zones: dict[str, list[PodInfo]] = {}
        for pod in self.bottoms:
            zones.setdefault(pod.az_name, []).append(pod)
        return {az: tuple(pods) for az, pods in zones.items()}


def db_loader(sessions: async_sessionmaker[AsyncSession]) -> Loader:
    async def load() -> Sequence[PodInfo]:
        async with sessions() as session:
            rows = await pods_db.list_all(session)
            return [
                PodInfo(
                    pod_id=PodId(row.pod_id),
                    region_name=RegionName(row.region_name),
                    az_name=row.az_name,
                    pod_az_name=row.pod_az_name,
                    is_top=bool(row.is_top),
                    endpoints=dict(row.endpoints),
                    status=PodStatus(row.status),
                )
                for row in rows
            ]

    return load


@dataclasses.dataclass
class _Known:
    endpoints: Mapping[str, str]
    status: PodStatus
    versions: Mapping[str, VersionRange]
    read_at: float


class PodRegistry:
    def __init__(
        self,
        load: Loader,
        read_versions: VersionReader | None = None,
        *,
        clock: Clock | None = None,
        ttl: float = 5.0,
        versions_ttl: float = 300.0,
    ) -> None:
        self._load = load
        self._read_versions = read_versions
        self._clock = clock or SystemClock()
        self._ttl = ttl
        self._versions_ttl = versions_ttl
        self._snapshot: PodSnapshot | None = None
        self._loaded_at = 0.0
        self._known: dict[PodId, _Known] = {}
        self._refreshing: asyncio.Task[PodSnapshot] | None = None

    def invalidate(self) -> None:
        """The next `snapshot()` waits for a fresh load (pods changed in this process)."""
        self._snapshot = None

    async def snapshot(self) -> PodSnapshot:
        if self._snapshot is None:
            return await self._refresh_once()
        if self._clock.monotonic() - self._loaded_at >= self._ttl and self._refreshing is None:
            self._start_background_refresh()
        return self._snapshot

    async def refresh(self) -> PodSnapshot:
        """Load now (and wait for it)."""
        return await self._refresh_once()

    async def _refresh_once(self) -> PodSnapshot:
        # Single flight: callers arriving during a load wait for that same load.
        if self._refreshing is None:
            self._refreshing = asyncio.create_task(self._refresh())
            self._refreshing.add_done_callback(self._refreshed)
        return await asyncio.shield(self._refreshing)

    def _start_background_refresh(self) -> None:
        self._refreshing = asyncio.create_task(self._refresh())
        self._refreshing.add_done_callback(self._refreshed)

    def _refreshed(self, task: asyncio.Task[PodSnapshot]) -> None:
        self._refreshing = None
        if not task.cancelled() and task.exception() is not None:
            LOG.error("Refreshing the pod registry failed: %r", task.exception())

    async def _refresh(self) -> PodSnapshot:
        pods = list(await self._load())
        now = self._clock.monotonic()
        stale = [p for p in pods if self._needs_versions(p, now)]
        if stale and self._read_versions is not None:
            ranges = await asyncio.gather(*(self._versions_of(p) for p in stale))
            for pod, versions in zip(stale, ranges, strict=True):
                self._known[pod.pod_id] = _Known(pod.endpoints, pod.status, versions, now)
        for pod in pods:
            known = self._known.get(pod.pod_id)
            if known is not None:
                known.status = pod.status
        self._known = {p.pod_id: self._known[p.pod_id] for p in pods if p.pod_id in self._known}
        snapshot = PodSnapshot(tuple(self._with_versions(p) for p in pods))
        self._snapshot, self._loaded_at = snapshot, now
        return snapshot

    def _needs_versions(self, pod: PodInfo, now: float) -> bool:
        if not pod.is_up or pod.is_top:
            return False
        known = self._known.get(pod.pod_id)
        return (
            known is None
            or known.endpoints != pod.endpoints
            or known.status != PodStatus.UP
            or not known.versions
            or now - known.read_at >= self._versions_ttl
        )

    async def _versions_of(self, pod: PodInfo) -> Mapping[str, VersionRange]:
        assert self._read_versions is not None
        try:
            return await self._read_versions(pod)
        except AtollError as error:
            LOG.warning("Could not read the API versions of pod %s: %s", pod.name, error.message)
            return {}

    def _with_versions(self, pod: PodInfo) -> PodInfo:
        known = self._known.get(pod.pod_id)
        return dataclasses.replace(pod, versions=known.versions) if known else pod

    async def close(self) -> None:
        task = self._refreshing
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def pod_ids(pods: Iterable[PodInfo]) -> list[PodId]:
    return [p.pod_id for p in pods]
