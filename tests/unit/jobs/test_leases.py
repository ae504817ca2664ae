from __future__ import annotations

import asyncio
import datetime as dt
import random

import sqlalchemy as sa

from atoll.core.clock import FakeClock
from atoll.db.models import Job
from atoll.jobs import settle
from atoll.jobs.leases import claim, renew
from atoll.jobs.outcomes import Done, LeaseLost
from tests.unit.jobs.helpers import Sessions, add, items, job_type, row, rows, take

WORK = ["work"]


def seconds(n: float) -> dt.timedelta:
    return dt.timedelta(seconds=n)


async def test_many_concurrent_claimers_take_each_job_once(sessions: Sessions) -> None:
    clock = FakeClock()
    work = job_type()
    for i in range(60):
        await add(sessions, clock, work, f"j{i}")
    taken: list[str] = []

    async def claimer(owner: str) -> None:
        while batch := await take(sessions, clock, WORK, owner=owner, limit=3):
            taken.extend(c.id for c in batch)
            assert {c.owner for c in batch} == {owner}
            await asyncio.sleep(0)

    await asyncio.gather(*(claimer(f"w{n}") for n in range(8)))
    assert len(taken) == 60
    assert len(set(taken)) == 60
    assert {j.status for j in await rows(sessions)} == {"RUNNING"}
    assert {j.attempts for j in await rows(sessions)} == {1}


async def test_a_claim_leases_no_more_than_its_limit(sessions: Sessions) -> None:
    clock = FakeClock()
    for i in range(5):
        await add(sessions, clock, job_type(), f"j{i}")
    assert items(await take(sessions, clock, WORK, limit=2)) == ["j0", "j1"]
    assert [j.status for j in await rows(sessions)] == ["RUNNING", "RUNNING", "NEW", "NEW", "NEW"]


async def test_only_due_jobs_of_runnable_types_are_claimed(sessions: Sessions) -> None:
    clock = FakeClock()
    await add(sessions, clock, job_type("work"), "a")
    await add(sessions, clock, job_type("other"), "b")
    later = await add(sessions, clock, job_type("work"), "later")
    async with sessions.begin() as session:
        await session.execute(sa.update(Job).where(Job.id == later).values(run_at=clock.now() + seconds(10)))
    assert items(await take(sessions, clock, ["nothing"])) == []
    assert items(await take(sessions, clock, WORK)) == ["a"]
    clock.advance(9)
    assert items(await take(sessions, clock, WORK)) == []
    clock.advance(1)
    assert items(await take(sessions, clock, WORK)) == ["later"]
    assert items(await take(sessions, clock, ["other"])) == ["b"]
    assert await claim(sessions, owner="w", types=[], limit=5, now=clock.now(), lease_time=30) == []


async def test_jobs_of_one_key_run_one_at_a_time_in_creation_order(sessions: Sessions) -> None:
    clock = FakeClock()
    work = job_type()
    for i in range(3):
        await add(sessions, clock, work, f"a{i}", key="A")
    await add(sessions, clock, work, "b0", key="B")
    await add(sessions, clock, work, "free")
    first = await take(sessions, clock, WORK)
    assert sorted(items(first)) == ["a0", "b0", "free"]
    assert items(await take(sessions, clock, WORK)) == []
    a0 = next(c for c in first if c.resource["item"] == "a0")
    await settle.finish(sessions, a0, Done(), clock.now())
    assert items(await take(sessions, clock, WORK)) == ["a1"]


async def test_key_order_holds_under_concurrent_workers(sessions: Sessions) -> None:
    clock = FakeClock()
    work = job_type()
    for n in range(6):
        for key in "ABCDE":
            await add(sessions, clock, work, f"{key}{n}", key=key)
    running: set[str] = set()
    finished: list[str] = []
    rng = random.Random(7)
    total = 6 * len("ABCDE")

    async def worker(owner: str) -> None:
        # Until every job is done (a worker that gave up after some empty polls could end, on a busy
        # machine, while the others still held the keys it was waiting for).
        while len(finished) < total:
            batch = await take(sessions, clock, WORK, owner=owner, limit=2)
            if not batch:
                await asyncio.sleep(0.001)
            for c in batch:
                key, n = str(c.resource["item"])[0], int(str(c.resource["item"])[1:])
                assert key not in running, f"two jobs of key {key} at once"
                assert [f for f in finished if f[0] == key] == [f"{key}{i}" for i in range(n)]
                running.add(key)
            for c in batch:
                await asyncio.sleep(rng.random() / 1000)
                running.discard(str(c.resource["item"])[0])
                finished.append(str(c.resource["item"]))
                await settle.finish(sessions, c, Done(), clock.now())

    await asyncio.wait_for(asyncio.gather(*(worker(f"w{n}") for n in range(4))), timeout=120)
    assert sorted(finished) == sorted(f"{k}{n}" for n in range(6) for k in "ABCDE")


