"""Background tasks that never die silently.

Every task Atoll starts outside a request goes through `create_guarded_task`
(in the spirit of kopf's helper of the same name): its crash is logged the
moment it happens, with its traceback, instead of when someone finally awaits
it (or never, when nobody does). `BackgroundTasks` adds what fire-and-forget
work needs on top: strong references (asyncio keeps only weak ones), a bound
on how many run at once, and one `aclose` that cancels what is left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

LOG = logging.getLogger(__name__)

T = TypeVar("T")


def create_guarded_task(coro: Coroutine[Any, Any, T], *, name: str, logger: logging.Logger = LOG) -> asyncio.Task[T]:
    """`asyncio.create_task`, plus an error log with the traceback as soon as the task crashes."""
    task = asyncio.create_task(coro, name=name)
    task.add_done_callback(lambda done: _log_crash(done, logger))
    return task


def _log_crash(task: asyncio.Task[Any], logger: logging.Logger) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        logger.error("Background task %s crashed", task.get_name(), exc_info=error)


class BackgroundTasks:
    """At most `limit` guarded tasks at once; `spawn` declines more rather than queueing them."""

    def __init__(self, limit: int, logger: logging.Logger = LOG) -> None:
        self._limit = limit
        self._logger = logger
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any] | None:
        """Start `coro` in the background; None (and `coro` closed unrun) when full or closed."""
        if self._closed or len(self._tasks) >= self._limit:
            coro.close()
            return None
        task = create_guarded_task(coro, name=name, logger=self._logger)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def aclose(self) -> None:
        """Cancel every task still running and wait for them to end."""
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
