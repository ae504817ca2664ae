"""Keeps every pod's endpoints and health in the database up to date.

Discovery and probes read each pod's state, do their slow work (the
catalog, HTTP probes) outside any transaction, then write what they found
against the state they read (`pods_db.PodState`): a pod renamed,
rediscovered or deleted meanwhile keeps its newer state, nothing stale is
written over it.
"""

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

    async def _states(self, pod_ids: Iterable[PodId] | None) -> list[pods_db.PodState]:
        async with self._sessions() as session:
            return await pods_db.list_states(session, pod_ids)

    async def discover(self, pod_ids: Iterable[PodId] | None = None) -> None:
        """Read the endpoints of the given pods (all when None) from the catalog and store them."""
        await self._discover(await self._states(pod_ids))

    async def _discover(self, pods: list[pods_db.PodState]) -> None:
        if not pods:
            return
        if self._catalog is None:
            await self._mark(pods, "Atoll has no [service_auth] credentials to read the catalog")
            return
        try:
            found = await self._catalog.regions([p.region_name for p in pods])
        except AtollError as error:
            LOG.warning("Endpoint discovery failed: %s", error.message)
            unknown = [p for p in pods if p.status == PodStatus.UNKNOWN]
            await self._mark(unknown, f"endpoint discovery failed: {error.message}")
            return
        now = self._clock.now()
        async with self._sessions.begin() as session:
            for pod in pods:
                if not await pods_db.set_endpoints(session, pod, found.get(pod.region_name, {}), now):
                    _changed(pod, "discovered")

    async def _mark(self, pods: list[pods_db.PodState], reason: str) -> None:
        async with self._sessions.begin() as session:
            for pod in pods:
                await pods_db.set_status(session, pod, pod.status, reason, None)

    async def probe(self, pod_ids: Iterable[PodId] | None = None) -> None:
        """Probe the given pods' (all when None) services concurrently and store what was seen.

        A pod whose endpoints were never discovered (just registered, or the
        catalog was unreachable) is discovered first, so the engine picks new
        pods up at its next probe rather than at its next discovery.
        """
        pods = await self._states(pod_ids)
        undiscovered = [p for p in pods if not p.discovered]
        if undiscovered and self._catalog is not None:
            await self._discover(undiscovered)
            pods = await self._states(pod_ids)
        healths = await asyncio.gather(*(probe(self._client, p.endpoints, self._probe_timeout) for p in pods))
        now = self._clock.now()
        async with self._sessions.begin() as session:
            for pod, health in zip(pods, healths, strict=True):
                seen_at = now if health.answered else None
                if not await pods_db.set_status(session, pod, health.status, health.reason, seen_at):
                    _changed(pod, "probed")

    async def refresh(self, pod_ids: Iterable[PodId]) -> None:
        """Discover then probe, for a pod just registered or changed."""
        ids = list(pod_ids)
        await self.discover(ids)
        await self.probe(ids)


def _changed(pod: pods_db.PodState, what: str) -> None:
    LOG.info(
        "Pod %s (%s) changed or was deleted while it was %s; its newer state is kept", pod.pod_id, pod.region_name, what
    )
