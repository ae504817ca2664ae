"""Leader election on the file backend and on the machine's Redis, with real processes killed."""

from __future__ import annotations

import asyncio
import os
import pathlib
import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
import redis

from atoll.core.clock import FakeClock
from atoll.engine.coordination import ToozLeadership
from atoll.engine.periodic import PeriodicRunner, PeriodicTask

REDIS = os.environ.get("ATOLL_TEST_REDIS_URL", "redis://127.0.0.1:6379")
LOCK_TIMEOUT = 1
"""Seconds a Redis lock lives without renewal; short, so a killed leader's lock expires quickly."""


class Backend:
    def __init__(self, name: str, url: str, lock_key: bytes | None) -> None:
        self.name = name
        self.url = url
        self.lock_key = lock_key
        """The Redis key of the leader lock (None for the file backend)."""


@pytest.fixture(params=["file", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Iterator[Backend]:
    """Each test its own lock: a fresh directory, or a fresh Redis namespace (parallel runs never collide)."""
    if request.param == "file":
        yield Backend("file", f"file://{tmp_path}", None)
        return
    namespace = f"atoll-test-{uuid.uuid4().hex}"
    client = redis.Redis.from_url(REDIS)
    try:
        yield Backend(
            "redis",
            f"{REDIS}?namespace={namespace}&lock_timeout={LOCK_TIMEOUT}",
            f"{namespace}_atoll-engine-leader_lock".encode(),
        )
    finally:
        for key in client.scan_iter(f"{namespace}*"):
            client.delete(key)
        client.close()


@pytest.fixture
async def leaderships(backend: Backend) -> AsyncIterator[Callable[[str], ToozLeadership]]:
    made: list[ToozLeadership] = []

    def make(member: str) -> ToozLeadership:
        made.append(ToozLeadership(backend.url, member_id=member))
        return made[-1]

    yield make
    for leadership in made:
        await leadership.release()


async def _eventually_leader(leadership: ToozLeadership, seconds: float = 15) -> None:
    for _ in range(int(seconds / 0.1)):
        if await leadership.is_leader():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("never became the leader")


async def test_exactly_one_leader_and_take_over_after_release(
    leaderships: Callable[[str], ToozLeadership],
) -> None:
    first, second = leaderships("engine-1"), leaderships("engine-2")
    assert await first.is_leader() is True
    assert await second.is_leader() is False
    assert await first.is_leader() is True  # renewed and re-checked: still the leader
    assert await second.is_leader() is False

    await first.release()
    assert await second.is_leader() is True
    assert await leaderships("engine-3").is_leader() is False


async def test_leadership_outlives_the_lock_expiry_while_renewed(
    backend: Backend, leaderships: Callable[[str], ToozLeadership]
) -> None:
    leader, follower = leaderships("engine-1"), leaderships("engine-2")
    assert await leader.is_leader() is True
    for _ in range(LOCK_TIMEOUT * 5):  # turns spanning several lock lifetimes
        await asyncio.sleep(0.4)
        assert await leader.is_leader() is True
        assert await follower.is_leader() is False


async def test_release_without_ever_leading_is_harmless(tmp_path: pathlib.Path) -> None:
    idle = ToozLeadership(f"file://{tmp_path}")
    await idle.release()
    await idle.release()


LEADER_SCRIPT = textwrap.dedent("""\
    import asyncio, sys
    from atoll.engine.coordination import ToozLeadership

    async def main() -> None:
        leadership = ToozLeadership(sys.argv[1], member_id="doomed")
        while not await leadership.is_leader():
            await asyncio.sleep(0.1)
        print("leader", flush=True)
        while await leadership.is_leader():
            await asyncio.sleep(0.2)

    asyncio.run(main())
    """)


async def test_a_killed_leader_is_replaced(backend: Backend, leaderships: Callable[[str], ToozLeadership]) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LEADER_SCRIPT, backend.url, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        assert await asyncio.wait_for(proc.stdout.readline(), 60) == b"leader\n"
        survivor = leaderships("survivor")
        assert await survivor.is_leader() is False
        proc.kill()  # SIGKILL: no release, no goodbye
        await proc.communicate()
        await _eventually_leader(survivor)  # the file lock dies with the process, Redis's expires
        assert await survivor.is_leader() is True
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()


def _expire(backend: Backend) -> None:
    """What the backend does when a lock is not renewed in time (a stalled or partitioned leader)."""
    assert backend.lock_key is not None
    client = redis.Redis.from_url(REDIS)
    try:
        assert client.delete(backend.lock_key) == 1
    finally:
        client.close()


@pytest.mark.parametrize("backend", ["redis"], indirect=True)  # a file lock is not lost while its process lives
async def test_a_leader_that_lost_its_lock_steps_down_and_stops_its_tasks(
    backend: Backend, leaderships: Callable[[str], ToozLeadership], caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    runs: list[str] = []

    def runner(name: str) -> PeriodicRunner:
        async def work() -> None:
            runs.append(name)

        return PeriodicRunner([PeriodicTask("work", 1, work)], leaderships(name), clock, check_interval=1)

    old, new = runner("old"), runner("new")
    await old.run_due()
    await new.run_due()
    assert runs == ["old"]

    _expire(backend)
    clock.advance(1)
    await new.run_due()  # takes the free lock
    await old.run_due()  # renews, finds the lock is not its own any more
    clock.advance(1)
    await new.run_due()
    await old.run_due()
    assert runs == ["old", "new", "new"]
    assert "This engine lost its leader lock (expired or taken over); it steps down" in caplog.messages
