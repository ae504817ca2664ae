from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.core.errors import Conflict
from atoll.db import pods as pods_db
from atoll.db import routings as routings_db
from atoll.routing.store import Route, RoutingStore
from atoll.types import PodId, ProjectId, ResourceType

Sessions = async_sessionmaker[AsyncSession]
P = ProjectId("project-a")


async def _pods(sessions: Sessions) -> tuple[PodId, PodId]:
    async with sessions.begin() as session:
        one = await pods_db.create(session, region_name="Pod1", az_name="az1")
        two = await pods_db.create(session, region_name="Pod2", az_name="az2")
        return PodId(one.pod_id), PodId(two.pod_id)


async def test_reserve_confirm_lookup(sessions: Sessions) -> None:
    pod, _ = await _pods(sessions)
    store = RoutingStore(sessions)
    reservation = await store.reserve(pod, P, ResourceType.SERVER)
    assert await store.lookup("srv-1", ResourceType.SERVER) is None
    async with sessions() as session:
        [row] = (await routings_db.list_page(session, {}, limit=10, marker=None))[0]
    assert (row.bottom_id, row.pod_id, row.top_id.startswith("reserved-")) == (None, pod, True)
    route = await store.confirm(reservation, "srv-1", "srv-1", P)
    assert route == Route("srv-1", "srv-1", pod, P)
    fresh = RoutingStore(sessions)  # another process: reads the database
    assert await fresh.lookup("srv-1", ResourceType.SERVER) == route
    assert await fresh.lookup("srv-1", ResourceType.VOLUME) is None


async def test_release_leaves_nothing(sessions: Sessions) -> None:
    pod, _ = await _pods(sessions)
    store = RoutingStore(sessions)
    await store.release(await store.reserve(pod, P, ResourceType.SERVER))
    async with sessions() as session:
        assert (await routings_db.list_page(session, {}, limit=10, marker=None))[0] == []


async def test_a_second_reservation_of_one_top_id_in_one_pod_is_a_conflict(sessions: Sessions) -> None:
    pod, other = await _pods(sessions)
    store = RoutingStore(sessions)
    results = await asyncio.gather(
        *(store.reserve(pod, P, ResourceType.NETWORK, "net-1") for _ in range(5)), return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))
    await store.reserve(other, P, ResourceType.NETWORK, "net-1")  # another pod may hold its own copy


async def test_concurrent_adoptions_agree(sessions: Sessions) -> None:
    pod, _ = await _pods(sessions)
    stores = [RoutingStore(sessions) for _ in range(4)]
    routes = await asyncio.gather(*(s.adopt("srv-9", "srv-9", pod, P, ResourceType.SERVER) for s in stores))
    assert set(routes) == {Route("srv-9", "srv-9", pod, P)}


async def test_forget_drops_the_cache_and_with_delete_the_rows(sessions: Sessions) -> None:
    pod, _ = await _pods(sessions)
    store = RoutingStore(sessions)
    await store.adopt("srv-2", "srv-2", pod, P, ResourceType.SERVER)
    async with sessions.begin() as session:
        await routings_db.forget(session, "srv-2", "server")  # deleted by another process
    assert await store.lookup("srv-2", ResourceType.SERVER) is not None  # still cached here
    await store.forget("srv-2", ResourceType.SERVER)
    assert await store.lookup("srv-2", ResourceType.SERVER) is None
    await store.adopt("srv-3", "srv-3", pod, P, ResourceType.SERVER)
    await store.forget("srv-3", ResourceType.SERVER, delete=True)
    assert await RoutingStore(sessions).lookup("srv-3", ResourceType.SERVER) is None


async def test_reserving_in_an_unknown_pod_fails_cleanly(sessions: Sessions) -> None:
    store = RoutingStore(sessions)
    with pytest.raises(Conflict):
        await store.reserve(PodId("no-such-pod"), P, ResourceType.SERVER)
