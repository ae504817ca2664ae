from __future__ import annotations

import asyncio
import logging

import pytest

from atoll.core.clock import FakeClock
from atoll.jobs import settle
from atoll.jobs.declarations import JobRun, JobTypes, RetryPolicy
from atoll.jobs.enqueue import NewJob
from atoll.jobs.outcomes import Done, Fail, Outcome, PermanentError, Retry, TemporaryError
from atoll.jobs.runner import Runner
from tests.unit.jobs.helpers import Sessions, add, job_type, row, rows, statuses, take

POLICY = RetryPolicy(max_attempts=3, base_delay=10, max_delay=15)


def test_backoff_doubles_is_capped_and_spreads() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay=2, max_delay=60)
    for attempt, ceiling in [(1, 2), (2, 4), (3, 8), (5, 32), (6, 60), (40, 60), (500, 60)]:
        delays = {policy.delay(attempt, f"job-{n}") for n in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays), (attempt, delays)
        assert len(delays) > 40  # jobs failing together come back at different times
    assert policy.delay(3, "job-1") == policy.delay(3, "job-1")


class Script:
    """A handler acting out one outcome (or exception) per attempt."""

    def __init__(self, *steps: Outcome | Exception) -> None:
        self.steps = list(steps)
        self.seen: list[JobRun] = []

    async def __call__(self, run: JobRun) -> Outcome:
        self.seen.append(run)
        step = self.steps[run.attempt - 1]
        if isinstance(step, Exception):
            raise step
        return step


async def _run_all(sessions: Sessions, clock: FakeClock, runner: Runner) -> list[Outcome | None]:
    return [await runner.run(c) for c in await take(sessions, clock, ["work"])]


async def test_temporary_failures_back_off_then_succeed(sessions: Sessions) -> None:
    clock = FakeClock()
    script = Script(TemporaryError("pod down"), Retry("still down", delay=5), Done({"copied": True}))
    work = job_type(handler=script, retry=POLICY)
    job_id = await add(sessions, clock, work, "x")
    runner = Runner(sessions, JobTypes([work]), clock, RetryPolicy())

    [first] = await _run_all(sessions, clock, runner)
    assert isinstance(first, Retry)
    assert first.delay is not None
    assert 5 <= first.delay <= 10
    job = await row(sessions, job_id)
    assert (job.status, job.reason, job.attempts) == ("NEW", "pod down", 1)
    assert job.run_at == clock.now() + __import__("datetime").timedelta(seconds=first.delay)

    clock.advance(first.delay - 0.5)
    assert await take(sessions, clock, ["work"]) == []
    clock.advance(0.5)
    assert await _run_all(sessions, clock, runner) == [Retry("still down", 5)]
    clock.advance(5)
    assert await _run_all(sessions, clock, runner) == [Done({"copied": True})]
    job = await row(sessions, job_id)
    assert (job.status, job.reason, job.attempts, job.progress) == ("SUCCESS", "", 3, {"copied": True})
    assert [r.attempt for r in script.seen] == [1, 2, 3]


async def test_a_permanent_failure_stops_at_once(sessions: Sessions) -> None:
    clock = FakeClock()
    work = job_type(handler=Script(PermanentError("flavor m1.huge does not exist in Pod1")), retry=POLICY)
    job_id = await add(sessions, clock, work, "x")
    runner = Runner(sessions, JobTypes([work]), clock, POLICY)
    assert await _run_all(sessions, clock, runner) == [Fail("flavor m1.huge does not exist in Pod1")]
    job = await row(sessions, job_id)
    assert (job.status, job.reason, job.attempts) == ("FAIL", "flavor m1.huge does not exist in Pod1", 1)
    clock.advance(3600)
    assert await take(sessions, clock, ["work"]) == []


