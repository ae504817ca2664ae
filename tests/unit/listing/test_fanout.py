"""Concurrent calls with a per-pod timeout: failures reported, errors raised, nothing left running."""

from __future__ import annotations

import asyncio

import pytest

from atoll.listing.errors import PodUnavailable
from atoll.listing.fanout import fan_out


class Forbidden(Exception):
    pass


async def test_every_pod_is_asked_at_once_and_failures_are_reported_not_raised() -> None:
    started: list[str] = []
    all_in = asyncio.Event()

    async def call(pod: str) -> str:
        started.append(pod)
        if len(started) == 4:
            all_in.set()
        await all_in.wait()  # only returns if every call is under way together
        if pod == "Pod2":
            raise PodUnavailable("HTTP 503")
        if pod == "Pod3":
            await asyncio.Event().wait()
        if pod == "Pod4":
            raise TimeoutError  # the caller's own client gave up
        return pod.lower()

    result = await fan_out(["Pod1", "Pod2", "Pod3", "Pod4"], call, timeout=0.05)
    assert result.results == {"Pod1": "pod1"}
    assert result.failed == {"Pod2": "HTTP 503", "Pod3": "no answer within 0.05 s", "Pod4": "no answer within 0.05 s"}
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_an_error_for_the_client_cancels_the_other_calls_and_propagates() -> None:
    cancelled: list[str] = []

    async def call(pod: str) -> str:
        if pod == "Pod1":
            await asyncio.sleep(0)
            raise Forbidden("403 from Pod1")
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(pod)
            raise
        return pod

    with pytest.raises(Forbidden, match="403 from Pod1"):
        await fan_out(["Pod1", "Pod2", "Pod3"], call, timeout=30)
    assert sorted(cancelled) == ["Pod2", "Pod3"]
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_cancelling_the_caller_cancels_every_call() -> None:
    cancelled: list[str] = []
    running = asyncio.Event()

    async def call(pod: str) -> str:
        running.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(pod)
            raise
        return pod

    task = asyncio.create_task(fan_out(["Pod1", "Pod2"], call, timeout=30))
    await running.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(cancelled) == ["Pod1", "Pod2"]
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_no_pods_is_no_results() -> None:
    async def call(pod: str) -> str:
        raise AssertionError(pod)

    result = await fan_out([], call, timeout=1)
    assert (result.results, result.failed) == ({}, {})
