from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.core.errors import Conflict, NotFound
from atoll.db import bindings as bindings_db
from atoll.db import pods as pods_db
from atoll.db import routings as routings_db
from atoll.types import PodId, PodStatus

Sessions = async_sessionmaker[AsyncSession]
T0 = dt.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)


async def _create(sessions: Sessions, region: str, az: str = "az1") -> str:
    async with sessions.begin() as session:
        pod = await pods_db.create(session, region_name=region, az_name=az)
        return pod.pod_id


async def test_create_and_get(sessions: Sessions) -> None:
    top = await _create(sessions, "RegionOne", "")
    bottom = await _create(sessions, "Pod1", "az1")
    async with sessions() as session:
        top_pod = await pods_db.get(session, top)
        bottom_pod = await pods_db.get(session, bottom)
        assert (top_pod.is_top, bottom_pod.is_top) == (True, None)
        assert bottom_pod.status == PodStatus.UNKNOWN
        assert bottom_pod.endpoints == {}
        assert bottom_pod.created_at.tzinfo == dt.UTC
        assert [p.region_name for p in await pods_db.list_all(session)] == ["RegionOne", "Pod1"]
        with pytest.raises(NotFound, match="Pod nope could not be found"):
            await pods_db.get(session, "nope")


async def test_duplicates_conflict(sessions: Sessions) -> None:
    await _create(sessions, "RegionOne", "")
    with pytest.raises(Conflict, match="top pod"):
        await _create(sessions, "RegionTwo", "")
    with pytest.raises(Conflict, match="region_name RegionOne"):
        await _create(sessions, "RegionOne", "az1")


