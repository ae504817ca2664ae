from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from atoll.core.clock import FakeClock, SystemClock
from atoll.jobs.declarations import JobRun, JobTypes
from atoll.jobs.outcomes import Done, Outcome
from atoll.jobs.worker import Worker, WorkerSettings
from tests.unit.jobs.helpers import Sessions, add, job_type, row, rows, take

FAST = WorkerSettings(concurrency=4, poll_interval=0.05, lease_time=30)


async def test_a_worker_drains_the_queue_running_each_job_once(sessions: Sessions) -> None:
    clock = SystemClock()
    ran: list[str] = []
    all_done = asyncio.Event()

    async def handle(run: JobRun) -> Outcome:
        ran.append(str(run.resource["item"]))
        if len(ran) == 30:
            all_done.set()
        return Done()

    work = job_type(handler=handle)
    for i in range(30):
        await add(sessions, clock, work, f"j{i}", key=f"k{i % 3}")
    stop = asyncio.Event()
    worker = Worker(sessions, JobTypes([work]), clock, settings=FAST)
    loop = asyncio.create_task(worker.run_forever(stop))
    await asyncio.wait_for(all_done.wait(), 60)
    stop.set()
    await asyncio.wait_for(loop, 10)
    assert sorted(ran) == sorted(f"j{i}" for i in range(30))
    assert {j.status for j in await rows(sessions)} == {"SUCCESS"}
    for key in range(3):  # each key's jobs ran in creation order
        assert [r for r in ran if int(r[1:]) % 3 == key] == [f"j{i}" for i in range(key, 30, 3)]


async def test_stopping_hands_running_jobs_back(sessions: Sessions) -> None:
    clock = SystemClock()
    started = asyncio.Event()

    async def forever(run: JobRun) -> Outcome:
        started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    work = job_type(handler=forever)
    job_id = await add(sessions, clock, work, "long")
    stop = asyncio.Event()
    loop = asyncio.create_task(Worker(sessions, JobTypes([work]), clock, settings=FAST).run_forever(stop))
    await asyncio.wait_for(started.wait(), 30)
    assert (await row(sessions, job_id)).status == "RUNNING"
    stop.set()
    await asyncio.wait_for(loop, 10)
    job = await row(sessions, job_id)
    assert (job.status, job.attempts, job.lease_owner, job.running_key) == ("NEW", 0, None, None)


async def test_a_lost_lease_stops_the_run_without_touching_the_job(sessions: Sessions) -> None:
    clock = FakeClock()
    cancelled = asyncio.Event()

    async def slow(run: JobRun) -> Outcome:
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()
        raise AssertionError("unreachable")

    work = job_type(handler=slow)
    job_id = await add(sessions, clock, work, "x")
    worker = Worker(sessions, JobTypes([work]), clock, settings=FAST, owner="stalled")
    assert await worker.step() == 1
    clock.advance(31)  # the worker stalled past its lease: another one takes the job over
    [other] = await take(sessions, clock, ["work"], owner="w2")
    await worker.heartbeat()
    await asyncio.wait_for(cancelled.wait(), 10)
    await worker.drain()
    assert worker.running == []
    job = await row(sessions, job_id)
    assert (job.status, job.lease_owner, job.attempts) == ("RUNNING", "w2", other.attempt)


async def test_heartbeat_keeps_a_long_job_leased(sessions: Sessions) -> None:
    clock = FakeClock()
    release = asyncio.Event()

    async def long(run: JobRun) -> Outcome:
        await release.wait()
        return Done()

    work = job_type(handler=long)
    job_id = await add(sessions, clock, work, "x")
    worker = Worker(sessions, JobTypes([work]), clock, settings=FAST)
    await worker.step()
    for _ in range(5):
        clock.advance(20)
        await worker.heartbeat()
        assert await take(sessions, clock, ["work"], owner="w2") == []
    release.set()
    await worker.drain()
    assert (await row(sessions, job_id)).status == "SUCCESS"


async def test_the_loop_survives_a_database_outage(caplog: pytest.LogCaptureFixture) -> None:
    stop = asyncio.Event()
    calls = 0

    class Broken:
        def __call__(self) -> Any:
            nonlocal calls
            calls += 1
            if calls == 3:
                stop.set()
            raise ConnectionRefusedError("database is away")

    broken: Any = Broken()
    worker = Worker(broken, JobTypes([job_type()]), SystemClock(), settings=FAST)
    with caplog.at_level(logging.ERROR, logger="atoll.jobs.worker"):
        await asyncio.wait_for(worker.run_forever(stop), 10)
    failures = [r for r in caplog.records if "step failed" in r.getMessage()]
    assert len(failures) == 3
    assert all("database is away" in str(r.exc_info[1]) for r in failures)  # type: ignore[index]
