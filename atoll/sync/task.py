"""What one child job of a sync does, read from its resource: plain data, so any worker resumes it."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from atoll.jobs.declarations import Checkpoint
from atoll.sync.shared import SharedReads


@dataclasses.dataclass(frozen=True)
class SyncTask:
    resource_type: str
    resource: str
    """The name (keypair, flavor, security group) or id (flavor, security group, image) asked for."""
    source: str
    target: str
    force: bool
    project_id: str
    user_id: str
    progress: dict[str, Any]
    """The job's last checkpoint, updated in place as this run records more."""
    checkpoint: Checkpoint
    request: str | None = None
    """The parent job (one os-sync request) this copy is part of."""
    attempt: int = 1
    reads: SharedReads | None = None

    async def source_read(self, what: str, read: Callable[[], Awaitable[Any]]) -> Any:
        """`read()` of the source, shared with the other copies of this request (see
        `atoll.sync.shared`); read afresh by a retry or a job outside a request."""
        if self.reads is None or self.request is None or self.attempt > 1:
            return await read()
        return await self.reads.get((self.request, self.resource_type, self.source, what), read)

    @property
    def created(self) -> bool:
        """This job created the target's copy itself (a retry converges it, force or not)."""
        return bool(self.progress.get("created"))

    async def mark_created(self, **more: Any) -> None:
        """Record (before anything else happens to it) that this job made the target's copy."""
        self.progress.update(more, created=True)
        await self.checkpoint(dict(self.progress))

    @property
    def may_change(self) -> bool:
        return self.force or self.created


@dataclasses.dataclass(frozen=True)
class Subject:
    """One resource a sync policy keeps: read in its source pod, compared in each target."""

    resource_type: str
    resource: str
    source: str
    project_id: str
    user_id: str


def differences(want: Mapping[str, Any], have: Mapping[str, Any]) -> list[str]:
    """`field: target value != source value` for each field that differs, in `want`'s order, then
    the fields only the target has."""
    changed = [f"{k}: {have.get(k)!r} != {v!r}" for k, v in want.items() if have.get(k) != v]
    return changed + [f"{k}: {v!r} != None" for k, v in have.items() if k not in want]


def differ_reason(kind: str, name: str, target: str, diffs: list[str]) -> str:
    return f"{kind} {name} differs in {target} (target != source): {'; '.join(diffs)}. Sync with force to overwrite it."
