"""The pure parts of sync: `force` as Kingbird's clients send it, a request's jobs, Kingbird's statuses."""

from __future__ import annotations

import pytest

from atoll.core.errors import InvalidInput
from atoll.engine.service import job_types
from atoll.jobs.status import derive
from atoll.sync import request
from atoll.sync.store import kingbird_status
from atoll.types import JobStatus

REGIONS = {"Pod1", "Pod2", "Pod3"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("True", True), ("true", True), ("False", False), (True, True), (False, False), (None, False)],
)
def test_force_takes_kingbird_s_strings_and_json_booleans(value: bool | str | None, expected: bool) -> None:
    assert request.parse_force(value) is expected


def test_force_refuses_anything_else() -> None:
    with pytest.raises(InvalidInput, match="force"):
        request.parse_force("perhaps")


def test_duplicates_are_asked_once_and_every_child_has_an_ordering_key() -> None:
    item = request.SyncItem("flavor", ["f1", "f1", "f2"], ["Pod1"], ["Pod2", "Pod2"])
    job = request.build(job_types(), "p", "u", [item], REGIONS)
    assert job.type.name == "sync"
    assert job.resource == {"request": {"items": 1, "copies": 2, "user_id": "u"}}
    keys = [c.type.ordering_key(c.resource) for c in job.children]
    assert keys == ["sync:flavor:Pod2:f1", "sync:flavor:Pod2:f2"]


def test_too_many_copies_are_refused() -> None:
    item = request.SyncItem("keypair", [f"k{i}" for i in range(600)], ["Pod1"], ["Pod2", "Pod3"])
    with pytest.raises(InvalidInput, match="more than 1000"):
        request.build(job_types(), "p", "u", [item], REGIONS)


@pytest.mark.parametrize(
    ("children", "parent"),
    [
        ({JobStatus.SUCCESS: 2}, "SUCCESS"),
        ({JobStatus.SUCCESS: 1, JobStatus.RUNNING: 1}, "IN_PROGRESS"),
        ({JobStatus.FAIL: 1, JobStatus.NEW: 1}, "IN_PROGRESS"),
        ({JobStatus.FAIL: 1, JobStatus.SUCCESS: 3}, "FAILURE"),
        ({JobStatus.NEW: 2}, "IN_PROGRESS"),
    ],
)
def test_a_sync_is_success_only_when_every_part_is_and_failure_only_when_all_finished(
    children: dict[JobStatus, int], parent: str
) -> None:
    assert kingbird_status(derive(children).value) == parent
