"""Reading sync jobs: a project's requests (parent jobs) and each request's parts."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from atoll.core.errors import NotFound
from atoll.db.models import Job
from atoll.sync.handlers import PARENT
from atoll.types import JobStatus

ACTIVE = (JobStatus.NEW.value, JobStatus.RUNNING.value)
LIST_LIMIT = 1000
"""Requests one list returns at most, the newest (Kingbird's list has no pagination)."""


async def requests(session: AsyncSession, project_id: str, *, active: bool = False) -> Sequence[Job]:
    query = sa.select(Job).where(Job.type == PARENT, Job.project_id == project_id)
    if active:
        query = query.where(Job.status.in_(ACTIVE))
    newest = (await session.scalars(query.order_by(Job.seq.desc()).limit(LIST_LIMIT))).all()
    return list(reversed(newest))


async def request(session: AsyncSession, project_id: str, job_id: str) -> Job:
    """A project's sync request; another project's (or a job that is no sync request) is not found."""
    job = await session.scalar(sa.select(Job).where(Job.id == job_id, Job.type == PARENT, Job.project_id == project_id))
    if job is None:
        raise NotFound(f"Sync job {job_id} could not be found.")
    return job


async def parts(session: AsyncSession, job_id: str) -> Sequence[Job]:
    return (await session.scalars(sa.select(Job).where(Job.parent_id == job_id).order_by(Job.seq))).all()


KINGBIRD_STATUS = {
    JobStatus.NEW.value: "IN_PROGRESS",
    JobStatus.RUNNING.value: "IN_PROGRESS",
    JobStatus.SUCCESS.value: "SUCCESS",
    JobStatus.FAIL.value: "FAILURE",
}


def kingbird_status(status: str) -> str:
    """Kingbird's name for a job status: waiting and running are both IN_PROGRESS."""
    return KINGBIRD_STATUS[status]
