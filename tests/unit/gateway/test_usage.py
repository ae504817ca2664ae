"""Limits and quota usage read through Atoll: each pod's usage added up, the first pod's limits."""

from __future__ import annotations

from typing import Any

from atoll.gateway.usage import add_usage
from atoll.types import PodStatus
from tests.conftest import ADMIN, MEMBER
from tests.unit.gateway.conftest import Bed


def limits(cores: int, instances: int) -> dict[str, Any]:
    absolute = {"maxTotalCores": 20, "totalCoresUsed": cores, "totalInstancesUsed": instances, "maxTotalInstances": 10}
    return {"limits": {"absolute": absolute, "rate": []}}


def quota(in_use: int, reserved: int = 0) -> dict[str, Any]:
    return {"quota_set": {"id": "project-a", "cores": {"limit": 20, "in_use": in_use, "reserved": reserved}}}


def test_usage_is_added_up_and_limits_are_left_alone() -> None:
    total = limits(2, 1)
    add_usage(total, limits(3, 2))
    assert total["limits"]["absolute"] == {
        "maxTotalCores": 20,
        "totalCoresUsed": 5,
        "totalInstancesUsed": 3,
        "maxTotalInstances": 10,
    }
    with_usage = quota(1, 1)
    add_usage(with_usage, quota(4))
    assert with_usage["quota_set"] == {"id": "project-a", "cores": {"limit": 20, "in_use": 5, "reserved": 1}}
    plain = {"quota_set": {"id": "p", "cores": 20}}
    add_usage(plain, {"quota_set": {"id": "p", "cores": 30}})
    assert plain == {"quota_set": {"id": "p", "cores": 20}}  # no usage asked: the first pod's limits


async def test_limits_and_quota_usage_through_atoll_count_every_pod(bed: Bed) -> None:
    for pod, cores in (("Pod1", 2), ("Pod2", 3)):
        bed.pods[pod].canned["/v2.1/limits"] = (200, limits(cores, 1))
        bed.pods[pod].canned["/v2.1/os-quota-sets/project-a/detail"] = (200, quota(cores))
    shown = await bed.http.get("/compute/v2.1/limits", headers=MEMBER)
    assert shown.status_code == 200, shown.text
    assert shown.json()["limits"]["absolute"]["totalCoresUsed"] == 5
    assert shown.json()["limits"]["absolute"]["totalInstancesUsed"] == 2
    detail = await bed.http.get("/compute/v2.1/os-quota-sets/project-a/detail", headers=MEMBER)
    assert detail.json()["quota_set"]["cores"] == {"limit": 20, "in_use": 5, "reserved": 0}
    assert "atoll-partial-pods" not in detail.headers


async def test_a_pod_that_does_not_answer_is_named_and_left_out(bed: Bed) -> None:
    bed.pods["Pod1"].canned["/v2.1/limits"] = (200, limits(2, 1))
    bed.pods["Pod2"].canned["/v2.1/limits"] = (500, {"computeFault": {"code": 500, "message": "boom"}})
    shown = await bed.http.get("/compute/v2.1/limits", headers=MEMBER)
    assert shown.status_code == 200
    assert shown.json()["limits"]["absolute"]["totalCoresUsed"] == 2
    assert shown.headers["atoll-partial-pods"] == "Pod2"
    await bed.set_status("Pod2", PodStatus.DOWN)
    alone = await bed.http.get("/compute/v2.1/limits", headers=MEMBER)
    assert (alone.json()["limits"]["absolute"]["totalCoresUsed"], "atoll-partial-pods" in alone.headers) == (2, False)


async def test_a_refusal_is_relayed(bed: Bed) -> None:
    for pod in ("Pod1", "Pod2"):
        forbidden = {"forbidden": {"code": 403, "message": "Policy doesn't allow it."}}
        bed.pods[pod].canned["/v2.1/os-quota-sets/other/detail"] = (403, forbidden)
    refused = await bed.http.get("/compute/v2.1/os-quota-sets/other/detail", headers=MEMBER)
    assert refused.status_code == 403
    assert refused.json()["forbidden"]["message"] == "Policy doesn't allow it."


async def test_quota_classes_are_read_from_one_pod_and_written_to_every_pod(bed: Bed) -> None:
    classes = {"quota_class_set": {"id": "default", "cores": 20}}
    for pod in ("Pod1", "Pod2"):
        bed.pods[pod].canned["/v2.1/os-quota-class-sets/default"] = (200, classes)
    shown = await bed.http.get("/compute/v2.1/os-quota-class-sets/default", headers=ADMIN)
    assert (shown.status_code, shown.json()) == (200, classes)
    changed = await bed.http.put(
        "/compute/v2.1/os-quota-class-sets/default", json={"quota_class_set": {"cores": 30}}, headers=ADMIN
    )
    assert changed.status_code == 200
    assert [[s["method"] for s in bed.pods[pod].seen if "quota-class" in s["path"]] for pod in ("Pod1", "Pod2")] == [
        ["GET", "PUT"],
        ["PUT"],
    ]
