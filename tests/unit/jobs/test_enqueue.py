from __future__ import annotations

import pytest
import sqlalchemy as sa

from atoll.core.clock import FakeClock
from atoll.core.errors import InvalidInput
from atoll.db import pods as pods_db
from atoll.db.models import Pod
from atoll.jobs.enqueue import NewJob, enqueue
from tests.unit.jobs.helpers import Sessions, add, job_type, row, rows


async def test_the_job_commits_with_the_change_that_needs_it(sessions: Sessions) -> None:
    clock = FakeClock()
    work = job_type()
    async with sessions.begin() as session:
        pod = await pods_db.create(session, region_name="Pod1", az_name="az1")
        job_id = await enqueue(session, NewJob(work, "p", {"item": pod.pod_id}), now=clock.now())
    job = await row(sessions, job_id)
    assert (job.type, job.status, job.resource, job.attempts, job.run_at) == (
        "work",
        "NEW",
        {"item": pod.pod_id},
        0,
        clock.now(),
    )


async def test_a_rollback_takes_the_job_with_the_change(sessions: Sessions) -> None:
    work = job_type()

    class Abort(Exception):
        pass

    async def change_then_abort() -> None:
        async with sessions.begin() as session:
            await pods_db.create(session, region_name="Pod1", az_name="az1")
            await enqueue(session, NewJob(work, "p", {"item": "x"}))
            raise Abort

    with pytest.raises(Abort):
        await change_then_abort()
    assert await rows(sessions) == []
    async with sessions() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Pod)) == 0


async def test_children_and_ordering_keys(sessions: Sessions) -> None:
    clock = FakeClock()
    group = job_type("group", None)
    child = job_type("child", key_template="item:{item}")
    children = [NewJob(child, "p", {"item": "a"}), NewJob(child, "p", {"item": "b"}, key="explicit")]
    parent_id = await add(sessions, clock, group, "all", children=children)
    made = await rows(sessions)
    assert [(j.type, j.parent_id, j.ordering_key) for j in made] == [
        ("group", None, None),
        ("child", parent_id, "item:a"),
        ("child", parent_id, "explicit"),
    ]
    assert made[0].seq < made[1].seq < made[2].seq


async def test_what_enqueue_refuses(sessions: Sessions) -> None:
    work = job_type(resource=("pod_id", "port_id"))
    async with sessions.begin() as session:
        with pytest.raises(InvalidInput, match="needs resource key\\(s\\): port_id"):
            await enqueue(session, NewJob(work, "p", {"pod_id": "x"}))
        with pytest.raises(InvalidInput, match="not JSON"):
            await enqueue(session, NewJob(work, "p", {"pod_id": "x", "port_id": object()}))
        with pytest.raises(ValueError, match="parent type"):
            await enqueue(session, NewJob(job_type("group", None), "p", {"item": "x"}))
        child = NewJob(job_type(), "p", {"item": "y"})
        with pytest.raises(ValueError, match="has a handler"):
            await enqueue(session, NewJob(job_type(), "p", {"item": "x"}, children=[child]))
    assert await rows(sessions) == []