async def test_the_database_refuses_a_second_running_job_of_a_key(sessions: Sessions) -> None:
    """Were two jobs of one key ever both first in line (a transaction that enqueued an
    earlier job committing after a later one was claimed), the unique running_key still
    lets only one of them run."""
    clock = FakeClock()
    work = job_type()
    early = await add(sessions, clock, work, "early", key="K")
    late = await add(sessions, clock, work, "late", key="K")
    async with sessions.begin() as session:
        running = {"status": "RUNNING", "running_key": "K", "run_at": clock.now() + seconds(60)}
        await session.execute(sa.update(Job).where(Job.id == late).values(**running))
    assert items(await take(sessions, clock, WORK)) == []
    assert (await row(sessions, early)).status == "NEW"


async def test_an_expired_lease_is_taken_over_with_the_checkpoint(sessions: Sessions) -> None:
    clock = FakeClock()
    job_id = await add(sessions, clock, job_type(), "x")
    [first] = await take(sessions, clock, WORK, owner="w1")
    await settle.checkpoint(sessions, first, {"step": 2}, clock.now())
    clock.advance(29)
    assert await take(sessions, clock, WORK, owner="w2") == []
    assert await renew(sessions, [first], now=clock.now(), lease_time=30) == set()
    clock.advance(29)  # renewed at 29 s: still held at 58 s
    assert await take(sessions, clock, WORK, owner="w2") == []
    clock.advance(2)  # 31 s after the renewal: the worker is presumed dead
    [second] = await take(sessions, clock, WORK, owner="w2")
    assert (second.id, second.attempt, second.progress, second.owner) == (job_id, 2, {"step": 2}, "w2")
    assert await renew(sessions, [first], now=clock.now(), lease_time=30) == {first.seq}
    for write in (
        settle.checkpoint(sessions, first, {"step": 3}, clock.now()),
        settle.finish(sessions, first, Done(), clock.now()),
        settle.release(sessions, first, clock.now()),
    ):
        try:
            await write
        except LeaseLost:
            continue
        raise AssertionError("a write of a lost lease went through")
    job = await row(sessions, job_id)
    assert (job.status, job.lease_owner, job.progress, job.attempts) == ("RUNNING", "w2", {"step": 2}, 2)
    await settle.finish(sessions, second, Done({"step": 3}), clock.now())
    job = await row(sessions, job_id)
    assert (job.status, job.lease_owner, job.running_key, job.progress) == ("SUCCESS", None, None, {"step": 3})


async def test_an_expired_job_of_a_key_is_taken_over_and_its_key_stays_taken(sessions: Sessions) -> None:
    """The dead worker's job holds its key itself: that must not keep it from being taken over
    (a sync job, keyed by its target and resource, stayed RUNNING for good after kill -9)."""
    clock = FakeClock()
    work = job_type()
    job_id = await add(sessions, clock, work, "a0", key="A")
    await add(sessions, clock, work, "a1", key="A")
    [first] = await take(sessions, clock, WORK, owner="w1")
    assert first.id == job_id
    clock.advance(31)
    [second] = await take(sessions, clock, WORK, owner="w2")
    assert (second.id, second.attempt) == (job_id, 2)
    assert await take(sessions, clock, WORK, owner="w3") == []  # a1 waits for its key
    await settle.finish(sessions, second, Done(), clock.now())
    assert items(await take(sessions, clock, WORK, owner="w3")) == ["a1"]


async def test_release_hands_the_job_back_uncounted(sessions: Sessions) -> None:
    clock = FakeClock()
    job_id = await add(sessions, clock, job_type(), "x", key="K")
    [held] = await take(sessions, clock, WORK)
    clock.advance(5)
    await settle.release(sessions, held, clock.now())
    job = await row(sessions, job_id)
    assert (job.status, job.attempts, job.lease_owner, job.running_key, job.run_at) == (
        "NEW",
        0,
        None,
        None,
        clock.now(),
    )
    assert [c.id for c in await take(sessions, clock, WORK, owner="w2")] == [job_id]
