"""Guarded writes of a running job: checkpoint, finish, release. And the parent's status.

Every write matches the job on (seq, lease owner, attempt): a worker whose lease
passed to another worker changes nothing and gets `LeaseLost`.

A child's write and its parent's recount are one transaction that locks the
parent row first, so two children finishing at once are counted one after the
other and the parent never stays RUNNING after its last child finished. Locking
the parent before anything else also keeps MySQL's repeatable-read snapshot (taken
at the first plain read) from predating a sibling that finished just before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.db.models import Job
from atoll.jobs.leases import Claim, rowcount
from atoll.jobs.outcomes import Done, LeaseLost, Outcome, Retry
from atoll.jobs.status import derive, summary
from atoll.types import JobStatus

REASON_LENGTH = 2048


def _owned(claim: Claim) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        Job.seq == claim.seq,
        Job.lease_owner == claim.owner,
        Job.attempts == claim.attempt,
        Job.status == JobStatus.RUNNING.value,
    )


async def lock(session: AsyncSession, job_id: str) -> None:
    await session.execute(sa.select(Job.seq).where(Job.id == job_id).with_for_update())


async def refresh_parent(session: AsyncSession, parent_id: str, now: dt.datetime) -> JobStatus:
    """Recompute a parent's status from its children (the caller holds the parent's lock)."""
    rows = await session.execute(
        sa.select(Job.status, sa.func.count()).where(Job.parent_id == parent_id).group_by(Job.status)
    )
    counts = {JobStatus(status): int(n) for status, n in rows.all()}
    status = derive(counts)
    progress = {"children": {s.value: counts.get(s, 0) for s in JobStatus}}
    await session.execute(
        sa.update(Job)
        .where(Job.id == parent_id)
        .values(status=status.value, reason=summary(counts), progress=progress, updated_at=now)
    )
    return status


async def _write(
    sessions: async_sessionmaker[AsyncSession], claim: Claim, values: Mapping[str, Any], now: dt.datetime
) -> None:
    async with sessions.begin() as session:
        if claim.parent_id:
            await lock(session, claim.parent_id)
        result = await session.execute(sa.update(Job).where(*_owned(claim)).values(**values, updated_at=now))
        if rowcount(result) != 1:
            raise LeaseLost(f"job {claim.id} attempt {claim.attempt} is no longer held by {claim.owner}")
        if claim.parent_id:
            await refresh_parent(session, claim.parent_id, now)


async def checkpoint(
    sessions: async_sessionmaker[AsyncSession], claim: Claim, progress: Mapping[str, Any], now: dt.datetime
) -> None:
    async with sessions.begin() as session:
        result = await session.execute(
            sa.update(Job).where(*_owned(claim)).values(progress=dict(progress), updated_at=now)
        )
        if rowcount(result) != 1:
            raise LeaseLost(f"job {claim.id} attempt {claim.attempt} is no longer held by {claim.owner}")


def _values(outcome: Outcome, now: dt.datetime) -> dict[str, Any]:
    free = {"lease_owner": None, "running_key": None, "run_at": now}
    if isinstance(outcome, Done):
        done = {**free, "status": JobStatus.SUCCESS.value, "reason": ""}
        return done if outcome.progress is None else {**done, "progress": dict(outcome.progress)}
    if isinstance(outcome, Retry):
        assert outcome.delay is not None, "the runner resolves the delay"
        later = now + dt.timedelta(seconds=outcome.delay)
        return {**free, "status": JobStatus.NEW.value, "reason": outcome.reason[:REASON_LENGTH], "run_at": later}
    return {**free, "status": JobStatus.FAIL.value, "reason": outcome.reason[:REASON_LENGTH]}


async def finish(sessions: async_sessionmaker[AsyncSession], claim: Claim, outcome: Outcome, now: dt.datetime) -> None:
    """Record `outcome` (a Retry with its delay resolved); raises `LeaseLost`."""
    await _write(sessions, claim, _values(outcome, now), now)


async def release(sessions: async_sessionmaker[AsyncSession], claim: Claim, now: dt.datetime) -> None:
    """Give a job back untouched (the worker is stopping): due now, this attempt not counted."""
    values = {"status": JobStatus.NEW.value, "lease_owner": None, "running_key": None, "run_at": now}
    await _write(sessions, claim, {**values, "attempts": claim.attempt - 1}, now)
