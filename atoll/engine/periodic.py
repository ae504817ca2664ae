"""Periodic tasks run on one elected engine.

The engine that holds the coordination lock is the leader; the others wait
and take over when it dies (tooz releases a dead member's lock, or lets it
expire). Leadership is checked again every turn, at least every
`check_interval` seconds: a leader that lost its lock stops running the
leader-only tasks at its next turn.

Nothing raises into the loop. A task's failure is logged and the task runs
again at its next turn; a coordination failure (the backend unreachable) is
logged, counts as "not the leader" for that turn, and is retried after a
growing delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from atoll.core.backoff import Backoff
from atoll.core.clock import Clock

LOG = logging.getLogger(__name__)


class Leadership(Protocol):
    async def is_leader(self) -> bool:
        """Whether this engine leads now: take the lock when free, renew and re-check it when held."""
        ...

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
    def __init__(
        self,
        tasks: list[PeriodicTask],
        leadership: Leadership,
        clock: Clock,
        *,
        check_interval: float = 1.0,
        backoff: Backoff | None = None,
    ) -> None:
        self._tasks = tasks
        self._leadership = leadership
        self._clock = clock
        self._check_interval = check_interval
        self._backoff = backoff or Backoff(check_interval, 60.0)
        self._leading = False

    async def run_due(self) -> float:
        """Run every task whose time has come; return seconds until the next turn."""
        try:
            leader = await self._leadership.is_leader()
        except Exception as error:
            delay = self._backoff.next()
            LOG.warning(
                "Coordination failed (%s: %s); this engine runs no periodic task until it can check its "
                "leadership again in %gs",
                type(error).__name__,
                error,
                delay,
                exc_info=self._backoff.failures == 1,
            )
            self._set_leading(False)
            return delay
        self._backoff.reset()
        self._set_leading(leader)
        if not leader:
            return self._check_interval
        for task in self._tasks:
            if self._clock.monotonic() >= task.next_at:
                await self._run(task)
                task.next_at = self._clock.monotonic() + task.interval
        if not self._tasks:
            return self._check_interval
        due_in = min(t.next_at for t in self._tasks) - self._clock.monotonic()
        return max(0.0, min(due_in, self._check_interval))

    def _set_leading(self, leader: bool) -> None:
        if self._leading and not leader:
            LOG.warning("This engine is no longer the leader: it stops running the periodic tasks")
        self._leading = leader

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
            try:
                await self._leadership.release()
            except Exception:  # stopping goes on; the lock expires or dies with the process
                LOG.exception("Releasing the engine's leadership failed")
