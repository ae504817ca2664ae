"""Group-committed writes of running jobs: many writes, few transactions, each told on its own."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from atoll.core.clock import FakeClock
from atoll.db.models import Job
from atoll.jobs import settle
from atoll.jobs.outcomes import Done, Fail, LeaseLost
from tests.unit.jobs.helpers import Sessions, add, job_type, row, take


async def test_writes_asked_for_together_share_transactions_and_each_lands(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    work = job_type()
    ids = [await add(sessions, clock, work, f"i{n}") for n in range(40)]
    claims = await take(sessions, clock, ["work"], limit=40)
    transactions = 0
    real = sessions.begin

    def counted() -> object:
        nonlocal transactions
        transactions += 1
        return real()

    writes = settle.Writes(sessions)
    monkeypatch.setattr(writes, "_sessions", type("S", (), {"begin": staticmethod(counted)})())
    await asyncio.gather(*(writes.checkpoint(c, {"step": c.resource["item"]}, clock.now()) for c in claims))
    assert transactions < 10
    await asyncio.gather(
        *(writes.finish(c, Done() if n % 2 else Fail(f"no {n}"), clock.now()) for n, c in enumerate(claims))
    )
    assert transactions < 20
    for n, job_id in enumerate(ids):
        job = await row(sessions, job_id)
        assert (job.status, job.progress, job.lease_owner) == (
            "SUCCESS" if n % 2 else "FAIL",
            {"step": f"i{n}"},
            None,
        )


async def test_a_write_whose_lease_is_gone_fails_alone(sessions: Sessions) -> None:
    clock = FakeClock()
    work = job_type()
    first, second = await add(sessions, clock, work, "a"), await add(sessions, clock, work, "b")
    claims = await take(sessions, clock, ["work"])
    async with sessions.begin() as session:  # another worker took "a" over
        await session.execute(sa.update(Job).where(Job.id == first).values(lease_owner="w2", attempts=2))
    writes = settle.Writes(sessions)
    results = await asyncio.gather(*(writes.finish(c, Done(), clock.now()) for c in claims), return_exceptions=True)
    by_item = {c.resource["item"]: r for c, r in zip(claims, results, strict=True)}
    assert isinstance(by_item["a"], LeaseLost)
    assert by_item["b"] is None
    assert ((await row(sessions, first)).status, (await row(sessions, second)).status) == ("RUNNING", "SUCCESS")


async def test_a_failed_transaction_fails_each_of_its_writes_and_the_next_ones_still_run(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    work = job_type()
    ids = [await add(sessions, clock, work, f"i{n}") for n in range(3)]
    claims = await take(sessions, clock, ["work"])
    real = sessions.begin
    calls = 0

    def away_once() -> object:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database away")
        return real()

    writes = settle.Writes(sessions)
    monkeypatch.setattr(writes, "_sessions", type("S", (), {"begin": staticmethod(away_once)})())
    results = await asyncio.gather(
        *(writes.checkpoint(c, {"step": 1}, clock.now()) for c in claims), return_exceptions=True
    )
    assert isinstance(results[0], ConnectionError)  # the first write's transaction failed, alone or with others
    await asyncio.gather(*(writes.finish(c, Done(), clock.now()) for c in claims))
    await writes.drain()
    assert [(await row(sessions, job_id)).status for job_id in ids] == ["SUCCESS"] * 3
