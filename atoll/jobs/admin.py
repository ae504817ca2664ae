"""What the admin API does to jobs: read them a page at a time, redo, delete.

Redo and delete are conditional writes, so they are right even when a worker
claims or finishes the job between the API's read and its write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from atoll.core.errors import Conflict, InvalidInput, NotFound
from atoll.db.models import Job
from atoll.jobs.leases import rowcount
from atoll.jobs.settle import lock, refresh_parent
from atoll.types import JobStatus

FILTERS = ("type", "status", "project_id", "parent_id")
REDOABLE = (JobStatus.NEW.value, JobStatus.FAIL.value)


async def get(session: AsyncSession, job_id: str) -> Job:
    job = await session.scalar(sa.select(Job).where(Job.id == job_id))
    if job is None:
        raise NotFound(f"Job {job_id} could not be found.")
    return job


async def marker(session: AsyncSession, job_id: str, filters: Mapping[str, Any]) -> int:
    """The position of the marker job; it must be one the caller may list."""
    query = sa.select(Job.seq).where(Job.id == job_id)
    if "project_id" in filters:
        query = query.where(Job.project_id == filters["project_id"])
    seq = await session.scalar(query)
    if seq is None:
        raise InvalidInput(f"Invalid marker: {job_id}.")
    return int(seq)


async def list_page(
    session: AsyncSession, filters: Mapping[str, Any], *, limit: int, before: int | None
) -> tuple[Sequence[Job], bool]:
    """One page, newest first (Tricircle's order), and whether another page follows."""
    query = sa.select(Job).order_by(Job.seq.desc()).limit(limit + 1)
    for name, value in filters.items():
        query = query.where(getattr(Job, name) == value)
    if before is not None:
        query = query.where(Job.seq < before)
    rows = (await session.scalars(query)).all()
    return rows[:limit], len(rows) > limit


async def has_children(session: AsyncSession, job_id: str) -> bool:
    return bool(await session.scalar(sa.select(sa.exists().where(Job.parent_id == job_id))))


def _busy(now: dt.datetime) -> sa.ColumnElement[bool]:
    """Running under a live lease. A RUNNING job whose lease expired has lost its worker."""
    return sa.and_(Job.status == JobStatus.RUNNING.value, Job.run_at > now)


async def redo(session: AsyncSession, job: Job, now: dt.datetime) -> None:
    """Run a NEW or FAIL job again now, its attempts reset and its checkpoint kept
    (handlers' steps are idempotent). For a parent, its failed children are redone."""
    again = {"status": JobStatus.NEW.value, "attempts": 0, "reason": "", "run_at": now, "updated_at": now}
    await lock(session, job.parent_id or job.id)
    if await has_children(session, job.id):
        status = await session.scalar(sa.select(Job.status).where(Job.seq == job.seq))  # read under the lock
        if status not in REDOABLE:
            raise Conflict(f"Job {job.id} is {status}; only NEW or FAIL jobs can be redone.")
        await session.execute(sa.update(Job).where(Job.parent_id == job.id, Job.status.in_(REDOABLE)).values(**again))
        await refresh_parent(session, job.id, now)
        return
    done = await session.execute(sa.update(Job).where(Job.seq == job.seq, Job.status.in_(REDOABLE)).values(**again))
    if rowcount(done) != 1:
        status = await session.scalar(sa.select(Job.status).where(Job.seq == job.seq))
        raise Conflict(f"Job {job.id} is {status}; only NEW or FAIL jobs can be redone.")
    if job.parent_id:
        await refresh_parent(session, job.parent_id, now)


async def delete(session: AsyncSession, job: Job, now: dt.datetime) -> None:
    """Delete a job that is not running (a parent with its children)."""
    if job.parent_id:
        raise Conflict(f"Job {job.id} is part of job {job.parent_id}; delete that job instead.")
    await lock(session, job.id)
    await session.execute(sa.delete(Job).where(Job.parent_id == job.id, ~_busy(now)))
    if await has_children(session, job.id):
        raise Conflict(f"Job {job.id} has running jobs; delete it when they have finished.")
    deleted = await session.execute(sa.delete(Job).where(Job.seq == job.seq, ~_busy(now)))
    if rowcount(deleted) != 1:
        raise Conflict(f"Job {job.id} is running; delete it when it has finished.")