async def test_an_unexpected_error_is_logged_and_retried_until_the_limit(
    sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    work = job_type(handler=Script(*[RuntimeError("boom")] * 3), retry=POLICY)
    job_id = await add(sessions, clock, work, "x")
    runner = Runner(sessions, JobTypes([work]), clock, RetryPolicy(max_attempts=99))
    with caplog.at_level(logging.ERROR, logger="atoll.jobs.runner"):
        for _ in range(3):
            await _run_all(sessions, clock, runner)
            clock.advance(15)
    job = await row(sessions, job_id)
    assert (job.status, job.attempts) == ("FAIL", 3)
    assert job.reason == "Gave up after 3 attempts: RuntimeError: boom"
    raised = [r for r in caplog.records if r.exc_info]
    assert len(raised) == 3
    assert f"Job {job_id} (work) attempt 1 raised" in raised[0].getMessage()
    assert str(raised[0].exc_info[1]) == "boom"  # type: ignore[index]


async def test_a_job_whose_workers_keep_dying_ends_fail(sessions: Sessions) -> None:
    clock = FakeClock()
    script = Script(Done())
    work = job_type(handler=script, retry=RetryPolicy(max_attempts=2))
    job_id = await add(sessions, clock, work, "x")
    runner = Runner(sessions, JobTypes([work]), clock, POLICY)
    for _ in range(2):  # claimed, and its worker dies (the lease is never renewed)
        assert len(await take(sessions, clock, ["work"])) == 1
        clock.advance(31)
    assert await _run_all(sessions, clock, runner) == [
        Fail("Gave up after 2 attempts: the worker of attempt 2 stopped without finishing.")
    ]
    assert script.seen == []
    assert (await row(sessions, job_id)).status == "FAIL"


async def test_checkpoints_reach_the_next_attempt(sessions: Sessions) -> None:
    clock = FakeClock()

    async def copy(run: JobRun) -> Outcome:
        done = list(run.progress.get("pods", []))
        for pod in ("Pod1", "Pod2", "Pod3"):
            if pod in done:
                continue
            if pod == "Pod2" and run.attempt == 1:
                raise TemporaryError("Pod2 timed out", delay=1)
            done.append(pod)
            await run.checkpoint({"pods": done})
        return Done()

    work = job_type(handler=copy)
    job_id = await add(sessions, clock, work, "image-1")
    runner = Runner(sessions, JobTypes([work]), clock, POLICY)
    await _run_all(sessions, clock, runner)
    assert (await row(sessions, job_id)).progress == {"pods": ["Pod1"]}
    clock.advance(1)
    await _run_all(sessions, clock, runner)
    job = await row(sessions, job_id)
    assert (job.status, job.progress) == ("SUCCESS", {"pods": ["Pod1", "Pod2", "Pod3"]})


async def test_parent_is_running_until_every_child_finished_then_fail_keeping_each_result(
    sessions: Sessions,
) -> None:
    clock = FakeClock()
    release = asyncio.Event()

    async def sync(run: JobRun) -> Outcome:
        target = run.resource["item"]
        if target == "Pod2":
            return Fail("Pod2 refused the keypair")
        if target == "Pod3":
            await release.wait()
        return Done()

    group, child = job_type("sync", None), job_type("work", sync)
    children = [NewJob(child, "project-a", {"item": pod}) for pod in ("Pod1", "Pod2", "Pod3")]
    parent_id = await add(sessions, clock, group, "keypair k1", children=children)
    assert (await row(sessions, parent_id)).status == "NEW"
    runner = Runner(sessions, JobTypes([group, child]), clock, POLICY)
    claims = await take(sessions, clock, ["work"])
    assert (await row(sessions, parent_id)).status == "RUNNING"
    tasks = {c.resource["item"]: asyncio.create_task(runner.run(c)) for c in claims}
    await asyncio.gather(tasks["Pod1"], tasks["Pod2"])
    parent = await row(sessions, parent_id)
    assert parent.status == "RUNNING"
    assert parent.reason.startswith("1 of 3 jobs failed")
    release.set()
    await tasks["Pod3"]
    parent = await row(sessions, parent_id)
    assert (parent.status, parent.progress) == (
        "FAIL",
        {"children": {"NEW": 0, "RUNNING": 0, "SUCCESS": 2, "FAIL": 1}},
    )
    kids = await rows(sessions, parent_id=parent_id)
    assert statuses(kids) == {"Pod1": "SUCCESS", "Pod2": "FAIL", "Pod3": "SUCCESS"}
    assert [k.reason for k in kids] == ["", "Pod2 refused the keypair", ""]


async def test_children_finishing_at_the_same_time_are_all_counted(sessions: Sessions) -> None:
    clock = FakeClock()
    start = asyncio.Event()

    async def together(run: JobRun) -> Outcome:
        await start.wait()
        return Done()

    group, child = job_type("sync", None), job_type("work", together)
    children = [NewJob(child, "project-a", {"item": f"t{i}"}) for i in range(12)]
    parent_id = await add(sessions, clock, group, "many", children=children)
    runner = Runner(sessions, JobTypes([group, child]), clock, POLICY)
    tasks = [asyncio.create_task(runner.run(c)) for c in await take(sessions, clock, ["work"], limit=20)]
    start.set()
    assert len(await asyncio.gather(*tasks)) == 12
    parent = await row(sessions, parent_id)
    assert (parent.status, parent.progress["children"]["SUCCESS"]) == ("SUCCESS", 12)


async def test_children_finishing_together_share_recounts_of_their_parent(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    start = asyncio.Event()
    recounts: list[str] = []
    real = settle.recount

    async def counted(sessions_: Sessions, parent_id: str, now: object) -> object:
        recounts.append(parent_id)
        return await real(sessions_, parent_id, now)  # type: ignore[arg-type]

    monkeypatch.setattr(settle, "recount", counted)

    async def together(run: JobRun) -> Outcome:
        await start.wait()
        return Done()

    group, child = job_type("sync", None), job_type("work", together)
    children = [NewJob(child, "project-a", {"item": f"t{i}"}) for i in range(30)]
    parent_id = await add(sessions, clock, group, "many", children=children)
    runner = Runner(sessions, JobTypes([group, child]), clock, POLICY)
    tasks = [asyncio.create_task(runner.run(c)) for c in await take(sessions, clock, ["work"], limit=40)]
    start.set()
    await asyncio.gather(*tasks)
    parent = await row(sessions, parent_id)
    assert (parent.status, parent.progress["children"]["SUCCESS"]) == ("SUCCESS", 30)
    assert set(recounts) == {parent_id}
    assert len(recounts) < 30  # each recount served every child that finished while the one before ran


async def test_a_parent_left_behind_by_a_dead_worker_is_recounted_by_the_sweep(sessions: Sessions) -> None:
    clock = FakeClock()
    group, child = job_type("sync", None), job_type("work")
    children = [NewJob(child, "project-a", {"item": pod}) for pod in ("Pod1", "Pod2")]
    parent_id = await add(sessions, clock, group, "keypair k1", children=children)
    other_id = await add(sessions, clock, group, "keypair k2", children=[NewJob(child, "project-a", {"item": "Pod3"})])
    claims = await take(sessions, clock, ["work"])
    writes = settle.Writes(sessions)
    for claim in claims:  # the children's writes commit; the worker dies before recounting
        await writes.finish(claim, Done() if claim.resource["item"] != "Pod2" else Fail("no"), clock.now())
    assert (await row(sessions, parent_id)).status == "RUNNING"
    assert set(await settle.stale_parents(sessions)) == {parent_id, other_id}
    parents = settle.Parents(sessions, clock)
    assert await parents.sweep() == 2
    assert (await row(sessions, parent_id)).status == "FAIL"
    assert (await row(sessions, other_id)).status == "SUCCESS"
    assert await settle.stale_parents(sessions) == []
    assert await parents.sweep() == 0
