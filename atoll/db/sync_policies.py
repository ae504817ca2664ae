"""Queries on the sync_policies and sync_policy_pods tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from atoll.core.errors import InvalidInput, NotFound
from atoll.db.models import Job, SyncPolicy, SyncPolicyPod
from atoll.db.paging import page

FILTERS = ("project_id", "resource_type", "name", "source")


async def create(session: AsyncSession, values: Mapping[str, Any]) -> SyncPolicy:
    policy = SyncPolicy(**values)
    session.add(policy)
    await session.flush()
    return policy


async def get(session: AsyncSession, policy_id: str, *, for_update: bool = False) -> SyncPolicy:
    query = sa.select(SyncPolicy).where(SyncPolicy.id == policy_id)
    policy = await session.scalar(query.with_for_update() if for_update else query)
    if policy is None:
        raise NotFound(f"Sync policy {policy_id} could not be found.")
    return policy


async def list_page(
    session: AsyncSession, filters: Mapping[str, Any], *, limit: int, marker: str | None
) -> tuple[Sequence[SyncPolicy], bool]:
    """One page in creation order, and whether another page follows."""
    query = sa.select(SyncPolicy)
    for name, value in filters.items():
        query = query.where(getattr(SyncPolicy, name) == value)
    if marker is not None and "project_id" in filters:  # another project's policy is no marker of this list
        seen = await session.scalar(query.with_only_columns(SyncPolicy.id).where(SyncPolicy.id == marker))
        if seen is None:
            raise InvalidInput(f"Marker {marker} could not be found.")
    return await page(
        session, query, created_at=SyncPolicy.created_at, row_id=SyncPolicy.id, limit=limit, marker=marker
    )


async def pods_of(session: AsyncSession, policy_ids: Collection[str]) -> dict[str, list[SyncPolicyPod]]:
    """Each policy's pod rows (what its last check found), by policy id."""
    found: dict[str, list[SyncPolicyPod]] = {p: [] for p in policy_ids}
    if not policy_ids:
        return found
    query = sa.select(SyncPolicyPod).where(SyncPolicyPod.policy_id.in_(sorted(policy_ids)))
    for row in (await session.scalars(query.order_by(SyncPolicyPod.pod))).all():
        found[row.policy_id].append(row)
    return found


async def delete(session: AsyncSession, policy: SyncPolicy) -> None:
    await session.execute(sa.delete(SyncPolicyPod).where(SyncPolicyPod.policy_id == policy.id))
    await session.delete(policy)
    await session.flush()


async def due(session: AsyncSession, now: dt.datetime, limit: int) -> list[str]:
    """Ids of the policies whose check is due, the longest waiting first."""
    query = sa.select(SyncPolicy.id).where(SyncPolicy.next_check_at <= now)
    return list((await session.scalars(query.order_by(SyncPolicy.next_check_at, SyncPolicy.id).limit(limit))).all())


async def claim(session: AsyncSession, policy_id: str, now: dt.datetime, next_at: dt.datetime) -> bool:
    """Take a due policy's check (a compare-and-set on its due time): two engines never both do."""
    result = await session.execute(
        sa.update(SyncPolicy)
        .where(SyncPolicy.id == policy_id, SyncPolicy.next_check_at <= now)
        .values(next_check_at=next_at, updated_at=SyncPolicy.updated_at)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


async def checked(session: AsyncSession, policy_id: str, now: dt.datetime, source_error: str) -> None:
    await session.execute(
        sa.update(SyncPolicy)
        .where(SyncPolicy.id == policy_id)
        .values(checked_at=now, source_error=source_error[:1024], updated_at=SyncPolicy.updated_at)
    )


async def check_by(session: AsyncSession, policy_id: str, at: dt.datetime) -> None:
    """Bring a policy's next check forward to `at` (never later than it already is)."""
    await session.execute(
        sa.update(SyncPolicy)
        .where(SyncPolicy.id == policy_id, SyncPolicy.next_check_at > at)
        .values(next_check_at=at, updated_at=SyncPolicy.updated_at)
    )


async def jobs(session: AsyncSession, job_ids: Collection[str]) -> dict[str, Job]:
    if not job_ids:
        return {}
    rows = await session.scalars(sa.select(Job).where(Job.id.in_(sorted(job_ids))))
    return {job.id: job for job in rows.all()}


async def failed_reasons(session: AsyncSession, parent_ids: Collection[str]) -> dict[str, list[str]]:
    """The reasons of the failed children of each of these parent jobs."""
    found: dict[str, list[str]] = {}
    if not parent_ids:
        return found
    query = sa.select(Job.parent_id, Job.reason).where(Job.parent_id.in_(sorted(parent_ids)), Job.status == "FAIL")
    for parent_id, reason in (await session.execute(query.order_by(Job.seq))).all():
        found.setdefault(str(parent_id), []).append(reason)
    return found
