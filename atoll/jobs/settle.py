"""Guarded writes of a running job: checkpoint, finish, release. And the parent's status.

Every write matches the job on (seq, lease owner, attempt): a worker whose lease
passed to another worker changes nothing and gets `LeaseLost`.

A child's write commits on its own; its parent is then recounted by `Parents`,
which runs one recount at a time per parent and lets every child that finished
while one ran share the next: a hundred children finishing together cost a few
recounts, not a hundred transactions queued on the parent's row. A recount locks
the parent row first, so recounts of one parent (from any engine) run one after
the other and each one sees every child write committed before it began; every
finished child waits for a recount that began after its write, so the parent
never stays RUNNING after its last child finished. Locking the parent before
anything else also keeps MySQL's repeatable-read snapshot (taken at the first
plain read) from predating a sibling that finished just before.

A worker that dies between a child's write and the recount leaves the parent
behind its children: `stale_parents` finds such parents and the worker's
heartbeat recounts them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.core.clock import Clock
from atoll.db.models import Job
from atoll.jobs.leases import Claim, rowcount
from atoll.jobs.outcomes import Done, LeaseLost, Outcome, Retry
from atoll.jobs.status import derive, summary
from atoll.types import JobStatus

LOG = logging.getLogger(__name__)
REASON_LENGTH = 2048
UNFINISHED = (JobStatus.NEW.value, JobStatus.RUNNING.value)


def _owned(claim: Claim) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        Job.seq == claim.seq,
        Job.lease_owner == claim.owner,
        Job.attempts == claim.attempt,
        Job.status == JobStatus.RUNNING.value,
    )


async def lock(session: AsyncSession, job_id: str) -> None:
    await session.execute(sa.select(Job.seq).where(Job.id == job_id).with_for_update())


async def refresh_parent(session: AsyncSession, parent_id: str, now: dt.datetime) -> JobStatus:
    """Recompute a parent's status from its children (the caller holds the parent's lock)."""
    rows = await session.execute(
        sa.select(Job.status, sa.func.count()).where(Job.parent_id == parent_id).group_by(Job.status)
    )
    counts = {JobStatus(status): int(n) for status, n in rows.all()}
    status = derive(counts)
    progress = {"children": {s.value: counts.get(s, 0) for s in JobStatus}}
    await session.execute(
        sa.update(Job)
        .where(Job.id == parent_id)
        .values(status=status.value, reason=summary(counts), progress=progress, updated_at=now)
    )
    return status


async def recount(sessions: async_sessionmaker[AsyncSession], parent_id: str, now: dt.datetime) -> JobStatus:
    """Lock a parent and recompute its status from its children, in a transaction of its own."""
    async with sessions.begin() as session:
        await lock(session, parent_id)
        return await refresh_parent(session, parent_id, now)


async def stale_parents(sessions: async_sessionmaker[AsyncSession], limit: int = 100) -> list[str]:
    """Parents still NEW or RUNNING whose children have all finished (their last recount was lost)."""
    child = sa.orm.aliased(Job)
    query = (
        sa.select(Job.id)
        .where(
            Job.status.in_(UNFINISHED),
            sa.exists().where(child.parent_id == Job.id),
            ~sa.exists().where(child.parent_id == Job.id, child.status.in_(UNFINISHED)),
        )
        .limit(limit)
    )
    async with sessions() as session:
        return [str(job_id) for job_id in (await session.scalars(query)).all()]


class Parents:
    """Recounts parents after their children's writes: one recount at a time per parent, shared
    by every child that finished while the one before it ran."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock
        self._next: dict[str, asyncio.Future[None]] = {}
        """Per parent, the recount not begun yet that the children finished meanwhile wait for."""
        self._loops: dict[str, asyncio.Task[None]] = {}

    async def recount(self, parent_id: str) -> None:
        """Return once a recount of `parent_id` that began after this call has committed."""
        waiting = self._next.get(parent_id)
        if waiting is None:
            waiting = self._next[parent_id] = asyncio.get_running_loop().create_future()
            if parent_id not in self._loops:
                self._loops[parent_id] = asyncio.create_task(self._loop(parent_id), name=f"recount-{parent_id}")
        await asyncio.shield(waiting)

    async def _loop(self, parent_id: str) -> None:
        try:
            while (waiting := self._next.pop(parent_id, None)) is not None:
                try:
                    await recount(self._sessions, parent_id, self._clock.now())
                except Exception as error:  # the database away: the waiting children hear of it
                    waiting.set_exception(error)
                    waiting.exception()  # retrieved here too: nobody may be waiting any more
                else:
                    waiting.set_result(None)
        finally:
            del self._loops[parent_id]

    async def sweep(self) -> int:
        """Recount the parents a dead worker left behind their children; return how many."""
        stale = await stale_parents(self._sessions)
        for parent_id in stale:
            status = await recount(self._sessions, parent_id, self._clock.now())
            LOG.info("Job %s: recounted after its children finished (%s)", parent_id, status.value)
        return len(stale)

    async def drain(self) -> None:
        """Wait for the recounts under way."""
        while self._loops:
            await asyncio.gather(*self._loops.values(), return_exceptions=True)


async def _update(session: AsyncSession, claim: Claim, values: Mapping[str, Any]) -> bool:
    """The guarded UPDATE of a held job; False when the job is no longer `claim`'s."""
    result = await session.execute(sa.update(Job).where(*_owned(claim)).values(**values))
    return rowcount(result) == 1


