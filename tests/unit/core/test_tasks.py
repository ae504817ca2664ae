from __future__ import annotations

import asyncio
import logging

import pytest

from atoll.core.tasks import BackgroundTasks, create_guarded_task


async def _crash() -> None:
    raise RuntimeError("boom")


async def test_a_crash_is_logged_when_it_happens(caplog: pytest.LogCaptureFixture) -> None:
    task = create_guarded_task(_crash(), name="doomed")
    await asyncio.wait([task])
    # Logged by the task's own callback, before (and without) anyone awaiting its result.
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.getMessage() == "Background task doomed crashed"
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "boom"
    with pytest.raises(RuntimeError, match="boom"):
        task.result()


async def test_success_and_cancellation_log_nothing(caplog: pytest.LogCaptureFixture) -> None:
    async def forever() -> None:
        await asyncio.Event().wait()

    done = create_guarded_task(asyncio.sleep(0, result=7), name="fine")
    cancelled = create_guarded_task(forever(), name="cancelled")
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.wait([done, cancelled])
    assert done.result() == 7
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_background_tasks_are_bounded_and_closed(caplog: pytest.LogCaptureFixture) -> None:
    release = asyncio.Event()
    finished: list[int] = []

    async def work(n: int) -> None:
        await release.wait()
        finished.append(n)

    background = BackgroundTasks(limit=2)
    first = background.spawn(work(1), name="w1")
    second = background.spawn(work(2), name="w2")
    assert first is not None
    assert second is not None
    assert background.spawn(work(3), name="w3") is None  # full: declined, and the coroutine closed unrun
    assert len(background) == 2
    release.set()
    await asyncio.wait([first, second])
    assert sorted(finished) == [1, 2]
    assert len(background) == 0

    crash = background.spawn(_crash(), name="crash")
    assert crash is not None
    await asyncio.wait([crash])
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == ["Background task crash crashed"]

    release.clear()
    pending = background.spawn(work(4), name="w4")
    assert pending is not None
    await background.aclose()
    assert pending.cancelled()
    assert sorted(finished) == [1, 2]  # the cancelled one never finished
    assert background.spawn(work(5), name="w5") is None  # closed
