"""What a job handler returns, and what it may raise instead.

    Outcome
     ├── Done(progress)         the job succeeded (progress: an optional last checkpoint)
     ├── Retry(reason, delay)   a temporary failure: try again after `delay` seconds
     │                          (None: the type's exponential backoff)
     └── Fail(reason)           a permanent failure: the job ends FAIL with `reason`

    TemporaryError(reason, delay)   raised from deep inside a handler: a Retry
    PermanentError(reason)          a Fail
    LeaseLost                       this worker no longer owns the job: stop quietly

Any other exception is a temporary failure, logged with its traceback and retried
with backoff until the type's attempt limit, then FAIL with its message.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any


@dataclasses.dataclass(frozen=True)
class Done:
    progress: Mapping[str, Any] | None = None


@dataclasses.dataclass(frozen=True)
class Retry:
    reason: str
    delay: float | None = None


@dataclasses.dataclass(frozen=True)
class Fail:
    reason: str


Outcome = Done | Retry | Fail


class TemporaryError(Exception):
    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


class PermanentError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LeaseLost(Exception):
    """The job's lease passed to another worker (or the job was deleted)."""
