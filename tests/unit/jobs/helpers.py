"""Small builders shared by the jobs tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.core.clock import Clock
from atoll.db.models import Job
from atoll.jobs.declarations import Handler, JobRun, JobType, RetryPolicy
from atoll.jobs.enqueue import NewJob, enqueue
from atoll.jobs.leases import Claim, claim
from atoll.jobs.outcomes import Done, Outcome

Sessions = async_sessionmaker[AsyncSession]


async def done(run: JobRun) -> Outcome:
    return Done()


def job_type(
    name: str = "work",
    handler: Handler | None = done,
    *,
    resource: tuple[str, ...] = ("item",),
    key_template: str | None = None,
    retry: RetryPolicy | None = None,
) -> JobType:
    return JobType(name, resource, handler, key_template=key_template, retry=retry)


async def add(
    sessions: Sessions,
    clock: Clock,
    jtype: JobType,
    item: str,
    *,
    key: str | None = None,
    project: str = "project-a",
    children: Sequence[NewJob] = (),
) -> str:
    async with sessions.begin() as session:
        return await enqueue(session, NewJob(jtype, project, {"item": item}, key, children), now=clock.now())


async def take(
    sessions: Sessions, clock: Clock, types: Sequence[str], *, owner: str = "w1", limit: int = 10
) -> list[Claim]:
    return await claim(sessions, owner=owner, types=types, limit=limit, now=clock.now(), lease_time=30)


async def row(sessions: Sessions, job_id: str) -> Job:
    async with sessions() as session:
        found = await session.scalar(sa.select(Job).where(Job.id == job_id))
        assert found is not None, job_id
        return found


async def rows(sessions: Sessions, **where: Any) -> list[Job]:
    async with sessions() as session:
        query = sa.select(Job).order_by(Job.seq)
        for name, value in where.items():
            query = query.where(getattr(Job, name) == value)
        return list((await session.scalars(query)).all())


def items(claims: Sequence[Claim]) -> list[str]:
    return [str(c.resource["item"]) for c in claims]


def statuses(jobs: Sequence[Job]) -> Mapping[str, str]:
    return {str(j.resource["item"]): j.status for j in jobs}
