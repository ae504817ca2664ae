"""Real worker processes on a real database: each job runs once, and a job survives kill -9.

Each worker is `tests.functional.jobs_worker`: the worker half of atoll-engine built
from a config file, running job types these tests declare. No Keystone is needed.
"""

from __future__ import annotations

import asyncio
import pathlib
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from atoll.core.clock import SystemClock
from atoll.db import migration
from atoll.db.engine import create_engine, session_factory
from atoll.jobs.declarations import JobRun, JobType
from atoll.jobs.enqueue import NewJob, enqueue
from atoll.jobs.outcomes import Outcome
from tests import conftest
from tests.conftest import selected_backends

ROOT = pathlib.Path(__file__).resolve().parents[2]


async def _in_the_worker_process(run: JobRun) -> Outcome:
    raise AssertionError("these jobs run in tests.functional.jobs_worker")


EFFECT = JobType("effect", ("n",), _in_the_worker_process)
STEPS = JobType("steps", ("steps", "stall_after"), _in_the_worker_process)


def sql(url: str, *statements: str) -> list[Any]:
    async def run() -> list[Any]:
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                results = [await conn.execute(sa.text(s)) for s in statements]
                return [r.all() if r.returns_rows else None for r in results]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def add_jobs(url: str, jobs: list[NewJob]) -> list[str]:
    async def run() -> list[str]:
        engine = create_engine(url)
        try:
            async with session_factory(engine).begin() as session:
                return [await enqueue(session, job, now=SystemClock().now()) for job in jobs]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def wait_for(predicate: Callable[[], bool], what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


class Workers:
    def __init__(self, url: str, tmp: pathlib.Path, *, lease_time: float) -> None:
        self.tmp = tmp
        self.config = tmp / "atoll.conf"
        self.config.write_text(
            textwrap.dedent(f"""\
                [DEFAULT]
                state_path = {tmp}
                [database]
                connection = {url}
                [jobs]
                concurrency = 4
                poll_interval = 0.1
                lease_time = {lease_time}
                retry_delay = 0.5
                """)
        )
        self.procs: list[tuple[subprocess.Popen[bytes], pathlib.Path]] = []

    def start(self) -> tuple[subprocess.Popen[bytes], pathlib.Path]:
        ready = self.tmp / f"ready-{len(self.procs)}"
        log = (self.tmp / f"worker-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.functional.jobs_worker", str(self.config), str(ready)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.procs.append((proc, ready))
        wait_for(lambda: ready.exists() or proc.poll() is not None, "a worker to start", 60)
        assert proc.poll() is None, (self.tmp / f"worker-{len(self.procs) - 1}.log").read_text()
        return proc, ready

    def stop(self) -> None:
        for proc, _ in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, _ in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(params=selected_backends())
def database(request: pytest.FixtureRequest, test_databases: conftest.TestDatabases) -> str:
    url = test_databases.new(request.param)
    migration.upgrade(url)
    sql(url, "CREATE TABLE job_effects (job_id VARCHAR(36) NOT NULL, step INTEGER NOT NULL, owner VARCHAR(64))")
    return url


@pytest.fixture
def workers(database: str, tmp_path: pathlib.Path) -> Iterator[Workers]:
    group = Workers(database, tmp_path, lease_time=3)
    yield group
    group.stop()


def statuses(url: str) -> dict[str, int]:
    [rows] = sql(url, "SELECT status, COUNT(*) FROM jobs GROUP BY status")
    return {status: int(n) for status, n in rows}


def test_two_workers_run_each_job_exactly_once(database: str, workers: Workers) -> None:
    workers.start()
    workers.start()
    ids = add_jobs(database, [NewJob(EFFECT, "project-a", {"n": i}) for i in range(300)])
    wait_for(lambda: statuses(database) == {"SUCCESS": 300}, "300 jobs to succeed")
    [per_job, per_owner] = sql(
        database,
        "SELECT job_id, COUNT(*) FROM job_effects GROUP BY job_id",
        "SELECT owner, COUNT(*) FROM job_effects GROUP BY owner",
    )
    assert sorted(job_id for job_id, _ in per_job) == sorted(ids)
    assert {int(n) for _, n in per_job} == {1}
    assert len(per_owner) == 2, per_owner  # both processes took a share
    assert sum(int(n) for _, n in per_owner) == 300


def test_a_job_survives_kill_9_of_its_worker(database: str, workers: Workers) -> None:
    first, ready = workers.start()
    [job_id] = add_jobs(database, [NewJob(STEPS, "project-a", {"steps": 6, "stall_after": 2})])
    stalled = pathlib.Path(str(ready) + ".stalled")
    wait_for(stalled.exists, "the job to reach its third step")
    first.send_signal(signal.SIGKILL)
    first.wait()
    [[(status, attempts)]] = sql(database, f"SELECT status, attempts FROM jobs WHERE id = '{job_id}'")
    assert (status, attempts) == ("RUNNING", 1)
    workers.start()  # "the engine restarts": a new process takes the job over once the dead one's lease expires
    wait_for(lambda: statuses(database) == {"SUCCESS": 1}, "the job to succeed after the restart")
    [[(attempts,)], effects] = sql(
        database,
        f"SELECT attempts FROM jobs WHERE id = '{job_id}'",
        "SELECT step, owner FROM job_effects ORDER BY step",
    )
    assert attempts == 2
    owners = [owner for _, owner in effects]
    assert [step for step, _ in effects] == [0, 1, 2, 3, 4, 5]  # each step once: resumed from the checkpoint
    assert len(set(owners[:3])) == 1
    assert len(set(owners[3:])) == 1
    assert owners[0] != owners[3]
