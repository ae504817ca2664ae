from __future__ import annotations

import asyncio
import logging

import pytest

from atoll.core.backoff import Backoff
from atoll.core.clock import FakeClock
from atoll.engine.periodic import AlwaysLeader, PeriodicRunner, PeriodicTask


class Recorder:
    def __init__(self) -> None:
        self.runs: list[str] = []

    def task(self, name: str, interval: float, *, fail: bool = False) -> PeriodicTask:
        async def run() -> None:
            self.runs.append(name)
            if fail:
                raise RuntimeError(f"{name} failed")

        return PeriodicTask(name, interval, run)


class Follower:
    def __init__(self) -> None:
        self.released = 0

    async def is_leader(self) -> bool:
        return False

    async def release(self) -> None:
        self.released += 1


async def test_tasks_run_when_due_and_not_before() -> None:
    clock = FakeClock()
    recorder = Recorder()
    tasks = [recorder.task("fast", 10), recorder.task("slow", 30)]
    runner = PeriodicRunner(tasks, AlwaysLeader(), clock, check_interval=60)
    assert await runner.run_due() == 10
    assert recorder.runs == ["fast", "slow"]
    clock.advance(9.5)
    assert await runner.run_due() == 0.5
    assert recorder.runs == ["fast", "slow"]
    clock.advance(0.5)
    assert await runner.run_due() == 10
    assert recorder.runs == ["fast", "slow", "fast"]
    clock.advance(20)
    await runner.run_due()
    assert recorder.runs == ["fast", "slow", "fast", "fast", "slow"]


async def test_a_failing_task_does_not_stop_the_others() -> None:
    clock = FakeClock()
    recorder = Recorder()
    tasks = [recorder.task("bad", 5, fail=True), recorder.task("good", 5)]
    runner = PeriodicRunner(tasks, AlwaysLeader(), clock)
    await runner.run_due()
    clock.advance(5)
    await runner.run_due()
    assert recorder.runs == ["bad", "good", "bad", "good"]


async def test_a_non_leader_runs_nothing() -> None:
    recorder = Recorder()
    runner = PeriodicRunner([recorder.task("t", 1)], Follower(), FakeClock(), check_interval=2.5)
    assert await runner.run_due() == 2.5
    assert recorder.runs == []


async def test_no_tasks() -> None:
    assert await PeriodicRunner([], AlwaysLeader(), FakeClock(), check_interval=3).run_due() == 3


async def test_run_forever_stops_on_the_event_and_releases_leadership() -> None:
    recorder = Recorder()
    leadership = Follower()
    stop = asyncio.Event()
    stop.set()
    await asyncio.wait_for(PeriodicRunner([recorder.task("t", 1)], leadership, FakeClock()).run_forever(stop), 5)
    assert leadership.released == 1
    assert recorder.runs == []


async def test_run_forever_runs_then_stops_when_asked() -> None:
    clock = FakeClock()
    stop = asyncio.Event()
    runs: list[int] = []

    async def run() -> None:
        runs.append(1)
        stop.set()

    class Leader(Follower):
        async def is_leader(self) -> bool:
            return True

    leadership = Leader()
    await asyncio.wait_for(PeriodicRunner([PeriodicTask("t", 60, run)], leadership, clock).run_forever(stop), 5)
    assert runs == [1]
    assert leadership.released == 1


async def test_leadership_is_checked_again_at_least_every_check_interval() -> None:
    clock = FakeClock()
    recorder = Recorder()
    runner = PeriodicRunner([recorder.task("slow", 300)], AlwaysLeader(), clock, check_interval=2)
    assert await runner.run_due() == 2  # not 300: the leader re-checks its lock meanwhile
    clock.advance(2)
    assert await runner.run_due() == 2
    assert recorder.runs == ["slow"]


class Flaky:
    """Leads, except when told to fail or to have lost the lock."""

    def __init__(self) -> None:
        self.failures = 0
        self.leader = True
        self.checks = 0
        self.released = 0

    async def is_leader(self) -> bool:
        self.checks += 1
        if self.failures:
            self.failures -= 1
            raise ConnectionError("coordination backend unreachable")
        return self.leader

    async def release(self) -> None:
        self.released += 1


async def test_a_coordination_error_is_logged_and_retried_with_backoff(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    recorder = Recorder()
    leadership = Flaky()
    leadership.failures = 3
    runner = PeriodicRunner([recorder.task("t", 60)], leadership, clock, check_interval=1, backoff=Backoff(1, 3))
    assert [await runner.run_due() for _ in range(3)] == [1, 2, 3]
    assert recorder.runs == []
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3
    assert "ConnectionError: coordination backend unreachable" in warnings[0].getMessage()
    assert warnings[0].exc_info is not None  # the traceback once per streak, not every turn
    assert not warnings[1].exc_info
    assert await runner.run_due() == 1  # back: tasks run, the backoff starts over
    assert recorder.runs == ["t"]
    leadership.failures = 1
    assert await runner.run_due() == 1


async def test_run_forever_survives_coordination_errors() -> None:
    leadership = Flaky()
    leadership.failures = 2
    stop = asyncio.Event()
    runs: list[int] = []

    async def run() -> None:
        runs.append(1)
        stop.set()

    runner = PeriodicRunner([PeriodicTask("t", 60, run)], leadership, FakeClock(), backoff=Backoff(0.01, 0.01))
    await asyncio.wait_for(runner.run_forever(stop), 5)
    assert runs == [1]
    assert leadership.checks == 3
    assert leadership.released == 1


async def test_a_leader_that_loses_its_lock_stops_its_tasks(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    recorder = Recorder()
    leadership = Flaky()
    runner = PeriodicRunner([recorder.task("t", 5)], leadership, clock, check_interval=1)
    await runner.run_due()
    assert recorder.runs == ["t"]
    leadership.leader = False
    for _ in range(10):
        clock.advance(1)
        await runner.run_due()
    assert recorder.runs == ["t"]
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert messages == ["This engine is no longer the leader: it stops running the periodic tasks"]
    leadership.leader = True
    await runner.run_due()
    assert recorder.runs == ["t", "t"]


async def test_a_failing_release_does_not_escape(caplog: pytest.LogCaptureFixture) -> None:
    class BadRelease(Flaky):
        async def release(self) -> None:
            raise ConnectionError("gone")

    stop = asyncio.Event()
    stop.set()
    await PeriodicRunner([], BadRelease(), FakeClock()).run_forever(stop)
    assert [r.getMessage() for r in caplog.records] == ["Releasing the engine's leadership failed"]
