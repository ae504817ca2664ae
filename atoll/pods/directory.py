"""Keeps every pod's endpoints and health in the database up to date."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Protocol

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.core.clock import Clock
from atoll.core.errors import AtollError
from atoll.db import pods as pods_db
from atoll.pods.health import probe
from atoll.types import PodId, PodStatus

LOG = logging.getLogger(__name__)


class Catalog(Protocol):
    async def regions(self, region_names: Iterable[str]) -> Mapping[str, dict[str, str]]: ...


class PodDirectory:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        catalog: Catalog | None,
        client: httpx.AsyncClient,
        clock: Clock,
        probe_timeout: float = 5.0,
    ) -> None:
        self._sessions = sessions
        self._catalog = catalog
        self._client = client
        self._clock = clock
        self._probe_timeout = probe_timeout

    async def discover(self, pod_ids: Iterable[PodId] | None = None) -> None:
        """Read the endpoints of the given pods (all when None) from the catalog and store them."""
        async with self._sessions() as session:
            pods = {p.pod_id: p.region_name for p in await pods_db.list_all(session)}
        wanted = {pid: pods[pid] for pid in (pod_ids if pod_ids is not None else pods) if pid in pods}
        if not wanted:
            return
        if self._catalog is None:
            await self._mark_all(wanted, "Atoll has no [service_auth] credentials to read the catalog")
            return
        try:
            found = await self._catalog.regions(wanted.values())
        except AtollError as error:
            LOG.warning("Endpoint discovery failed: %s", error.message)
            await self._mark_all(wanted, f"endpoint discovery failed: {error.message}", only_unknown=True)
            return
        now = self._clock.now()
        async with self._sessions.begin() as session:
            for pod_id, region in wanted.items():
                await pods_db.set_endpoints(session, PodId(pod_id), found.get(region, {}), now)

    async def _mark_all(self, pods: Mapping[str, str], reason: str, *, only_unknown: bool = False) -> None:
        async with self._sessions.begin() as session:
            for pod_id in pods:
                pod = await pods_db.get(session, pod_id)
                if not only_unknown or pod.status == PodStatus.UNKNOWN:
                    await pods_db.set_status(session, PodId(pod_id), PodStatus(pod.status), reason, None)

    async def probe(self, pod_ids: Iterable[PodId] | None = None) -> None:
        """Probe the given pods' (all when None) services concurrently and store what was seen."""
        wanted = set(pod_ids) if pod_ids is not None else None
        async with self._sessions() as session:
            pods = [
                (PodId(p.pod_id), dict(p.endpoints))
                for p in await pods_db.list_all(session)
                if wanted is None or p.pod_id in wanted
            ]
        healths = await asyncio.gather(*(probe(self._client, eps, self._probe_timeout) for _, eps in pods))
        now = self._clock.now()
        async with self._sessions.begin() as session:
            for (pod_id, _), health in zip(pods, healths, strict=True):
                await pods_db.set_status(
                    session, pod_id, health.status, health.reason, now if health.answered else None
                )

    async def refresh(self, pod_ids: Iterable[PodId]) -> None:
        """Discover then probe, for a pod just registered or changed."""
        ids = list(pod_ids)
        await self.discover(ids)
        await self.probe(ids)
