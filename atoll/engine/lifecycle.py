"""The engine's lifecycle: long-running workers and the resources they use.

    lifecycle = Lifecycle()
    lifecycle.on_close(db_engine.dispose)          # closed at stop, last added first
    lifecycle.add_worker("periodic", runner.run_forever)
    lifecycle.add_worker("jobs", job_worker.run_forever)   # any `async def run(stop)`
    async with lifecycle:                          # start ... stop, resources always closed
        ...

A worker is `async def run(stop: asyncio.Event) -> None` that returns once
`stop` is set. Each runs in a guarded task (`atoll.core.tasks`), so a crash is
logged at once; a worker that crashes or returns while the engine still runs
is started again after a growing delay: one bug or outage never leaves the
engine without that worker. Stopping sets the event, gives the workers
`grace` seconds, cancels what is left, then closes every resource, each
closer run even when an earlier one failed.
"""

from __future__ import annotations

import asyncio
import logging
import types
from collections.abc import Awaitable, Callable

from atoll.core.backoff import Backoff
from atoll.core.tasks import create_guarded_task

LOG = logging.getLogger(__name__)

Worker = Callable[[asyncio.Event], Awaitable[None]]
Closer = Callable[[], Awaitable[object]]


class Lifecycle:
    def __init__(self, *, grace: float = 10.0, restart_delay: float = 1.0, max_restart_delay: float = 60.0) -> None:
        self._grace = grace
        self._restart = (restart_delay, max_restart_delay)
        self._workers: list[tuple[str, Worker]] = []
        self._closers: list[Closer] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()

    def add_worker(self, name: str, run: Worker) -> None:
        """Run `run(stop)` from `start` until `stop`; add workers before starting."""
        if self._tasks:
            raise RuntimeError("add workers before the lifecycle starts")
        self._workers.append((name, run))

    def on_close(self, close: Closer) -> None:
        """Call `close()` when the lifecycle stops, after every worker has ended."""
        self._closers.append(close)

    async def start(self) -> None:
        self._stop.clear()
        self._tasks = [create_guarded_task(self._supervise(n, r), name=f"engine:{n}") for n, r in self._workers]

    async def stop(self) -> None:
        """End the workers (politely, then by cancelling) and close every resource."""
        self._stop.set()
        try:
            if self._tasks:
                _, late = await asyncio.wait(self._tasks, timeout=self._grace)
                for task in late:
                    LOG.warning("Engine worker %s did not stop within %gs; cancelling it", task.get_name(), self._grace)
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)
        finally:
            self._tasks = []
            await self._close_all()

    async def run(self, stop: asyncio.Event) -> None:
        """Start, run until `stop` is set, stop."""
        async with self:
            await stop.wait()

    async def __aenter__(self) -> Lifecycle:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: types.TracebackType | None
    ) -> None:
        await self.stop()

    async def _supervise(self, name: str, run: Worker) -> None:
        backoff = Backoff(*self._restart)
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            started = loop.time()
            try:
                await run(self._stop)
            except Exception:
                LOG.exception("Engine worker %s crashed", name)
            else:
                if self._stop.is_set():
                    return
                LOG.error("Engine worker %s returned while the engine runs", name)
            if loop.time() - started > backoff.maximum:  # it had been running well: start over
                backoff.reset()
            delay = backoff.next()
            LOG.info("Engine worker %s restarts in %gs", name, delay)
            await self._wait_stop(delay)

    async def _wait_stop(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
        except TimeoutError:
            return

    async def _close_all(self) -> None:
        closers, self._closers = self._closers, []
        for close in reversed(closers):
            try:
                await close()
            except Exception:  # one failing closer must not leave the others open
                LOG.exception("Closing an engine resource (%r) failed", close)
