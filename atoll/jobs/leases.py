"""Claiming due jobs and renewing the leases of running ones.

A claim is two steps. First a plain read picks candidates: NEW jobs that are due
and first in line for their ordering key, and RUNNING jobs whose lease expired.
Then one transaction takes them. On PostgreSQL and MySQL/MariaDB the rows are
locked with ``SELECT ... FOR UPDATE SKIP LOCKED`` (concurrent claimers pass over
each other's rows instead of queueing behind them; the database re-checks that
a locked row is still due) and one UPDATE leases them. SQLite takes no row
locks and has one writer at a time: each row is taken by a compare-and-set
UPDATE on its (status, attempts) as read. Setting `running_key` makes the
database refuse a second running job of the same ordering key.

The candidate read is a separate statement because whether a locking read also
locks (and so, with SKIP LOCKED, skips) the rows of a subquery differs between
databases; the "first in line" subquery must see every row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.db.models import Job
from atoll.types import JobId, JobStatus, ProjectId

NEW, RUNNING = JobStatus.NEW.value, JobStatus.RUNNING.value


@dataclasses.dataclass(frozen=True)
class Claim:
    """A job this worker holds, as plain data. (owner, attempt) guards every later write."""

    seq: int
    id: JobId
    type: str
    project_id: ProjectId
    parent_id: JobId | None
    resource: dict[str, Any]
    progress: dict[str, Any]
    attempt: int
    owner: str


Candidate = sa.Row[int, str, int, str | None]


def _candidates(types: Collection[str], now: dt.datetime, limit: int) -> sa.Select[int, str, int, str | None]:
    earlier = sa.orm.aliased(Job)
    first_in_line = ~sa.exists().where(
        earlier.ordering_key == Job.ordering_key,
        earlier.seq < Job.seq,
        earlier.status.in_((NEW, RUNNING)),
    )
    # An expired RUNNING job resumes whatever is queued before it: it holds its key's
    # running_key, so nothing else of that key could run until it finishes.
    in_turn = sa.or_(Job.status == RUNNING, Job.ordering_key.is_(None), first_in_line)
    return (
        sa.select(Job.seq, Job.status, Job.attempts, Job.ordering_key)
        .where(Job.status.in_((NEW, RUNNING)), Job.run_at <= now, Job.type.in_(sorted(types)), in_turn)
        .order_by(Job.run_at, Job.seq)
        .limit(limit)
    )


async def _take(
    session: AsyncSession, candidates: Sequence[Candidate], limit: int, owner: str, now: dt.datetime, lease: float
) -> list[int]:
    """Lease up to `limit` of `candidates` still free, in the caller's transaction; return their seqs."""
    locking = session.get_bind().dialect.name != "sqlite"
    if locking:
        # Locked rows are re-checked by the database under the lock: still due, still unclaimed.
        wanted = [c[0] for c in candidates]
        due = (Job.seq.in_(wanted), Job.status.in_((NEW, RUNNING)), Job.run_at <= now)
        free = await session.scalars(sa.select(Job.seq).where(*due).with_for_update(skip_locked=True))
        unlocked = set(free.all())
        candidates = [c for c in candidates if c[0] in unlocked]
    keys = {key for *_, key in candidates if key is not None}
    # Which job holds each key. An expired RUNNING candidate holds its own key: it is taken over
    # with it; any other holder makes the key busy.
    held = sa.select(Job.running_key, Job.seq).where(Job.running_key.in_(keys))
    holders: dict[str | None, int] = {key: seq for key, seq in (await session.execute(held)).all()} if keys else {}
    chosen: list[Candidate] = []
    for candidate in candidates:
        seq, key = candidate[0], candidate[3]
        if len(chosen) < limit and (key is None or holders.get(key, seq) == seq):
            chosen.append(candidate)
            if key is not None:
                holders[key] = seq
    leased = {
        "status": RUNNING,
        "attempts": Job.attempts + 1,
        "lease_owner": owner,
        "running_key": Job.ordering_key,
        "run_at": now + dt.timedelta(seconds=lease),
        "updated_at": now,
    }
    if locking:
        if chosen:
            await session.execute(sa.update(Job).where(Job.seq.in_([c[0] for c in chosen])).values(**leased))
        return [c[0] for c in chosen]
    taken: list[int] = []
    for seq, status, attempts, _ in chosen:  # SQLite: no lock was taken, so compare-and-set each row
        same = (Job.seq == seq, Job.status == status, Job.attempts == attempts, Job.run_at <= now)
        if rowcount(await session.execute(sa.update(Job).where(*same).values(**leased))) == 1:
            taken.append(seq)
    return taken


def _claim(row: Job, owner: str) -> Claim:
    return Claim(
        seq=row.seq,
        id=JobId(row.id),
        type=row.type,
        project_id=ProjectId(row.project_id),
        parent_id=JobId(row.parent_id) if row.parent_id else None,
        resource=dict(row.resource),
        progress=dict(row.progress or {}),
        attempt=row.attempts,
        owner=owner,
    )


async def claim(
    sessions: async_sessionmaker[AsyncSession],
    *,
    owner: str,
    types: Collection[str],
    limit: int,
    now: dt.datetime,
    lease_time: float,
) -> list[Claim]:
    """Lease up to `limit` due jobs of `types` to `owner` until now + `lease_time`.

    One transaction (one commit, which is what a claim costs on a durable database)
    for the whole batch; were another claimer to set a running_key this batch also
    sets in between, the database refuses it and the batch is given up for this turn."""
    if not types or limit <= 0:
        return []
    async with sessions() as session:
        # Read a few more than wanted: concurrent claimers take some of the same candidates.
        candidates = (await session.execute(_candidates(types, now, limit * 2))).all()
    if not candidates:
        return []
    try:
        async with sessions.begin() as session:
            taken = await _take(session, candidates, limit, owner, now, lease_time)
            rows = (await session.scalars(sa.select(Job).where(Job.seq.in_(taken)).order_by(Job.seq))).all()
            claims = [_claim(row, owner) for row in rows if row.lease_owner == owner]
            if len(claims) < len(taken):
                raise AssertionError("a claimed row changed hands inside its claiming transaction")
    except exc.IntegrityError:
        return []  # another claimer started a job of one of these keys at the same moment
    parents = {c.parent_id for c in claims if c.parent_id}
    if parents:
        # A separate transaction: a claimer never holds a child's lock while it waits for a parent's.
        async with sessions.begin() as session:
            await session.execute(
                sa.update(Job).where(Job.id.in_(parents), Job.status == NEW).values(status=RUNNING, updated_at=now)
            )
    return claims


async def renew(
    sessions: async_sessionmaker[AsyncSession],
    claims: Sequence[Claim],
    *,
    now: dt.datetime,
    lease_time: float,
) -> set[int]:
    """Extend the leases of `claims` (one owner's); return the seqs of those no longer held."""
    if not claims:
        return set()
    owner = claims[0].owner
    seqs = [c.seq for c in claims]
    mine = (Job.seq.in_(seqs), Job.lease_owner == owner, Job.status == RUNNING)
    async with sessions.begin() as session:
        await session.execute(sa.update(Job).where(*mine).values(run_at=now + dt.timedelta(seconds=lease_time)))
        found = await session.execute(sa.select(Job.seq, Job.attempts).where(*mine))
        held = {(int(seq), int(attempts)) for seq, attempts in found.all()}
    return {c.seq for c in claims if (c.seq, c.attempt) not in held}


def rowcount(result: sa.Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched (the MySQL dialects count matched, not changed, rows)."""
    return int(getattr(result, "rowcount", 0))
