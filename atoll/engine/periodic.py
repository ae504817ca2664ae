"""Periodic tasks run on one elected engine.

The engine that holds the coordination lock is the leader; the others wait
and take over when it dies (tooz releases a dead member's lock). A task never
raises into the loop: a failure is logged and the task runs again at its next
turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from atoll.core.clock import Clock

LOG = logging.getLogger(__name__)


class Leadership(Protocol):
    async def is_leader(self) -> bool: ...

    async def release(self) -> None: ...


class AlwaysLeader:
    async def is_leader(self) -> bool:
        return True

    async def release(self) -> None:
        return None


@dataclasses.dataclass
class PeriodicTask:
    name: str
    interval: float
    run: Callable[[], Awaitable[None]]
    next_at: float = 0.0


class PeriodicRunner:
    def __init__(self, tasks: list[PeriodicTask], leadership: Leadership, clock: Clock) -> None:
        self._tasks = tasks
        self._leadership = leadership
        self._clock = clock

    async def run_due(self) -> float:
        """Run every task whose time has come; return seconds until the next one is due."""
        if not await self._leadership.is_leader():
            return 1.0
        for task in self._tasks:
            if self._clock.monotonic() >= task.next_at:
                await self._run(task)
                task.next_at = self._clock.monotonic() + task.interval
        return max(0.0, min(t.next_at for t in self._tasks) - self._clock.monotonic()) if self._tasks else 1.0

    async def _run(self, task: PeriodicTask) -> None:
        try:
            await task.run()
        except Exception:  # a task must never stop the loop
            LOG.exception("Periodic task %s failed; it runs again in %ss", task.name, task.interval)

    async def run_forever(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                delay = await self.run_due()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=max(delay, 0.05))
        finally:
            await self._leadership.release()