@pytest.mark.parametrize(("first", "second"), [(("Top1", ""), ("Top2", "")), (("Pod1", "az1"), ("Pod1", "az2"))])
async def test_concurrent_creates_one_wins_the_other_conflicts(
    sessions: Sessions, first: tuple[str, str], second: tuple[str, str]
) -> None:
    results = await asyncio.gather(_create(sessions, *first), _create(sessions, *second), return_exceptions=True)
    winners = [r for r in results if isinstance(r, str)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1, results
    assert len(losers) == 1
    assert isinstance(losers[0], Conflict), repr(losers[0])
    async with sessions() as session:
        assert [p.pod_id for p in await pods_db.list_all(session)] == winners


async def test_update(sessions: Sessions) -> None:
    top = await _create(sessions, "RegionOne", "")
    bottom = await _create(sessions, "Pod1", "az1")
    async with sessions.begin() as session:
        pod = await pods_db.update(session, bottom, {"az_name": "az2", "dc_name": "dc1", "pod_az_name": "nova"})
        assert (pod.az_name, pod.dc_name, pod.pod_az_name) == ("az2", "dc1", "nova")
    async with sessions.begin() as session:
        assert (await pods_db.update(session, top, {"dc_name": "dc0"})).dc_name == "dc0"
    async with sessions.begin() as session:
        with pytest.raises(Conflict, match="top pod cannot be given"):
            await pods_db.update(session, top, {"az_name": "az1"})
    async with sessions.begin() as session:
        with pytest.raises(Conflict, match="cannot become the top pod"):
            await pods_db.update(session, bottom, {"az_name": ""})
    async with sessions.begin() as session:
        with pytest.raises(Conflict, match="RegionOne already exists"):
            await pods_db.update(session, bottom, {"region_name": "RegionOne"})
    async with sessions() as session:
        pod = await pods_db.get(session, bottom)
        assert (pod.region_name, pod.az_name) == ("Pod1", "az2")
        assert pod.updated_at is not None


async def _state(sessions: Sessions, pod_id: str) -> pods_db.PodState:
    async with sessions() as session:
        [state] = await pods_db.list_states(session, [pod_id])
        return state


async def test_rename_clears_discovered_state(sessions: Sessions) -> None:
    pod_id = await _create(sessions, "Pod1")
    async with sessions.begin() as session:
        assert await pods_db.set_endpoints(session, await _state(sessions, pod_id), {"compute": "http://c"}, T0)
    async with sessions.begin() as session:
        assert await pods_db.set_status(session, await _state(sessions, pod_id), PodStatus.UP, "", T0)
    async with sessions.begin() as session:
        await pods_db.update(session, pod_id, {"region_name": "Pod1"})  # same name: nothing reset
    async with sessions() as session:
        assert (await pods_db.get(session, pod_id)).endpoints == {"compute": "http://c"}
    async with sessions.begin() as session:
        await pods_db.update(session, pod_id, {"region_name": "Pod2"})
    async with sessions() as session:
        pod = await pods_db.get(session, pod_id)
        assert (pod.region_name, pod.endpoints, pod.endpoints_updated_at) == ("Pod2", {}, None)
        assert pod.status == PodStatus.UNKNOWN


async def test_delete_refused_while_in_use(sessions: Sessions) -> None:
    pod_id = await _create(sessions, "Pod1")
    async with sessions.begin() as session:
        binding = await bindings_db.create(session, tenant_id="t", pod_id=pod_id)
        routing = await routings_db.create(
            session, {"top_id": "a", "bottom_id": "b", "pod_id": pod_id, "project_id": "t", "resource_type": "server"}
        )
        binding_id, routing_id = binding.id, routing.id
    async with sessions.begin() as session:
        with pytest.raises(Conflict, match=r"1 binding\(s\) and 1 routing\(s\)"):
            await pods_db.delete(session, pod_id)
    async with sessions.begin() as session:
        await bindings_db.delete(session, binding_id)
        await routings_db.delete(session, routing_id)
    async with sessions.begin() as session:
        await pods_db.delete(session, pod_id)
    async with sessions() as session:
        assert await pods_db.list_all(session) == []
        with pytest.raises(NotFound):
            await pods_db.delete(session, pod_id)


async def test_set_endpoints_and_status(sessions: Sessions) -> None:
    pod_id = PodId(await _create(sessions, "Pod1"))
    endpoints = {"compute": "http://nova", "network": "http://neutron"}
    async with sessions.begin() as session:
        assert await pods_db.set_endpoints(session, await _state(sessions, pod_id), endpoints, T0)
    async with sessions.begin() as session:
        assert await pods_db.set_status(session, await _state(sessions, pod_id), PodStatus.UP, "", T0)
    async with sessions() as session:
        pod = await pods_db.get(session, pod_id)
        assert pod.endpoints == {"compute": "http://nova", "network": "http://neutron"}
        assert pod.endpoints_updated_at == T0
        assert (pod.status, pod.status_reason, pod.last_seen_at) == ("up", "", T0)
    async with sessions.begin() as session:
        # down and unseen: the last time it was seen is kept; a long reason is cut to the column
        await pods_db.set_status(session, await _state(sessions, pod_id), PodStatus.DOWN, "x" * 5000, None)
    async with sessions() as session:
        pod = await pods_db.get(session, pod_id)
        assert (pod.status, len(pod.status_reason), pod.last_seen_at) == ("down", 1024, T0)


async def test_naive_datetimes_are_refused(sessions: Sessions) -> None:
    pod_id = PodId(await _create(sessions, "Pod1"))
    with pytest.raises(Exception, match="naive datetime"):
        async with sessions.begin() as session:
            await pods_db.set_endpoints(session, await _state(sessions, pod_id), {}, dt.datetime(2026, 1, 1))


async def test_writes_against_a_stale_state_change_nothing(sessions: Sessions) -> None:
    pod_id = PodId(await _create(sessions, "Pod1"))
    before_rename = await _state(sessions, pod_id)
    async with sessions.begin() as session:
        await pods_db.update(session, pod_id, {"region_name": "Pod2"})
    async with sessions.begin() as session:
        assert not await pods_db.set_endpoints(session, before_rename, {"compute": "http://pod1-nova"}, T0)
        assert not await pods_db.set_status(session, before_rename, PodStatus.UP, "", T0)
    after = await _state(sessions, pod_id)
    assert (after.region_name, after.endpoints, after.status, after.discovered) == ("Pod2", {}, "unknown", False)


async def test_new_endpoints_make_a_new_generation(sessions: Sessions) -> None:
    pod_id = PodId(await _create(sessions, "Pod1"))
    first = await _state(sessions, pod_id)
    async with sessions.begin() as session:
        assert await pods_db.set_endpoints(session, first, {"compute": "http://a"}, T0)
    discovered = await _state(sessions, pod_id)
    assert (discovered.generation, discovered.discovered) == (first.generation + 1, True)
    async with sessions.begin() as session:  # the same endpoints again: same generation, a probe still lands
        assert await pods_db.set_endpoints(session, discovered, {"compute": "http://a"}, T0)
    assert (await _state(sessions, pod_id)).generation == discovered.generation
    async with sessions.begin() as session:
        assert await pods_db.set_endpoints(session, discovered, {"compute": "http://b"}, T0)
    async with sessions.begin() as session:  # a probe of the old endpoints is not stored
        assert not await pods_db.set_status(session, discovered, PodStatus.UP, "", T0)
    assert (await _state(sessions, pod_id)).status == PodStatus.UNKNOWN


async def test_writes_for_a_deleted_pod_change_nothing(sessions: Sessions) -> None:
    pod_id = PodId(await _create(sessions, "Pod1"))
    state = await _state(sessions, pod_id)
    async with sessions.begin() as session:
        await pods_db.delete(session, pod_id)
    async with sessions.begin() as session:
        assert not await pods_db.set_endpoints(session, state, {"compute": "http://a"}, T0)
        assert not await pods_db.set_status(session, state, PodStatus.UP, "", T0)
        assert await pods_db.list_states(session) == []
