from __future__ import annotations

import asyncio

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
    runner = PeriodicRunner([recorder.task("fast", 10), recorder.task("slow", 30)], AlwaysLeader(), clock)
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
    runner = PeriodicRunner([recorder.task("t", 1)], Follower(), FakeClock())
    assert await runner.run_due() == 1.0
    assert recorder.runs == []


async def test_no_tasks() -> None:
    assert await PeriodicRunner([], AlwaysLeader(), FakeClock()).run_due() == 1.0


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
