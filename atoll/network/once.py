"""Realize-once: at most one caller makes the bottom copy of a top object in a pod.

    confirmed routing (top id, pod)?  -> its bottom id
    reserve (top id, pod)             -> make (or find, by name) the bottom object -> confirm
    reservation held by another       -> wait for its routing; a reservation that stays
                                         unconfirmed for `stale_after` seconds (its holder
                                         crashed) is released and taken over

The wait is measured on this process's own monotonic clock (injected), never by
comparing it with the database's timestamps.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable

from atoll.core.errors import Conflict
from atoll.routing.store import Reservation, RoutingStore
from atoll.types import PodId, ProjectId, ResourceType

Make = Callable[[], Awaitable[str]]


@dataclasses.dataclass
class Once:
    routings: RoutingStore
    poll: float = 0.2
    stale_after: float = 60.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.monotonic

    async def bottom_id(
        self, top_id: str, resource_type: ResourceType, pod_id: PodId, project_id: ProjectId, make: Make
    ) -> str:
        watched: tuple[int, float] | None = None  # (reservation id, first seen at)
        while True:
            route = await self.routings.lookup_in(top_id, resource_type, pod_id)
            if route is not None:
                return route.bottom_id
            try:
                reservation = await self.routings.reserve(pod_id, project_id, resource_type, top_id=top_id)
            except Conflict:
                watched = await self._wait(top_id, resource_type, pod_id, watched)
                continue
            try:
                bottom_id = await make()
            except BaseException:
                await self.routings.release(reservation)
                raise
            await self.routings.confirm(reservation, top_id, bottom_id, project_id)
            return bottom_id

    async def _wait(
        self, top_id: str, resource_type: ResourceType, pod_id: PodId, watched: tuple[int, float] | None
    ) -> tuple[int, float] | None:
        held: Reservation | None = await self.routings.held(top_id, resource_type, pod_id)
        if held is None:
            return None  # confirmed or released meanwhile: look again
        if watched is None or watched[0] != held.routing_id:
            watched = (held.routing_id, self.clock())
        elif self.clock() - watched[1] >= self.stale_after:
            await self.routings.release(held)
            return None
        await self.sleep(self.poll)
        return watched
