"""Growing delays between retries of something that keeps failing.

Hand-written rather than taken from tenacity (already installed through tooz):
tenacity drives a retried call itself, while here the caller is a loop that
must keep its own schedule and stop event and only needs the next delay.
"""

from __future__ import annotations


class Backoff:
    """`first`, then twice the previous delay, never more than `maximum`, until `reset`."""

    def __init__(self, first: float, maximum: float) -> None:
        if not 0 < first <= maximum:
            raise ValueError("a backoff needs 0 < first <= maximum")
        self.first = first
        self.maximum = maximum
        self._failures = 0

    @property
    def failures(self) -> int:
        """Failures since the last success."""
        return self._failures

    def next(self) -> float:
        """Count one more failure and return how long to wait before trying again."""
        delay = min(self.first * 2.0 ** min(self._failures, 62), self.maximum)
        self._failures += 1
        return delay

    def reset(self) -> None:
        self._failures = 0
