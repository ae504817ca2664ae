"""A parent job's status, derived from its children's (pure, so it is property-tested).

Never SUCCESS while a child has not finished; SUCCESS only when every child
succeeded; FAIL once all have finished and at least one failed. Each child keeps
its own status and reason, so one failure never hides another's result.
"""

from __future__ import annotations

from collections.abc import Mapping

from atoll.types import JobStatus


def derive(counts: Mapping[JobStatus, int]) -> JobStatus:
    """The parent's status for `counts` (children per status)."""
    new, running = counts.get(JobStatus.NEW, 0), counts.get(JobStatus.RUNNING, 0)
    done, failed = counts.get(JobStatus.SUCCESS, 0), counts.get(JobStatus.FAIL, 0)
    if new or running:
        return JobStatus.RUNNING if running or done or failed else JobStatus.NEW
    return JobStatus.FAIL if failed else JobStatus.SUCCESS


def summary(counts: Mapping[JobStatus, int]) -> str:
    """The parent's reason: empty unless some children failed."""
    failed = counts.get(JobStatus.FAIL, 0)
    if not failed:
        return ""
    return f"{failed} of {sum(counts.values())} jobs failed; see the jobs whose parent_id is this job."
