"""Enqueue a job in the caller's transaction: the change and its job commit together."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from atoll.core.errors import InvalidInput
from atoll.db.models import Job, new_uuid, utcnow
from atoll.jobs.declarations import JobType
from atoll.types import JobId, JobStatus


@dataclasses.dataclass(frozen=True)
class NewJob:
    """A job to create. `key` overrides the ordering key the type makes from the resource;
    `children` make this a parent job (its type has no handler)."""

    type: JobType
    project_id: str
    resource: Mapping[str, Any]
    key: str | None = None
    children: Sequence[NewJob] = ()


def _check(job: NewJob, *, child: bool) -> None:
    missing = [k for k in job.type.resource if k not in job.resource]
    if missing:
        raise InvalidInput(f"A {job.type.name} job needs resource key(s): {', '.join(missing)}.")
    try:
        json.dumps(dict(job.resource), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InvalidInput(f"The resource of a {job.type.name} job is not JSON: {error}.") from error
    if job.type.handler is None and (child or not job.children):
        raise ValueError(f"{job.type.name} is a parent type: it needs children and cannot be a child")
    if job.type.handler is not None and job.children:
        raise ValueError(f"{job.type.name} has a handler: a job with children has none")


def _row(job: NewJob, now: dt.datetime, parent_id: str | None) -> Job:
    return Job(
        id=new_uuid(),
        type=job.type.name,
        project_id=job.project_id,
        parent_id=parent_id,
        ordering_key=job.key if job.key is not None else job.type.ordering_key(job.resource),
        status=JobStatus.NEW.value,
        resource=dict(job.resource),
        progress={},
        reason="",
        attempts=0,
        run_at=now,
        created_at=now,
    )


async def enqueue(session: AsyncSession, job: NewJob, *, now: dt.datetime | None = None) -> JobId:
    """Add `job` (and its children) to the caller's transaction; return its id.

    Nothing is visible to workers until the caller commits; a rollback removes the
    job with the change it belonged to."""
    _check(job, child=False)
    for child in job.children:
        _check(child, child=True)
    at = now or utcnow()
    parent = _row(job, at, None)
    session.add(parent)
    session.add_all([_row(child, at, parent.id) for child in job.children])
    await session.flush()
    return JobId(parent.id)
