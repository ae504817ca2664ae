from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from atoll.jobs.status import derive, summary
from atoll.types import JobStatus

counts = st.fixed_dictionaries({s: st.integers(0, 5) for s in JobStatus}).filter(lambda c: sum(c.values()) > 0)


@given(counts)
def test_never_success_while_a_child_has_not_finished(c: dict[JobStatus, int]) -> None:
    status = derive(c)
    unfinished = c[JobStatus.NEW] + c[JobStatus.RUNNING]
    if unfinished:
        assert status in (JobStatus.NEW, JobStatus.RUNNING)
    elif c[JobStatus.FAIL]:
        assert status == JobStatus.FAIL
    else:
        assert status == JobStatus.SUCCESS
    assert (status == JobStatus.SUCCESS) == (c[JobStatus.SUCCESS] == sum(c.values()))


@given(counts)
def test_new_only_until_a_child_started(c: dict[JobStatus, int]) -> None:
    started = c[JobStatus.RUNNING] + c[JobStatus.SUCCESS] + c[JobStatus.FAIL]
    assert (derive(c) == JobStatus.NEW) == (started == 0)


def test_examples() -> None:
    assert derive({JobStatus.SUCCESS: 2, JobStatus.RUNNING: 1}) == JobStatus.RUNNING
    assert derive({JobStatus.FAIL: 1, JobStatus.NEW: 1}) == JobStatus.RUNNING
    assert derive({JobStatus.FAIL: 1, JobStatus.SUCCESS: 3}) == JobStatus.FAIL
    assert derive({JobStatus.SUCCESS: 4}) == JobStatus.SUCCESS
    assert derive({JobStatus.NEW: 4}) == JobStatus.NEW
    assert summary({JobStatus.SUCCESS: 4}) == ""
    assert summary({JobStatus.FAIL: 1, JobStatus.SUCCESS: 3}).startswith("1 of 4 jobs failed")
