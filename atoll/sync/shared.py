"""Reads of a source pod that the children of one sync request share.

A request copying one flavor to a hundred pods makes a hundred child jobs; each used to
read the source flavor and its extra specs again, so the source pod got two hundred
identical GETs at once. The children of one request (one parent job) now share one read
per (source, resource) in this process: the first child to ask reads, the others wait
for it. A request is one point in time, so its copies being made from the same reading
of the source is what was asked for.

A read that failed is not kept (each waiting child gets the failure, and its retry reads
again); a retry of a child (attempt > 1) never takes a shared read, it reads afresh. An
entry lives `ttl` seconds and at most `size` entries are kept (oldest dropped first).
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

Read = Callable[[], Awaitable[Any]]


class SharedReads:
    def __init__(self, ttl: float = 30.0, size: int = 256, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._size = size
        self._clock = clock
        self._entries: collections.OrderedDict[Hashable, tuple[float, asyncio.Future[Any]]] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: Hashable, read: Read) -> Any:
        """What `read()` gives, read once for every caller of `key` within `ttl`."""
        now = self._clock()
        found = self._entries.get(key)
        if found is not None and now - found[0] < self._ttl:
            return await asyncio.shield(found[1])
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._entries[key] = (now, future)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
        try:
            value = await read()
        except BaseException as error:
            if self._entries.get(key, (0.0, None))[1] is future:
                del self._entries[key]
            if isinstance(error, Exception):
                future.set_exception(error)
                future.exception()  # retrieved: nobody else may be waiting
            else:
                future.cancel()
            raise
        future.set_result(value)
        return value
