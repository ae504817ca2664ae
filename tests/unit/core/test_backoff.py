from __future__ import annotations

import pytest

from atoll.core.backoff import Backoff


def test_delays_double_up_to_the_maximum_and_reset() -> None:
    backoff = Backoff(1.0, 10.0)
    assert [backoff.next() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert backoff.failures == 6
    backoff.reset()
    assert (backoff.failures, backoff.next()) == (0, 1.0)


def test_many_failures_do_not_overflow() -> None:
    backoff = Backoff(0.5, 60.0)
    assert [backoff.next() for _ in range(2000)][-1] == 60.0


@pytest.mark.parametrize(("first", "maximum"), [(0.0, 1.0), (2.0, 1.0), (-1.0, 1.0)])
def test_nonsense_is_refused(first: float, maximum: float) -> None:
    with pytest.raises(ValueError, match="0 < first <= maximum"):
        Backoff(first, maximum)
