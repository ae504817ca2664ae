"""Nova's operator APIs through Atoll: hypervisors, services and aggregates of every pod."""

from __future__ import annotations

from atoll.gateway.compute.admin import summed
from atoll.types import PodStatus
from tests.conftest import ADMIN
from tests.unit.gateway.conftest import Bed

BASE = "/compute/v2.1"


async def test_hypervisors_of_every_pod_in_one_list_and_one_by_id(bed: Bed) -> None:
    for path in ("/os-hypervisors", "/os-hypervisors/detail"):
        listed = (await bed.http.get(BASE + path, headers=ADMIN)).json()["hypervisors"]
        assert [h["id"] for h in listed] == ["hv-nova", "hv-zone-b"]
    shown = await bed.http.get(f"{BASE}/os-hypervisors/hv-zone-b", headers=ADMIN)
    assert shown.json()["hypervisor"]["hypervisor_hostname"] == "zone-b-host"
    missing = await bed.http.get(f"{BASE}/os-hypervisors/hv-elsewhere", headers=ADMIN)
    assert missing.status_code == 404
    assert "itemNotFound" in missing.json()


async def test_statistics_are_summed_over_the_up_pods(bed: Bed) -> None:
    stats = (await bed.http.get(f"{BASE}/os-hypervisors/statistics", headers=ADMIN)).json()
    assert stats == {"hypervisor_statistics": {"count": 2, "vcpus": 8, "running_vms": 4}}
    await bed.set_status("Pod2", PodStatus.DOWN)
    stats = (await bed.http.get(f"{BASE}/os-hypervisors/statistics", headers=ADMIN)).json()
    assert stats["hypervisor_statistics"]["count"] == 1


def test_summed_adds_numbers_and_leaves_the_rest() -> None:
    assert summed([{"a": 1, "b": "x", "c": True}, {"a": 2.5, "d": 3}]) == {"a": 3.5, "d": 3}


async def test_compute_services_show_atoll_zones_and_internal_stays(bed: Bed) -> None:
    listed = (await bed.http.get(f"{BASE}/os-services", headers=ADMIN)).json()["services"]
    assert [(s["id"], s["zone"]) for s in listed] == [
        ("svc-nova", "az1"),
        ("cond-nova", "internal"),
        ("svc-zone-b", "az2"),
        ("cond-zone-b", "internal"),
    ]
    updated = await bed.http.put(f"{BASE}/os-services/svc-zone-b", json={"status": "disabled"}, headers=ADMIN)
    assert updated.status_code == 200
    assert updated.json()["service"]["status"] == "disabled"
    assert updated.json()["service"]["zone"] == "az2"


async def test_migrations_of_every_pod(bed: Bed) -> None:
    listed = await bed.http.get(f"{BASE}/os-migrations", headers=ADMIN)
    assert listed.status_code == 200
    assert sorted(m["source_compute"] for m in listed.json()["migrations"]) == ["nova-host", "zone-b-host"]


async def test_aggregates_listed_without_a_down_pod(bed: Bed) -> None:
    await bed.set_status("Pod1", PodStatus.DOWN)
    listed = await bed.http.get(f"{BASE}/os-aggregates", headers=ADMIN)
    assert [a["name"] for a in listed.json()["aggregates"]] == ["agg-zone-b"]


async def test_an_item_by_id_is_asked_of_every_pod_at_once_and_a_failing_pod_is_passed_over(bed: Bed) -> None:
    bed.pods["Pod1"].failing = lambda request: 500 if request.path.startswith("/v2.1/os-hypervisors/hv-") else None
    shown = await bed.http.get(f"{BASE}/os-hypervisors/hv-zone-b", headers=ADMIN)
    assert (shown.status_code, shown.json()["hypervisor"]["id"]) == (200, "hv-zone-b")
    # Pod2 does not have it and Pod1 could not say: Pod1's error, not a 404 that may be wrong.
    unknown = await bed.http.get(f"{BASE}/os-hypervisors/hv-elsewhere", headers=ADMIN)
    assert unknown.status_code == 500
    bed.pods["Pod1"].failing = lambda _request: None
    for pod in ("Pod1", "Pod2"):
        bed.pods[pod].seen.clear()
    missing = await bed.http.get(f"{BASE}/os-hypervisors/hv-elsewhere", headers=ADMIN)
    assert missing.status_code == 404
    assert [len([s for s in bed.pods[p].seen if s["path"].endswith("hv-elsewhere")]) for p in ("Pod1", "Pod2")] == [
        1,
        1,
    ]


async def test_a_write_by_id_stops_at_the_first_pod_that_knows_the_item(bed: Bed) -> None:
    for pod in ("Pod1", "Pod2"):
        bed.pods[pod].seen.clear()
    updated = await bed.http.put(f"{BASE}/os-services/svc-nova", json={"status": "disabled"}, headers=ADMIN)
    assert updated.status_code == 200
    assert [len([s for s in bed.pods[p].seen if "/os-services/" in s["path"]]) for p in ("Pod1", "Pod2")] == [1, 0]
