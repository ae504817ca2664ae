from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.core.errors import Conflict, InvalidInput, NotFound
from atoll.db import bindings as bindings_db
from atoll.db import pods as pods_db

Sessions = async_sessionmaker[AsyncSession]


async def _pods(sessions: Sessions) -> tuple[str, str, str]:
    async with sessions.begin() as session:
        top = await pods_db.create(session, region_name="Top")
        one = await pods_db.create(session, region_name="Pod1", az_name="az1")
        two = await pods_db.create(session, region_name="Pod2", az_name="az2")
        return top.pod_id, one.pod_id, two.pod_id


async def test_create_get_update_delete(sessions: Sessions) -> None:
    _, one, _ = await _pods(sessions)
    async with sessions.begin() as session:
        binding_id = (await bindings_db.create(session, tenant_id="t", pod_id=one)).id
    async with sessions.begin() as session:
        binding = await bindings_db.get(session, binding_id)
        assert (binding.tenant_id, binding.pod_id, binding.is_binding) == ("t", one, True)
        assert (await bindings_db.update(session, binding_id, is_binding=False)).is_binding is False
    async with sessions.begin() as session:
        assert (await bindings_db.get(session, binding_id)).is_binding is False
        await bindings_db.delete(session, binding_id)
    async with sessions() as session:
        with pytest.raises(NotFound, match=binding_id):
            await bindings_db.get(session, binding_id)


async def test_refusals(sessions: Sessions) -> None:
    top, one, _ = await _pods(sessions)
    async with sessions.begin() as session:
        await bindings_db.create(session, tenant_id="t", pod_id=one)
    async with sessions.begin() as session:
        with pytest.raises(InvalidInput, match="could not be found"):
            await bindings_db.create(session, tenant_id="t", pod_id="missing")
        with pytest.raises(InvalidInput, match="top pod"):
            await bindings_db.create(session, tenant_id="t", pod_id=top)
        with pytest.raises(Conflict, match="already bound"):
            await bindings_db.create(session, tenant_id="t", pod_id=one)
    async with sessions() as session:
        assert len((await bindings_db.list_page(session, limit=100, marker=None))[0]) == 1


async def test_list_filters(sessions: Sessions) -> None:
    _, one, two = await _pods(sessions)
    async with sessions.begin() as session:
        for tenant, pod in (("a", one), ("a", two), ("b", one)):
            await bindings_db.create(session, tenant_id=tenant, pod_id=pod)
    async with sessions() as session:

        async def pairs(**filters: str) -> set[tuple[str, str]]:
            return {
                (b.tenant_id, b.pod_id)
                for b in (await bindings_db.list_page(session, limit=100, marker=None, **filters))[0]
            }

        assert await pairs() == {("a", one), ("a", two), ("b", one)}
        assert await pairs(tenant_id="a") == {("a", one), ("a", two)}
        assert await pairs(pod_id=one) == {("a", one), ("b", one)}
        assert await pairs(tenant_id="b", pod_id=two) == set()
