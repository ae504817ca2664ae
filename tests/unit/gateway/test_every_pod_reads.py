"""Reads asked of every up pod and added up or put together (`fanout.ask_up_pods`): a pod that does
not answer, answers a 5xx or answers 200 with something that is not JSON is left out and named in
`Atoll-Partial-Pods`, never a 500; when no pod answers, the read fails as the service would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from atoll.pods.client import PodResponse
from atoll.pods.errors import NotJson
from atoll.types import PodStatus
from tests.conftest import ADMIN, MEMBER
from tests.unit.gateway.conftest import Bed
from tests.unit.gateway.test_usage import limits

BASE = "/compute/v2.1"

Broken = Callable[[Bed, str], None]


def garbled(bed: Bed, path: str) -> None:
    bed.pods["Pod2"].garbled.add(path)


def failing(bed: Bed, path: str) -> None:
    bed.pods["Pod2"].failing = lambda request: 500 if request.path == path else None


def value(name: str, document: dict[str, Any]) -> Any:
    match name:
        case "limits":
            return document["limits"]["absolute"]["totalCoresUsed"]
        case "statistics":
            return document["hypervisor_statistics"]["count"]
        case "hypervisors":
            return [h["id"] for h in document["hypervisors"]]
        case _:
            return {z["zoneName"]: z["hosts"] for z in document["availabilityZoneInfo"]}


READS = {
    # name: (Atoll's path, the pod's path, what every pod gives, what Pod1 alone gives)
    "limits": ("/limits", "/v2.1/limits", 5, 2),
    "statistics": ("/os-hypervisors/statistics", "/v2.1/os-hypervisors/statistics", 2, 1),
    "hypervisors": ("/os-hypervisors", "/v2.1/os-hypervisors", ["hv-nova", "hv-zone-b"], ["hv-nova"]),
    "zones": (
        "/os-availability-zone/detail",
        "/v2.1/os-availability-zone/detail",
        {"az1": {"nova-host": {}}, "az2": {"zone-b-host": {}}},
        {"az1": {"nova-host": {}}, "az2": None},
    ),
}


def canned_limits(bed: Bed) -> None:
    for pod, cores in (("Pod1", 2), ("Pod2", 3)):
        bed.pods[pod].canned["/v2.1/limits"] = (200, limits(cores, 1))


@pytest.mark.parametrize("broken", [garbled, failing])
@pytest.mark.parametrize("name", list(READS))
async def test_a_pod_answering_nothing_usable_is_left_out_and_named(bed: Bed, name: str, broken: Broken) -> None:
    path, pod_path, everyone, first_only = READS[name]
    canned_limits(bed)
    whole = await bed.http.get(BASE + path, headers=ADMIN)
    assert (whole.status_code, value(name, whole.json())) == (200, everyone)
    assert "atoll-partial-pods" not in whole.headers
    broken(bed, pod_path)
    partial = await bed.http.get(BASE + path, headers=ADMIN)
    assert (partial.status_code, value(name, partial.json())) == (200, first_only), partial.text
    assert partial.headers["atoll-partial-pods"] == "Pod2"


@pytest.mark.parametrize("name", ["limits", "statistics"])
async def test_a_sum_no_pod_answered_is_a_502_not_a_total_of_nothing(bed: Bed, name: str) -> None:
    path, pod_path, _everyone, _first = READS[name]
    canned_limits(bed)
    for pod in bed.pods.values():
        pod.garbled.add(pod_path)
    answer = await bed.http.get(BASE + path, headers=ADMIN)
    assert answer.status_code == 502, answer.text
    (fault,) = answer.json().values()  # Nova's {"computeFault": {"code": 502, "message": ...}}
    assert fault["message"] == "A pod answered 200 with a body that is not a JSON object. Try again later."


async def test_a_list_no_pod_answered_is_empty_and_names_them_all(bed: Bed) -> None:
    for pod in bed.pods.values():
        pod.failing = lambda request: 503 if request.path == "/v2.1/os-hypervisors" else None
    answer = await bed.http.get(f"{BASE}/os-hypervisors", headers=ADMIN)
    assert (answer.status_code, answer.json()) == (200, {"hypervisors": []})
    assert answer.headers["atoll-partial-pods"] == "Pod1,Pod2"


async def test_a_refusal_wins_over_a_pod_that_did_not_answer(bed: Bed) -> None:
    bed.pods["Pod1"].garbled.add("/v2.1/os-hypervisors/statistics")
    bed.pods["Pod2"].failing = lambda request: 403 if request.path.endswith("/statistics") else None
    answer = await bed.http.get(f"{BASE}/os-hypervisors/statistics", headers=MEMBER)
    assert (answer.status_code, answer.json()["error"]["message"]) == (403, "told to fail")

    bed.pods["Pod2"].failing = lambda request: 403 if request.path.endswith("/statistics") else None
    answer = await bed.http.get(f"{BASE}/os-hypervisors/statistics", headers=MEMBER)
    assert answer.status_code == 403


async def test_a_write_whose_answer_a_pod_garbles_is_a_502_that_says_so(bed: Bed) -> None:
    bed.pods["Pod1"].garbled.add("/v2.1/flavors")
    made = await bed.http.post(
        f"{BASE}/flavors", json={"flavor": {"name": "m1.odd", "ram": 512, "vcpus": 1, "disk": 1}}, headers=ADMIN
    )
    assert made.status_code == 502, made.text
    (fault,) = made.json().values()
    assert fault["message"] == "A pod answered 200 with a body that is not JSON. Try again later."


def test_a_pod_answer_that_is_not_json_is_a_bad_gateway_and_a_value_error() -> None:
    answer = PodResponse(200, CIMultiDictProxy(CIMultiDict()), b"<html>Bad gateway</html>")
    with pytest.raises(NotJson) as raised:
        answer.json()
    assert isinstance(raised.value, ValueError)
    assert (raised.value.status, raised.value.message) == (
        502,
        "A pod answered 200 with a body that is not JSON. Try again later.",
    )


async def test_the_detailed_zones_with_every_pod_down_are_all_unavailable_not_a_503(bed: Bed) -> None:
    for pod in ("Pod1", "Pod2"):
        await bed.set_status(pod, PodStatus.DOWN)
    answer = await bed.http.get(f"{BASE}/os-availability-zone/detail", headers=ADMIN)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "availabilityZoneInfo": [
            {"zoneName": "az1", "zoneState": {"available": False}, "hosts": None},
            {"zoneName": "az2", "zoneState": {"available": False}, "hosts": None},
        ]
    }
