"""Ask every pod at once, each within its own timeout; a pod that fails is reported, not raised.

A pod's call that times out or raises `PodUnavailable` makes it *failed*,
with the reason kept for logs (and for the caller's ``Atoll-Partial-Pods``
header, which takes only the names). Any other exception is the client's
business (a pod's 403, an `UnmergeableSort`): the other calls are cancelled
and awaited, then it propagates. Nothing is left running either way, even
when the caller itself is cancelled.

The calls are plain tasks, not `atoll.core.tasks.create_guarded_task`: they
live inside the request that awaits them, and their errors go to it rather
than to a crash log.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Iterable
from typing import Generic, TypeVar

from atoll.listing.errors import PodUnavailable

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class FanOut(Generic[T]):
    results: dict[str, T]
    failed: dict[str, str]
    """Pod name -> why it gave no result."""


@dataclasses.dataclass(frozen=True)
class _Outcome(Generic[T]):
    pod: str
    result: tuple[T] | None = None
    failure: str | None = None


async def fan_out(pods: Iterable[str], call: Callable[[str], Awaitable[T]], timeout: float) -> FanOut[T]:
    """`call(pod)` for every pod concurrently, each bounded by `timeout` seconds."""

    async def one(pod: str) -> _Outcome[T]:
        try:
            async with asyncio.timeout(timeout):
                return _Outcome(pod, result=(await call(pod),))
        except TimeoutError:
            return _Outcome(pod, failure=f"no answer within {timeout:g} s")
        except PodUnavailable as error:
            return _Outcome(pod, failure=str(error) or "unavailable")

    tasks = [asyncio.create_task(one(pod), name=f"atoll.listing:{pod}") for pod in pods]
    try:
        outcomes = await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    results = {o.pod: o.result[0] for o in outcomes if o.result is not None}
    failed = {o.pod: o.failure for o in outcomes if o.failure is not None}
    return FanOut(results, failed)
