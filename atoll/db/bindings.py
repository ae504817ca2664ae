"""Queries on the pod_bindings table."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from atoll.core.errors import Conflict, InvalidInput, NotFound
from atoll.db import paging
from atoll.db.errors import conflict_on_duplicate
from atoll.db.models import Pod, PodBinding


async def create(session: AsyncSession, *, tenant_id: str, pod_id: str, is_binding: bool = True) -> PodBinding:
    pod = await session.get(Pod, pod_id)
    if pod is None:
        raise InvalidInput(f"Pod {pod_id} could not be found.")
    if pod.is_top:
        raise InvalidInput(f"Pod {pod_id} is the top pod; projects are bound to bottom pods only.")
    duplicate = sa.select(PodBinding.id).where(PodBinding.tenant_id == tenant_id, PodBinding.pod_id == pod_id)
    if await session.scalar(duplicate):
        raise Conflict(f"Project {tenant_id} is already bound to pod {pod_id}.")
    binding = PodBinding(tenant_id=tenant_id, pod_id=pod_id, is_binding=is_binding)
    async with conflict_on_duplicate(session, f"Project {tenant_id} is already bound to pod {pod_id}."):
        session.add(binding)
    return binding


async def get(session: AsyncSession, binding_id: str) -> PodBinding:
    binding = await session.get(PodBinding, binding_id)
    if binding is None:
        raise NotFound(f"Binding {binding_id} could not be found.")
    return binding


async def list_page(
    session: AsyncSession,
    *,
    limit: int,
    marker: str | None,
    tenant_id: str | None = None,
    pod_id: str | None = None,
) -> tuple[Sequence[PodBinding], bool]:
    """One page in creation order, and whether another page follows."""
    query = sa.select(PodBinding)
    if tenant_id is not None:
        query = query.where(PodBinding.tenant_id == tenant_id)
    if pod_id is not None:
        query = query.where(PodBinding.pod_id == pod_id)
    return await paging.page(
        session, query, created_at=PodBinding.created_at, row_id=PodBinding.id, limit=limit, marker=marker
    )


async def update(session: AsyncSession, binding_id: str, *, is_binding: bool) -> PodBinding:
    binding = await get(session, binding_id)
    binding.is_binding = is_binding
    await session.flush()
    return binding


async def delete(session: AsyncSession, binding_id: str) -> None:
    await session.delete(await get(session, binding_id))
    await session.flush()


async def bound_pods(session: AsyncSession, tenant_id: str) -> list[str]:
    """The pods a project is actively bound to, earliest binding first (the scheduler's choice)."""
    query = (
        sa.select(PodBinding.pod_id)
        .where(PodBinding.tenant_id == tenant_id, PodBinding.is_binding.is_(True))
        .order_by(PodBinding.created_at, PodBinding.id)
    )
    return list((await session.scalars(query)).all())
