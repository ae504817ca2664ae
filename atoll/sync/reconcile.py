"""The reconcile of sync policies, run every `[sync] policy_scan_interval` by the atoll-engine holding
the sync policies' leader lock.

    run_once     the policies due (created or changed: at once; else every `policy_interval`)
                 are taken by a compare-and-set of their due time, so two engines never check one
      check      read each resource in the source once; in each target pod compare it
                 (read-only) and record the pod's state; for a drifted or missing resource
                 enqueue one repair job for that pod (os-sync's copies, with force)

One repair job at most per (policy, target pod): a pod whose last repair is queued or
running is `syncing` and is not compared; the row's job id is changed only under the
policy's row lock, to the id it had when the check began. A repair that failed is tried
again after a delay that doubles with each failure. Nothing here raises into the engine's
loop: a policy whose check fails is logged and checked again at its next turn.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.core.clock import Clock
from atoll.core.errors import NotFound
from atoll.db import sync_policies as db
from atoll.db.models import Job, SyncPolicy, SyncPolicyPod
from atoll.jobs.declarations import JobTypes
from atoll.jobs.enqueue import enqueue
from atoll.jobs.outcomes import PermanentError, TemporaryError
from atoll.pods.registry import PodSnapshot
from atoll.sync import drift, policy_jobs
from atoll.sync.calls import PodCalls
from atoll.sync.policy import (
    DRIFTED,
    ERROR,
    IN_SYNC,
    MISSING,
    PENDING,
    SYNCING,
    UNREACHABLE,
    needs_repair,
    pod_state,
    repair_delay,
    targets,
)
from atoll.sync.task import Subject
from atoll.types import JobStatus, PodStatus

LOG = logging.getLogger(__name__)
ACTIVE = (JobStatus.NEW.value, JobStatus.RUNNING.value)
SYNCING_RECHECK = 5.0
"""Seconds before a policy with a repair queued or running is checked again (at most its interval)."""
BATCH = 100
"""Policies one turn takes at most; the rest wait for the next turn."""


@dataclasses.dataclass
class Seen:
    """What one check found in one target pod."""

    state: str
    resources: dict[str, dict[str, Any]]
    reason: str = ""
    unreachable_since: dt.datetime | None = None
    repair: list[str] = dataclasses.field(default_factory=list)
    failures: int = 0


@dataclasses.dataclass
class Source:
    documents: dict[str, Any]
    """Each resource as the source has it (drift's `read_source`)."""
    errors: dict[str, str]
    """Resources the source lacks (or cannot give), with why."""
    problem: str = ""
    """Why nothing could be compared (the source pod is down, unknown or did not answer)."""


@dataclasses.dataclass(frozen=True)
class Last:
    """The last repair job of each pod of a policy, and why the failed ones failed."""

    jobs: Mapping[str, Job]
    reasons: Mapping[str, list[str]]


class Reconciler:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        calls: PodCalls,
        types: JobTypes,
        clock: Clock,
        *,
        interval: float,
        concurrency: int = 8,
    ) -> None:
        self._sessions = sessions
        self._calls = calls
        self._types = types
        self._clock = clock
        self._interval = interval
        self._limit = asyncio.Semaphore(concurrency)

    async def run_once(self) -> int:
        """Check every due policy (at most BATCH); return how many this engine took."""
        now = self._clock.now()
        async with self._sessions.begin() as session:
            due = await db.due(session, now, BATCH)
        taken: list[str] = []
        next_at = now + dt.timedelta(seconds=self._interval)
        for policy_id in due:
            async with self._sessions.begin() as session:
                if await db.claim(session, policy_id, now, next_at):
                    taken.append(policy_id)
        await asyncio.gather(*(self._guarded(p) for p in taken))
        return len(taken)

    async def turn(self) -> None:
        """The engine's periodic task."""
        await self.run_once()

    async def _guarded(self, policy_id: str) -> None:
        async with self._limit:
            try:
                await self.check(policy_id)
            except Exception:
                LOG.exception("Checking sync policy %s failed; it is checked again at its next turn", policy_id)

    async def check(self, policy_id: str) -> None:
        async with self._sessions() as session:
            policy = await session.get(SyncPolicy, policy_id)
            if policy is None:
                return
            rows = {r.pod: r for r in (await db.pods_of(session, [policy_id]))[policy_id]}
            jobs = await db.jobs(session, [r.job_id for r in rows.values() if r.job_id])
            failed = [j.id for j in jobs.values() if j.status == JobStatus.FAIL.value]
            reasons = await db.failed_reasons(session, failed)
            session.expunge_all()
        snapshot = await self._calls.pods.snapshot()
        names = targets(policy.target, policy.source, snapshot.bottoms)
        source = await self._read_source(policy, snapshot)
        last = Last(jobs, reasons)
        seen = await asyncio.gather(*(self._see(policy, n, snapshot, source, rows.get(n), last) for n in names))
        await self._record(policy, dict(zip(names, seen, strict=True)), rows, source.problem)

    def _subject(self, policy: SyncPolicy, resource: str) -> Subject:
        return Subject(policy.resource_type, resource, policy.source, policy.project_id, policy.user_id)

    async def _read_source(self, policy: SyncPolicy, snapshot: PodSnapshot) -> Source:
        pod = snapshot.by_name(policy.source)
        if pod is None or pod.is_top:
            return Source({}, {}, f"The source pod {policy.source} is not registered.")
        if pod.status == PodStatus.DOWN:
            return Source({}, {}, f"The source pod {policy.source} is down.")
        found = Source({}, {})
        for resource in policy.resources:
            try:
                found.documents[resource] = await drift.read_source(self._calls, self._subject(policy, resource))
            except PermanentError as error:
                found.errors[resource] = error.reason
            except TemporaryError as error:
                return Source({}, {}, f"The source pod {policy.source} did not answer: {error.reason}")
        return found

    async def _see(
        self,
        policy: SyncPolicy,
        name: str,
        snapshot: PodSnapshot,
        source: Source,
        row: SyncPolicyPod | None,
        last: Last,
    ) -> Seen:
        now = self._clock.now()
        since = row.unreachable_since if row is not None and row.unreachable_since is not None else now
        pod = snapshot.by_name(name)
        if pod is None or pod.status == PodStatus.DOWN:
            return _keep(row, Seen(UNREACHABLE, {}, f"Pod {name} is down.", since))
        job = last.jobs.get(row.job_id) if row is not None and row.job_id else None
        if job is not None and job.status in ACTIVE:
            return _keep(row, Seen(SYNCING, {}, f"Repair job {job.id} is {job.status}."))
        if source.problem:
            return _keep(row, Seen(row.state if row is not None else PENDING, {}, source.problem))
        resources: dict[str, dict[str, Any]] = {}
        for resource in policy.resources:
            if resource in source.errors:
                resources[resource] = {"state": ERROR, "differences": [], "reason": source.errors[resource]}
                continue
            subject = self._subject(policy, resource)
            try:
                diffs = await drift.drift(self._calls, subject, source.documents[resource], name)
            except TemporaryError as error:
                return _keep(row, Seen(UNREACHABLE, {}, f"Pod {name} did not answer: {error.reason}", since))
            except PermanentError as error:
                resources[resource] = {"state": ERROR, "differences": [], "reason": error.reason}
                continue
            state = MISSING if diffs is None else (DRIFTED if diffs else IN_SYNC)
            resources[resource] = {"state": state, "differences": diffs or [], "reason": ""}
        return self._decide(resources, job, last, row, now)

    def _decide(
        self,
        resources: dict[str, dict[str, Any]],
        job: Job | None,
        last: Last,
        row: SyncPolicyPod | None,
        now: dt.datetime,
    ) -> Seen:
        """The pod's state, and whether to repair it now (not while a failed repair's delay runs)."""
        seen = Seen(pod_state(resources), resources)
        broken = needs_repair(resources)
        if not broken:
            return seen
        failures = 0  # failed repairs in a row: one that succeeded starts the count again
        if job is not None and job.status == JobStatus.FAIL.value:
            failures = (row.failures if row is not None else 0) + 1
            retry_at = (job.updated_at or job.created_at) + dt.timedelta(seconds=repair_delay(self._interval, failures))
            why = " ".join(last.reasons.get(job.id, [])) or job.reason
            seen.reason = f"The last repair (job {job.id}) failed: {why}"
            if now < retry_at:
                seen.reason += f" Next repair after {retry_at.isoformat()}."
                seen.failures = failures - 1
                return seen
        seen.repair, seen.failures = broken, failures
        return seen

    async def _record(
        self, policy: SyncPolicy, seen: Mapping[str, Seen], read: Mapping[str, SyncPolicyPod], problem: str
    ) -> None:
        now = self._clock.now()
        async with self._sessions.begin() as session:
            try:
                current_policy = await db.get(session, policy.id, for_update=True)  # the API's writes wait
            except NotFound:  # deleted meanwhile: its rows went with it
                return
            query = sa.select(SyncPolicyPod).where(SyncPolicyPod.policy_id == policy.id).with_for_update()
            current = {r.pod: r for r in (await session.scalars(query)).all()}
            for name, gone in current.items():
                if name not in seen:
                    await session.delete(gone)
            for name, found in seen.items():
                row = current.get(name)
                was = read[name].job_id if name in read else None
                if (row.job_id if row is not None else None) != was:
                    continue  # another check enqueued meanwhile; the next check sees it
                if row is None:
                    row = SyncPolicyPod(policy_id=policy.id, pod=name, failures=0, job_id=None)
                    session.add(row)
                _apply(row, found, now)
                if found.repair:
                    new = policy_jobs.repair(self._types, current_policy, name, found.repair)
                    row.job_id = await enqueue(session, new, now=now)
                    row.state = SYNCING
                    LOG.info("Sync policy %s: repairing %s in %s (job %s)", policy.id, found.repair, name, row.job_id)
            await db.checked(session, policy.id, now, problem)
            if any(f.state == SYNCING or f.repair for f in seen.values()):
                # Look again soon: a finished repair shows in_sync (or why not) without a whole interval's wait.
                soon = now + dt.timedelta(seconds=min(self._interval, SYNCING_RECHECK))
                await db.check_by(session, policy.id, soon)


def _keep(row: SyncPolicyPod | None, seen: Seen) -> Seen:
    """A state that compared nothing keeps the resources (and failures) the last check found."""
    if row is not None:
        seen.resources = dict(row.resources)
        seen.failures = row.failures
        seen.unreachable_since = seen.unreachable_since or row.unreachable_since
    return seen


def _apply(row: SyncPolicyPod, seen: Seen, now: dt.datetime) -> None:
    row.state = seen.state
    row.resources = seen.resources
    row.reason = seen.reason[:2048]
    row.unreachable_since = seen.unreachable_since if seen.state == UNREACHABLE else None
    row.checked_at = now
    row.failures = seen.failures
