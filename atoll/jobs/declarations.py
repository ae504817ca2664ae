"""Job types, declared once: name, the resource keys a job needs, its handler, retries.

Production code declares its real types where their work lives (the gateway, sync,
quota) and the runtime gathers them into one `JobTypes`; tests declare their own.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

from atoll.jobs.outcomes import Outcome
from atoll.types import JobId, ProjectId


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How often a job is tried and how long it waits between two tries."""

    max_attempts: int = 10
    base_delay: float = 2.0
    max_delay: float = 300.0

    def delay(self, attempt: int, job_id: str) -> float:
        """Seconds to wait after the failed `attempt` (1-based): exponential, capped, with
        a jitter fixed per job and attempt so that jobs failing together (a pod down) do
        not all come back at the same instant, while a test can still compute it."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** min(attempt - 1, 62))
        spread = random.Random(f"{job_id}/{attempt}").random()  # noqa: S311 - spreading load, not security
        return ceiling * (0.5 + spread / 2)


class Checkpoint(Protocol):
    async def __call__(self, progress: Mapping[str, Any]) -> None:
        """Store `progress` with the job; raises `LeaseLost` if the job is no longer ours."""
        ...


@dataclasses.dataclass(frozen=True)
class JobRun:
    """What a handler sees of its job: plain data, never an ORM object, so any worker
    can resume it. `progress` is the last checkpoint ({} on a first run)."""

    id: JobId
    type: str
    project_id: ProjectId
    resource: Mapping[str, Any]
    progress: Mapping[str, Any]
    attempt: int
    checkpoint: Checkpoint
    parent_id: JobId | None = None


Handler = Callable[[JobRun], Awaitable[Outcome]]


@dataclasses.dataclass(frozen=True)
class JobType:
    """One kind of job.

    `handler` is None for a parent type: such a job only groups children and its
    status is derived from theirs. `key_template` (e.g. ``"router:{router_id}"``)
    makes the ordering key of a job from its resource: jobs of one key run one at a
    time, in creation order. `api_create` lets an admin create the job with
    `POST /v1.0/jobs`. `retry` overrides the `[jobs]` retry options.
    """

    name: str
    resource: tuple[str, ...]
    handler: Handler | None = None
    key_template: str | None = None
    api_create: bool = False
    retry: RetryPolicy | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if self.api_create and self.handler is None:
            raise ValueError(f"{self.name}: a parent type (no handler) needs children; the API cannot create it")

    def ordering_key(self, resource: Mapping[str, Any]) -> str | None:
        return self.key_template.format_map(resource) if self.key_template else None


class JobTypes:
    """The declared job types of a process, by name."""

    def __init__(self, types: Iterable[JobType] = ()) -> None:
        self._types: dict[str, JobType] = {}
        for job_type in types:
            if job_type.name in self._types:
                raise ValueError(f"job type {job_type.name!r} is declared twice")
            self._types[job_type.name] = job_type

    def get(self, name: str) -> JobType | None:
        return self._types.get(name)

    def __iter__(self) -> Iterator[JobType]:
        return iter(sorted(self._types.values(), key=lambda t: t.name))

    def runnable(self) -> list[str]:
        """Names of the types this process can run: the ones with a handler."""
        return sorted(name for name, t in self._types.items() if t.handler is not None)
