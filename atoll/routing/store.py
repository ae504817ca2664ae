"""The routing table as the gateway uses it: look up (cached), reserve, confirm, adopt, forget.

Confirmed routings never change (a server does not move between pods), so a lookup
is cached per process; a forwarded call that the pod answers 404 drops its entry
(`forget`), which also covers a routing deleted by another process.
"""

from __future__ import annotations

import dataclasses
import uuid

import cachetools
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.core.errors import Conflict, InvalidInput
from atoll.db import routings as routings_db
from atoll.db.models import ResourceRouting
from atoll.types import PodId, ProjectId, ResourceType


@dataclasses.dataclass(frozen=True)
class Route:
    top_id: str
    bottom_id: str
    pod_id: PodId
    project_id: ProjectId


@dataclasses.dataclass(frozen=True)
class Reservation:
    routing_id: int
    pod_id: PodId
    resource_type: ResourceType


class RoutingStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], cache_size: int = 100_000) -> None:
        self._sessions = sessions
        self._cache: cachetools.LRUCache[tuple[str, str], Route] = cachetools.LRUCache(cache_size)
        self._pod_cache: cachetools.LRUCache[tuple[str, str, str], Route] = cachetools.LRUCache(cache_size)
        self._holding: cachetools.TTLCache[tuple[str, str], frozenset[PodId]] = cachetools.TTLCache(10_000, ttl=30)

    async def lookup(self, top_id: str, resource_type: ResourceType) -> Route | None:
        key = (resource_type.value, top_id)
        route = self._cache.get(key)
        if route is not None:
            return route
        async with self._sessions() as session:
            rows = await routings_db.find(session, top_id, resource_type.value)
        if not rows:
            return None
        route = self._cache[key] = _route(rows[0])
        return route

    async def lookup_in(self, top_id: str, resource_type: ResourceType, pod_id: PodId) -> Route | None:
        """The routing of a top id in one pod (a top network is realized in several pods)."""
        key = (resource_type.value, top_id, pod_id)
        route = self._pod_cache.get(key)
        if route is not None:
            return route
        async with self._sessions() as session:
            rows = await routings_db.find(session, top_id, resource_type.value)
        row = next((r for r in rows if r.pod_id == pod_id), None)
        if row is None:
            return None
        route = self._pod_cache[key] = _route(row)
        return route

    async def pods_holding(self, project_id: str, resource_type: ResourceType) -> frozenset[PodId]:
        """The pods a project's routed resources of a type live in (a hint for lists: cached 30 s)."""
        key = (project_id, resource_type.value)
        found = self._holding.get(key)
        if found is None:
            async with self._sessions() as session:
                pods = await routings_db.pods_holding(session, project_id, resource_type.value)
            found = self._holding[key] = frozenset(PodId(pod) for pod in pods)
        return found

    async def routes(self, top_id: str, resource_type: ResourceType) -> list[Route]:
        """The confirmed routings of a top id in every pod it was realized in."""
        async with self._sessions() as session:
            rows = await routings_db.find(session, top_id, resource_type.value)
        return [_route(row) for row in rows]

    async def of_type(self, resource_type: ResourceType) -> list[Route]:
        """Every confirmed routing of a kind of resource, oldest first."""
        async with self._sessions() as session:
            rows = await routings_db.of_type(session, resource_type.value)
        return [_route(row) for row in rows]

    async def held(self, top_id: str, resource_type: ResourceType, pod_id: PodId) -> Reservation | None:
        """The reservation another caller holds on a top id in a pod, if any."""
        async with self._sessions() as session:
            routing_id = await routings_db.reservation(session, top_id, resource_type.value, pod_id)
        return None if routing_id is None else Reservation(routing_id, pod_id, resource_type)

    async def reserve(
        self, pod_id: PodId, project_id: ProjectId, resource_type: ResourceType, top_id: str | None = None
    ) -> Reservation:
        """A reservation for a resource about to be made in `pod_id`. Without a top id (the pod
        makes the id: servers), a unique placeholder holds the row until `confirm`."""
        async with self._sessions.begin() as session:
            routing_id = await routings_db.reserve(
                session,
                top_id=top_id or f"reserved-{uuid.uuid4()}",
                pod_id=pod_id,
                project_id=project_id,
                resource_type=resource_type.value,
            )
        return Reservation(routing_id, pod_id, resource_type)

    async def confirm(self, reservation: Reservation, top_id: str, bottom_id: str, project_id: ProjectId) -> Route:
        async with self._sessions.begin() as session:
            await routings_db.confirm(
                session, reservation.routing_id, top_id=top_id, bottom_id=bottom_id, project_id=project_id
            )
        route = Route(top_id, bottom_id, reservation.pod_id, project_id)
        self._cache[(reservation.resource_type.value, top_id)] = route
        self._pod_cache[(reservation.resource_type.value, top_id, reservation.pod_id)] = route
        return route

    async def release(self, reservation: Reservation) -> None:
        async with self._sessions.begin() as session:
            await routings_db.release(session, reservation.routing_id)

    async def adopt(
        self, top_id: str, bottom_id: str, pod_id: PodId, project_id: ProjectId, resource_type: ResourceType
    ) -> Route:
        """Record a resource found in a pod without a routing (made behind Atoll's back, or
        before a crash). A concurrent adoption of the same id is not an error."""
        values = {
            "top_id": top_id,
            "bottom_id": bottom_id,
            "pod_id": pod_id,
            "project_id": project_id,
            "resource_type": resource_type.value,
        }
        try:
            # One insert of the confirmed row: a concurrent adopter's row is either
            # committed (we conflict, then read it) or not there yet (we win).
            async with self._sessions.begin() as session:
                await routings_db.create(session, values)
        except (Conflict, InvalidInput):
            existing = await self.lookup(top_id, resource_type)
            if existing is not None:
                return existing
            raise
        route = Route(top_id, bottom_id, pod_id, project_id)
        self._cache[(resource_type.value, top_id)] = route
        return route

    async def forget(self, top_id: str, resource_type: ResourceType, *, delete: bool = False) -> None:
        """Drop the cached routing; with `delete`, the rows too (the resource is gone)."""
        self._cache.pop((resource_type.value, top_id), None)
        if delete:
            async with self._sessions.begin() as session:
                await routings_db.forget(session, top_id, resource_type.value)

    async def gone(self, top_id: str, resource_type: ResourceType, asker: str | None) -> None:
        """The routed pod answered 404 for the item: the cached routing is dropped, and the rows too when
        `asker` is the routing's project (a pod hides other projects' items behind a 404 too, so only
        their owner's 404 says the item is gone; else a caller could erase another project's routings)."""
        route = await self.lookup(top_id, resource_type)
        await self.forget(top_id, resource_type, delete=route is not None and bool(asker) and route.project_id == asker)

    async def forget_in(self, top_id: str, resource_type: ResourceType, pod_id: PodId) -> None:
        """Delete the routing of a top id in one pod (its bottom object there is gone)."""
        self._cache.pop((resource_type.value, top_id), None)
        self._pod_cache.pop((resource_type.value, top_id, pod_id), None)
        async with self._sessions.begin() as session:
            await routings_db.forget(session, top_id, resource_type.value, pod_id)


def _route(row: ResourceRouting) -> Route:
    """A confirmed routing row as a `Route` (its bottom id is set: the queries read only those)."""
    assert row.bottom_id is not None
    return Route(row.top_id, row.bottom_id, PodId(row.pod_id), ProjectId(row.project_id))
