from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.core.errors import Conflict, InvalidInput, NotFound
from atoll.db import pods as pods_db
from atoll.db import routings as routings_db

Sessions = async_sessionmaker[AsyncSession]


async def _seed(sessions: Sessions, count: int) -> tuple[str, list[int]]:
    async with sessions.begin() as session:
        pod_id = (await pods_db.create(session, region_name="Pod1", az_name="az1")).pod_id
        ids = []
        for i in range(count):
            row = await routings_db.create(session, _values(pod_id, f"top-{i}", project="a" if i % 2 else "b"))
            ids.append(row.id)
        return pod_id, ids


def _values(pod_id: str, top_id: str, *, project: str = "p", resource_type: str = "server") -> dict[str, Any]:
    return {
        "top_id": top_id,
        "bottom_id": None,
        "pod_id": pod_id,
        "project_id": project,
        "resource_type": resource_type,
    }


async def _page(sessions: Sessions, limit: int, marker: int | None, **filters: Any) -> tuple[list[int], bool]:
    async with sessions() as session:
        rows, more = await routings_db.list_page(session, filters, limit=limit, marker=marker)
        return [r.id for r in rows], more


async def test_list_page_boundaries(sessions: Sessions) -> None:
    _, ids = await _seed(sessions, 5)
    assert ids == sorted(ids)
    assert await _page(sessions, 5, None) == (ids, False)  # exactly one full page: no next
    assert await _page(sessions, 4, None) == (ids[:4], True)
    assert await _page(sessions, 4, ids[3]) == (ids[4:], False)
    assert await _page(sessions, 1, ids[-2]) == (ids[-1:], False)
    assert await _page(sessions, 10, ids[-1]) == ([], False)
    assert await _page(sessions, 2, 0) == (ids[:2], True)
    assert await _page(sessions, 100, None, project_id="a") == ([ids[1], ids[3]], False)
    assert await _page(sessions, 1, ids[1], project_id="a") == ([ids[3]], False)


async def test_list_page_walk_has_no_repeats_or_gaps(sessions: Sessions) -> None:
    _, ids = await _seed(sessions, 7)
    for limit in (1, 2, 3, 6, 7, 8):
        seen: list[int] = []
        marker = None
        while True:
            page, more = await _page(sessions, limit, marker)
            seen += page
            if not more:
                break
            marker = page[-1]
        assert seen == ids, limit


async def test_create_update_delete_and_conflicts(sessions: Sessions) -> None:
    pod_id, ids = await _seed(sessions, 2)
    async with sessions.begin() as session:
        with pytest.raises(Conflict, match="server top-0 in pod"):
            await routings_db.create(session, _values(pod_id, "top-0"))
    async with sessions.begin() as session:
        with pytest.raises(InvalidInput, match="Pod ghost could not be found"):
            await routings_db.create(session, _values("ghost", "x"))
    async with sessions.begin() as session:
        updated = await routings_db.update(session, ids[0], {"bottom_id": "b0", "resource_type": "volume"})
        assert (updated.bottom_id, updated.resource_type) == ("b0", "volume")
    async with sessions.begin() as session:
        with pytest.raises(Conflict):
            await routings_db.update(session, ids[1], {"top_id": "top-0", "resource_type": "volume"})
    async with sessions.begin() as session:
        with pytest.raises(InvalidInput):
            await routings_db.update(session, ids[1], {"pod_id": "ghost"})
    async with sessions.begin() as session:
        assert (await routings_db.get(session, ids[1])).top_id == "top-1"
        await routings_db.delete(session, ids[1])
    async with sessions() as session:
        with pytest.raises(NotFound, match=f"Routing {ids[1]} could not be found"):
            await routings_db.get(session, ids[1])
