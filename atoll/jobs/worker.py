"""The worker: one long-running coroutine that claims due jobs and runs them.

Up to `concurrency` jobs run at once, each in its own task; a heartbeat renews
their leases every third of the lease time and cancels the ones whose lease
another worker took over. On stop, running jobs are cancelled and handed back
(due at once, the interrupted attempt not counted) so another worker resumes them
from their last checkpoint without waiting for the lease to expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.core.clock import Clock
from atoll.jobs import leases
from atoll.jobs.declarations import JobTypes, RetryPolicy
from atoll.jobs.leases import Claim
from atoll.jobs.runner import Runner, run_guarded

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class WorkerSettings:
    concurrency: int = 64
    poll_interval: float = 0.25
    lease_time: float = 30.0


def worker_name() -> str:
    """Unique per worker instance: a restarted process never inherits a dead one's leases."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        types: JobTypes,
        clock: Clock,
        *,
        settings: WorkerSettings | None = None,
        retry: RetryPolicy | None = None,
        owner: str | None = None,
    ) -> None:
        self.owner = owner or worker_name()
        self._sessions = sessions
        self._types = types
        self._clock = clock
        self._settings = settings or WorkerSettings()
        self._runner = Runner(sessions, types, clock, retry or RetryPolicy())
        self._running: dict[int, tuple[Claim, asyncio.Task[object]]] = {}
        self._lost: set[int] = set()
        self._wake = asyncio.Event()

    @property
    def running(self) -> list[Claim]:
        return [claim for claim, _ in self._running.values()]

    async def step(self) -> int:
        """Claim as many due jobs as there are free slots and start them; return how many."""
        free = self._settings.concurrency - len(self._running)
        claims = await leases.claim(
            self._sessions,
            owner=self.owner,
            types=self._types.runnable(),
            limit=free,
            now=self._clock.now(),
            lease_time=self._settings.lease_time,
        )
        for claim in claims:
            task: asyncio.Task[object] = asyncio.create_task(run_guarded(self._runner, claim), name=f"job-{claim.id}")
            self._running[claim.seq] = (claim, task)
            task.add_done_callback(functools.partial(self._finished, claim.seq))
        return len(claims)

    def _finished(self, seq: int, task: asyncio.Task[object]) -> None:
        self._running.pop(seq, None)
        self._lost.discard(seq)
        self._wake.set()
        if not task.cancelled() and task.exception() is not None:
            LOG.error("Job task %s crashed", task.get_name(), exc_info=task.exception())

    async def heartbeat(self) -> None:
        """Renew the leases of running jobs; cancel those another worker took over; recount the
        parents a dead worker left behind their finished children."""
        lost = await leases.renew(
            self._sessions, self.running, now=self._clock.now(), lease_time=self._settings.lease_time
        )
        for seq in lost - self._lost:
            if seq not in self._running:
                continue  # it finished meanwhile
            claim, task = self._running[seq]
            LOG.warning("Job %s (%s): lease lost; stopping this worker's run of it", claim.id, claim.type)
            self._lost.add(seq)
            task.cancel()
        await self._runner.parents.sweep()

    async def drain(self) -> None:
        """Wait until every started job has finished and its parent is recounted."""
        while self._running:
            await asyncio.gather(*(task for _, task in self._running.values()), return_exceptions=True)
        await self._runner.parents.drain()

    async def run_forever(self, stop: asyncio.Event) -> None:
        beat = asyncio.create_task(self._beat_forever(stop), name="jobs-heartbeat")
        LOG.info("Job worker %s runs types: %s", self.owner, ", ".join(self._types.runnable()) or "(none)")
        try:
            while not stop.is_set():
                self._wake.clear()
                started = await self._guarded(self.step)
                full = len(self._running) >= self._settings.concurrency
                if started and not full:
                    continue  # there may be more due jobs: claim again at once
                await _wait_any(stop, self._wake, self._settings.poll_interval)
        finally:
            beat.cancel()
            for _, task in list(self._running.values()):
                task.cancel()
            await asyncio.gather(beat, *(task for _, task in self._running.values()), return_exceptions=True)
            await self._runner.writes.drain()
            await self._runner.parents.drain()

    async def _beat_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await _wait_any(stop, None, self._settings.lease_time / 3)
            await self._guarded(self.heartbeat)

    @staticmethod
    async def _guarded(step: Callable[[], Awaitable[int | None]]) -> int:
        """Run a loop step; a failure (the database away) is logged, never raised."""
        try:
            result = await step()
        except Exception:
            LOG.exception("Job worker: %s failed; trying again", getattr(step, "__name__", step))
            return 0
        return int(result or 0)


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event | None, timeout: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waiters.append(asyncio.ensure_future(wake.wait()))
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED), timeout)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