def _lost(claim: Claim) -> LeaseLost:
    return LeaseLost(f"job {claim.id} attempt {claim.attempt} is no longer held by {claim.owner}")


def _released(claim: Claim, now: dt.datetime) -> dict[str, Any]:
    """A job given back untouched (the worker is stopping): due now, this attempt not counted."""
    free = {"status": JobStatus.NEW.value, "lease_owner": None, "running_key": None, "run_at": now}
    return {**free, "attempts": claim.attempt - 1}


async def _write(
    sessions: async_sessionmaker[AsyncSession], claim: Claim, values: Mapping[str, Any], now: dt.datetime
) -> None:
    async with sessions.begin() as session:
        if not await _update(session, claim, {**values, "updated_at": now}):
            raise _lost(claim)


async def checkpoint(
    sessions: async_sessionmaker[AsyncSession], claim: Claim, progress: Mapping[str, Any], now: dt.datetime
) -> None:
    await _write(sessions, claim, {"progress": dict(progress)}, now)


_Pending = tuple[Claim, dict[str, Any], asyncio.Future[None]]


class Writes:
    """The guarded writes of one worker's running jobs, committed together (group commit).

    A hundred jobs checkpointing or finishing at once were a hundred transactions queued on
    the database (on SQLite, on its one write lock, whose busy handler sleeps between
    tries). Here the first write starts a transaction at once and the writes asked for while
    it runs go together in the next one: each its own guarded UPDATE, in `seq` order (the
    same lock order in every engine), each told on its own whether it still held its job
    (`LeaseLost` for one never undoes another). A failed transaction fails all of its writes.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], most: int = 500) -> None:
        self._sessions = sessions
        self._most = most
        self._queue: list[_Pending] = []
        self._flushing: asyncio.Task[None] | None = None

    async def checkpoint(self, claim: Claim, progress: Mapping[str, Any], now: dt.datetime) -> None:
        await self._submit(claim, {"progress": dict(progress), "updated_at": now})

    async def finish(self, claim: Claim, outcome: Outcome, now: dt.datetime) -> None:
        """Record `outcome` (a Retry with its delay resolved); raises `LeaseLost`."""
        await self._submit(claim, {**_values(outcome, now), "updated_at": now})

    async def release(self, claim: Claim, now: dt.datetime) -> None:
        """Give a job back untouched (the worker is stopping): due now, this attempt not counted."""
        await self._submit(claim, {**_released(claim, now), "updated_at": now})

    async def _submit(self, claim: Claim, values: dict[str, Any]) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((claim, values, done))
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush(), name="job-writes")
        await asyncio.shield(done)  # a cancelled caller's write is still made (it was asked for)

    async def _flush(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[: self._most], self._queue[self._most :]
                await self._commit(sorted(batch, key=lambda pending: pending[0].seq))
        finally:
            self._flushing = None

    async def _commit(self, batch: list[_Pending]) -> None:
        held: list[bool] = []
        try:
            async with self._sessions.begin() as session:
                for claim, values, _ in batch:
                    held.append(await _update(session, claim, values))
        except Exception as error:
            for _, _, done in batch:
                done.set_exception(error)
                done.exception()  # retrieved here too: its caller may be gone
            return
        for (claim, _, done), ok in zip(batch, held, strict=True):
            if ok:
                done.set_result(None)
            else:
                done.set_exception(_lost(claim))
                done.exception()

    async def drain(self) -> None:
        """Wait for the writes under way."""
        while self._flushing is not None:
            await asyncio.gather(self._flushing, return_exceptions=True)


def _values(outcome: Outcome, now: dt.datetime) -> dict[str, Any]:
    free = {"lease_owner": None, "running_key": None, "run_at": now}
    if isinstance(outcome, Done):
        done = {**free, "status": JobStatus.SUCCESS.value, "reason": ""}
        return done if outcome.progress is None else {**done, "progress": dict(outcome.progress)}
    if isinstance(outcome, Retry):
        assert outcome.delay is not None, "the runner resolves the delay"
        later = now + dt.timedelta(seconds=outcome.delay)
        return {**free, "status": JobStatus.NEW.value, "reason": outcome.reason[:REASON_LENGTH], "run_at": later}
    return {**free, "status": JobStatus.FAIL.value, "reason": outcome.reason[:REASON_LENGTH]}


async def finish(sessions: async_sessionmaker[AsyncSession], claim: Claim, outcome: Outcome, now: dt.datetime) -> None:
    """Record `outcome` (a Retry with its delay resolved) and recount the parent; raises
    `LeaseLost`. (A worker uses `Writes` and `Parents`, which batch both.)"""
    await _settle(sessions, claim, _values(outcome, now), now)


async def release(sessions: async_sessionmaker[AsyncSession], claim: Claim, now: dt.datetime) -> None:
    """Give a job back untouched (the worker is stopping): due now, this attempt not counted."""
    await _settle(sessions, claim, _released(claim, now), now)


async def _settle(
    sessions: async_sessionmaker[AsyncSession], claim: Claim, values: Mapping[str, Any], now: dt.datetime
) -> None:
    await _write(sessions, claim, values, now)
    if claim.parent_id:
        await recount(sessions, claim.parent_id, now)
