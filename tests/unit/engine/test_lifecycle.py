from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest

from atoll.engine.lifecycle import Lifecycle


class Resources:
    def __init__(self) -> None:
        self.closed: list[str] = []

    def closer(self, name: str, *, fail: bool = False) -> Callable[[], Awaitable[None]]:
        async def close() -> None:
            self.closed.append(name)
            if fail:
                raise OSError(f"{name} would not close")

        return close


async def _until(predicate: Callable[[], bool], what: str) -> None:
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"gave up waiting for {what}")


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_workers_run_until_stop_then_resources_close_last_first() -> None:
    resources = Resources()
    seen: list[str] = []

    async def worker(stop: asyncio.Event) -> None:
        seen.append("started")
        await stop.wait()
        seen.append("stopped")

    lifecycle = Lifecycle(grace=5)
    lifecycle.on_close(resources.closer("db"))
    lifecycle.on_close(resources.closer("http"))
    lifecycle.add_worker("w", worker)
    async with lifecycle:
        await _until(lambda: seen == ["started"], "the worker to start")
        assert resources.closed == []
    assert seen == ["started", "stopped"]
    assert resources.closed == ["http", "db"]


async def test_a_crashed_worker_is_logged_at_once_and_restarted(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []

    async def flaky(stop: asyncio.Event) -> None:
        runs.append(1)
        if len(runs) < 3:
            raise RuntimeError(f"crash {len(runs)}")
        await stop.wait()

    lifecycle = Lifecycle(restart_delay=0.01, max_restart_delay=0.02)
    lifecycle.add_worker("flaky", flaky)
    async with lifecycle:
        # Logged while the engine still runs, not when it stops.
        await _until(lambda: len(runs) == 3, "the third start")
        assert _errors(caplog) == ["Engine worker flaky crashed", "Engine worker flaky crashed"]
    crash = next(r for r in caplog.records if r.levelno == logging.ERROR)
    assert crash.exc_info is not None
    assert str(crash.exc_info[1]) == "crash 1"


async def test_a_worker_that_returns_early_is_restarted(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []

    async def quits(stop: asyncio.Event) -> None:
        runs.append(1)
        if len(runs) > 1:
            await stop.wait()

    lifecycle = Lifecycle(restart_delay=0.01, max_restart_delay=0.01)
    lifecycle.add_worker("quits", quits)
    async with lifecycle:
        await _until(lambda: len(runs) == 2, "the restart")
    assert _errors(caplog) == ["Engine worker quits returned while the engine runs"]


async def test_a_stuck_worker_is_cancelled_and_resources_still_close(caplog: pytest.LogCaptureFixture) -> None:
    resources = Resources()
    cancelled: list[bool] = []

    async def stuck(stop: asyncio.Event) -> None:
        try:
            await asyncio.Event().wait()  # ignores stop
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    lifecycle = Lifecycle(grace=0.05)
    lifecycle.on_close(resources.closer("db"))
    lifecycle.add_worker("stuck", stuck)
    async with lifecycle:
        await asyncio.sleep(0)
    assert cancelled == [True]
    assert resources.closed == ["db"]
    assert "did not stop within" in "".join(r.getMessage() for r in caplog.records)


async def test_a_failing_closer_does_not_keep_the_others_open(caplog: pytest.LogCaptureFixture) -> None:
    resources = Resources()
    lifecycle = Lifecycle()
    lifecycle.on_close(resources.closer("db"))
    lifecycle.on_close(resources.closer("http", fail=True))
    await lifecycle.run(_set_event())
    assert resources.closed == ["http", "db"]
    assert len(_errors(caplog)) == 1
    assert _errors(caplog)[0].startswith("Closing an engine resource")


async def test_resources_close_when_the_body_raises() -> None:
    resources = Resources()
    lifecycle = Lifecycle()
    lifecycle.on_close(resources.closer("db"))
    with pytest.raises(KeyError):
        async with lifecycle:
            raise KeyError("x")
    assert resources.closed == ["db"]


def _set_event() -> asyncio.Event:
    event = asyncio.Event()
    event.set()
    return event


async def test_workers_are_added_before_start() -> None:
    async def idle(stop: asyncio.Event) -> None:
        await stop.wait()

    lifecycle = Lifecycle()
    lifecycle.add_worker("a", idle)
    async with lifecycle:
        with pytest.raises(RuntimeError, match="before the lifecycle starts"):
            lifecycle.add_worker("b", idle)
