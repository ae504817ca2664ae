"""Runs one claimed job: calls its handler, turns what happened into an outcome, records it.

Never raises into the worker's loop (cancellation aside): an unexpected
exception is logged with its traceback and becomes a temporary failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.core.clock import Clock
from atoll.jobs import settle
from atoll.jobs.declarations import JobRun, JobTypes, RetryPolicy
from atoll.jobs.leases import Claim
from atoll.jobs.outcomes import Done, Fail, LeaseLost, Outcome, PermanentError, Retry, TemporaryError

LOG = logging.getLogger(__name__)


class Runner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        types: JobTypes,
        clock: Clock,
        retry: RetryPolicy,
    ) -> None:
        self._sessions = sessions
        self._types = types
        self._clock = clock
        self._retry = retry
        self.parents = settle.Parents(sessions, clock)
        self.writes = settle.Writes(sessions)

    def policy(self, type_name: str) -> RetryPolicy:
        declared = self._types.get(type_name)
        return declared.retry if declared is not None and declared.retry is not None else self._retry

    async def run(self, claim: Claim) -> Outcome | None:
        """Run `claim` to its recorded outcome; None when the lease was lost (nothing recorded)."""
        outcome = self._decide(claim, await self._call(claim))
        # Once the handler has acted, its outcome is recorded even if the worker is told to
        # stop meanwhile: handing the job back instead would run its work a second time.
        recording = asyncio.ensure_future(self.writes.finish(claim, outcome, self._clock.now()))
        try:
            await asyncio.shield(recording)
        except asyncio.CancelledError:
            with contextlib.suppress(LeaseLost):
                await recording
            raise
        except LeaseLost:
            LOG.warning("Job %s (%s): lease lost before its outcome was recorded", claim.id, claim.type)
            return None
        LOG.info("Job %s (%s) attempt %d: %s", claim.id, claim.type, claim.attempt, _describe(outcome))
        await asyncio.shield(self._recount_parent(claim))
        return outcome

    async def release(self, claim: Claim) -> None:
        """Hand the job back for another worker (this one is stopping)."""
        try:
            await self.writes.release(claim, self._clock.now())
        except LeaseLost:
            return
        await self._recount_parent(claim)

    async def _recount_parent(self, claim: Claim) -> None:
        if claim.parent_id is None:
            return
        try:
            await self.parents.recount(claim.parent_id)
        except Exception:  # the child is recorded; a worker's sweep recounts the parent later
            LOG.exception("Job %s: recounting its parent %s failed", claim.id, claim.parent_id)

    async def _call(self, claim: Claim) -> Outcome:
        declared = self._types.get(claim.type)
        if declared is None or declared.handler is None:
            return Fail(f"No handler for job type {claim.type} in this engine.")
        limit = self.policy(claim.type).max_attempts
        if claim.attempt > limit:
            # Claimed again after its lease expired: the worker of the last allowed attempt died.
            return Fail(f"Gave up after {limit} attempts: the worker of attempt {limit} stopped without finishing.")

        async def checkpoint(progress: Mapping[str, Any]) -> None:
            await self.writes.checkpoint(claim, progress, self._clock.now())

        run = JobRun(
            claim.id,
            claim.type,
            claim.project_id,
            claim.resource,
            claim.progress,
            claim.attempt,
            checkpoint,
            claim.parent_id,
        )
        try:
            return await declared.handler(run)
        except TemporaryError as error:
            return Retry(error.reason, error.delay)
        except PermanentError as error:
            return Fail(error.reason)
        except LeaseLost:
            raise
        except Exception as error:
            LOG.exception("Job %s (%s) attempt %d raised", claim.id, claim.type, claim.attempt)
            return Retry(f"{type(error).__name__}: {error}")

    def _decide(self, claim: Claim, outcome: Outcome) -> Outcome:
        if not isinstance(outcome, Retry):
            return outcome
        policy = self.policy(claim.type)
        if claim.attempt >= policy.max_attempts:
            return Fail(f"Gave up after {claim.attempt} attempts: {outcome.reason}")
        delay = outcome.delay if outcome.delay is not None else policy.delay(claim.attempt, claim.id)
        return Retry(outcome.reason, max(0.0, delay))


def _describe(outcome: Outcome) -> str:
    if isinstance(outcome, Done):
        return "SUCCESS"
    if isinstance(outcome, Retry):
        return f"retry in {outcome.delay:.1f}s ({outcome.reason})"
    return f"FAIL ({outcome.reason})"


async def run_guarded(runner: Runner, claim: Claim) -> Outcome | None:
    """`runner.run`, handing the job back if the worker cancels it (stopping)."""
    try:
        return await runner.run(claim)
    except LeaseLost:
        LOG.warning("Job %s (%s): lease lost while running; another worker has it", claim.id, claim.type)
        return None
    except asyncio.CancelledError:
        await asyncio.shield(runner.release(claim))
        raise
