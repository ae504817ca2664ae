"""Nova's operator APIs through Atoll: hypervisors, services and aggregates of every pod."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from atoll.gateway.compute.admin import merged_audit, summed
from atoll.gateway.compute.tenant_usage import merge_usages
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
    listed = await bed.http.get(f"{BASE}/os-aggregates", headers=ADMIN)
    assert [(a["name"], a["availability_zone"]) for a in listed.json()["aggregates"]] == [
        ("agg-nova", "az1"),
        ("agg-zone-b", "az2"),
    ]
    metadata = [a["metadata"] for a in listed.json()["aggregates"]]
    assert metadata == [{"availability_zone": "az1"}, {"availability_zone": "az2"}]
    await bed.set_status("Pod1", PodStatus.DOWN)
    listed = await bed.http.get(f"{BASE}/os-aggregates", headers=ADMIN)
    assert [a["name"] for a in listed.json()["aggregates"]] == ["agg-zone-b"]


async def test_an_aggregate_is_shown_and_changed_in_the_pod_that_has_its_id(bed: Bed) -> None:
    bed.pods["Pod2"].aggregate_id = 2
    shown = await bed.http.get(f"{BASE}/os-aggregates/1", headers=ADMIN)
    assert (shown.status_code, shown.json()["aggregate"]["availability_zone"]) == (200, "az1")
    added = await bed.http.post(f"{BASE}/os-aggregates/2/action", json={"add_host": {"host": "h"}}, headers=ADMIN)
    assert added.status_code == 200
    assert (added.json()["aggregate"]["hosts"], added.json()["aggregate"]["availability_zone"]) == (["h"], "az2")
    assert not [s for s in bed.pods["Pod1"].seen if s["method"] == "POST"]  # Pod1 was only asked to show it
    missing = await bed.http.get(f"{BASE}/os-aggregates/7", headers=ADMIN)
    assert missing.status_code == 404
    for path, body in (
        ("/os-aggregates/1", {"aggregate": {"availability_zone": "az9"}}),
        ("/os-aggregates/1/action", {"set_metadata": {"metadata": {"availability_zone": "az9"}}}),
    ):
        method = bed.http.put if path.endswith("/1") else bed.http.post
        refused = await method(BASE + path, json=body, headers=ADMIN)
        assert refused.status_code == 409
        assert "cannot be set through Atoll" in refused.json()["conflictingRequest"]["message"]


async def test_an_aggregate_id_two_pods_have_is_a_409_naming_both(bed: Bed) -> None:
    for method in ("GET", "DELETE"):
        refused = await bed.http.request(method, f"{BASE}/os-aggregates/1", headers=ADMIN)
        assert refused.status_code == 409
        message = refused.json()["conflictingRequest"]["message"]
        assert "more than one pod: Pod1 (agg-nova), Pod2 (agg-zone-b)" in message
    assert not [s for pod in ("Pod1", "Pod2") for s in bed.pods[pod].seen if s["method"] == "DELETE"]


async def test_an_aggregate_is_created_in_its_pods_region_which_atoll_says(bed: Bed) -> None:
    made = await bed.http.post(f"{BASE}/os-aggregates", json={"aggregate": {"name": "a"}}, headers=ADMIN)
    assert made.status_code == 409
    assert "create it in that pod's own region (Pod1, Pod2)" in made.json()["conflictingRequest"]["message"]
    assert not [s for s in bed.pods["Pod1"].seen + bed.pods["Pod2"].seen if s["method"] == "POST"]


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


# -- usage reports (/os-simple-tenant-usage) -----------------------------------------------------

USAGE = f"{BASE}/os-simple-tenant-usage"
PAGED = {**ADMIN, "X-OpenStack-Nova-API-Version": "2.40"}


def _ids(n: int, pod: str) -> list[str]:
    return [f"{pod}-{i:02d}-0000-4000-8000-000000000000" for i in range(n)]


async def test_usage_is_added_up_over_the_pods(bed: Bed) -> None:
    for pod, count in (("Pod1", 2), ("Pod2", 3)):
        for server_id in _ids(count, pod.lower()):
            bed.pods[pod].add("vm", id=server_id)
    bed.pods["Pod2"].add("other", id="pod2-99-0000-4000-8000-000000000000", tenant_id="project-b")
    listed = (await bed.http.get(USAGE, params={"detailed": "1"}, headers=ADMIN)).json()["tenant_usages"]
    assert [(u["tenant_id"], u["total_hours"], len(u["server_usages"])) for u in listed] == [
        ("project-a", 5, 5),
        ("project-b", 1, 1),
    ]
    brief = (await bed.http.get(USAGE, headers=ADMIN)).json()["tenant_usages"]
    assert [("server_usages" in u, u["total_vcpus_usage"]) for u in brief] == [(False, 5), (False, 1)]
    shown = (await bed.http.get(f"{USAGE}/project-a", headers=ADMIN)).json()["tenant_usage"]
    assert (shown["total_hours"], len(shown["server_usages"])) == (5, 5)
    assert (await bed.http.get(f"{USAGE}/project-none", headers=ADMIN)).json() == {"tenant_usage": {}}
    paged = (await bed.http.get(f"{USAGE}/project-a", params={"limit": "4"}, headers=PAGED)).json()
    assert [s["instance_id"][:4] for s in paged["tenant_usage"]["server_usages"]] == ["pod1", "pod1", "pod2", "pod2"]
    assert "marker=pod2-01" in paged["tenant_usage_links"][0]["href"]


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 6])
async def test_usage_pages_walk_the_pods_as_nova_walks_its_cells(bed: Bed, limit: int) -> None:
    expected = _ids(3, "pod1") + _ids(2, "pod2")
    for server_id in expected:
        bed.pods["Pod1" if server_id.startswith("pod1") else "Pod2"].add("vm", id=server_id)
    seen: list[str] = []
    params: dict[str, str] = {"limit": str(limit), "detailed": "1", "start": "2026-01-01T00:00:00"}
    for _ in range(10):
        page = (await bed.http.get(USAGE, params=params, headers=PAGED)).json()
        seen += [s["instance_id"] for u in page["tenant_usages"] for s in u["server_usages"]]
        if "tenant_usages_links" not in page:
            break
        [link] = page["tenant_usages_links"]
        assert link["href"].startswith("http://atoll.test/compute/v2.1/os-simple-tenant-usage?")
        query = dict(parse_qsl(urlsplit(link["href"]).query))
        assert query["start"] == "2026-01-01T00:00:00"
        params = query
    assert seen == expected


async def test_usage_pages_refuse_a_marker_no_pod_has_and_name_a_pod_left_out(bed: Bed) -> None:
    for server_id in _ids(2, "pod2"):
        bed.pods["Pod2"].add("vm", id=server_id)
    unknown = await bed.http.get(USAGE, params={"marker": "nowhere"}, headers=PAGED)
    assert unknown.status_code == 400
    assert "Marker nowhere could not be found." in unknown.text
    bad = await bed.http.get(USAGE, params={"limit": "many"}, headers=PAGED)
    assert bad.status_code == 400
    bed.pods["Pod1"].failing = lambda request: 503 if "tenant-usage" in request.path else None
    partial = await bed.http.get(USAGE, params={"detailed": "1"}, headers=PAGED)
    assert partial.status_code == 200
    assert partial.headers["Atoll-Partial-Pods"] == "Pod1"
    assert [len(u["server_usages"]) for u in partial.json()["tenant_usages"]] == [2]


def test_merge_usages_adds_totals_and_keeps_the_first_of_the_rest() -> None:
    one: dict[str, Any] = {"tenant_id": "a", "total_hours": 1.5, "start": "s1", "server_usages": [{"instance_id": "x"}]}
    two: dict[str, Any] = {"tenant_id": "a", "total_hours": 2, "start": "s2", "server_usages": [{"instance_id": "y"}]}
    merged = merge_usages([[one], [two, {}]], detailed=True)
    assert merged == [
        {
            "tenant_id": "a",
            "total_hours": 3.5,
            "start": "s1",
            "server_usages": [one["server_usages"][0], two["server_usages"][0]],
        }
    ]
    assert one["server_usages"] == [{"instance_id": "x"}]  # the pods' documents are not changed


async def test_hosts_of_every_pod_show_atoll_zones_and_one_is_found_in_its_pod(bed: Bed) -> None:
    listed = (await bed.http.get(f"{BASE}/os-hosts", headers=ADMIN)).json()["hosts"]
    assert [(h["host_name"], h["zone"]) for h in listed] == [
        ("nova-host", "az1"),
        ("nova-host", "internal"),
        ("zone-b-host", "az2"),
        ("zone-b-host", "internal"),
    ]
    shown = await bed.http.get(f"{BASE}/os-hosts/zone-b-host", headers=ADMIN)
    assert shown.json()["host"][0]["resource"]["host"] == "zone-b-host"
    updated = await bed.http.put(f"{BASE}/os-hosts/zone-b-host", json={"status": "disable"}, headers=ADMIN)
    assert updated.json() == {"host": "zone-b-host", "status": "disable"}
    assert (await bed.http.get(f"{BASE}/os-hosts/nowhere", headers=ADMIN)).status_code == 404


def _audit(host: str, instances: int, errors: int, done: bool, not_run: list[str]) -> dict[str, Any]:
    log = {host: {"errors": errors, "instances": instances, "message": "ran", "state": "DONE"}} if done else {}
    every = len(log) + len(not_run)
    return {
        "hosts_not_run": not_run,
        "log": log,
        "num_hosts": every,
        "num_hosts_done": len(log),
        "num_hosts_not_run": len(not_run),
        "num_hosts_running": 0,
        "overall_status": "whatever the pod said",
        "period_beginning": "2026-11-01 00:00:00",
        "period_ending": "2026-12-01 00:00:00",
        "total_errors": errors,
        "total_instances": instances,
    }


async def test_the_instance_usage_audit_is_added_up_over_the_pods(bed: Bed) -> None:
    pods = bed.pods
    pods["Pod1"].canned["/v2.1/os-instance_usage_audit_log"] = (
        200,
        {"instance_usage_audit_logs": _audit("c1", 3, 1, True, [])},
    )
    pods["Pod2"].canned["/v2.1/os-instance_usage_audit_log"] = (
        200,
        {"instance_usage_audit_logs": _audit("c1", 2, 0, True, ["c2"])},
    )
    listed = await bed.http.get(f"{BASE}/os-instance_usage_audit_log", headers=ADMIN)
    assert listed.status_code == 200, listed.text
    audit = listed.json()["instance_usage_audit_logs"]
    assert (audit["num_hosts"], audit["num_hosts_done"], audit["num_hosts_not_run"]) == (3, 2, 1)
    assert (audit["total_instances"], audit["total_errors"]) == (5, 1)
    assert audit["overall_status"] == "2 of 3 hosts done. 1 errors."
    assert audit["hosts_not_run"] == ["c2"]
    assert sorted(audit["log"]) == ["c1", "c1@Pod2"]  # the same host name in two pods: both shown
    assert audit["period_beginning"] == "2026-11-01 00:00:00"
    before = "/v2.1/os-instance_usage_audit_log/2026-11-15 00:00:00"
    for name in pods:
        pods[name].canned[before] = (200, {"instance_usage_audit_log": _audit(f"{name}-host", 1, 0, True, [])})
    shown = await bed.http.get(f"{BASE}/os-instance_usage_audit_log/2026-11-15 00:00:00", headers=ADMIN)
    assert shown.json()["instance_usage_audit_log"]["overall_status"] == "ALL hosts done. 0 errors."
    assert shown.json()["instance_usage_audit_log"]["total_instances"] == 2


async def test_a_console_auth_token_is_found_in_its_pod(bed: Bed) -> None:
    console = {"console": {"instance_uuid": "abc", "host": "zone-b-host", "port": 5900, "internal_access_path": None}}
    bed.pods["Pod2"].canned["/v2.1/os-console-auth-tokens/t0ken"] = (200, console)
    found = await bed.http.get(f"{BASE}/os-console-auth-tokens/t0ken", headers=ADMIN)
    assert (found.status_code, found.json()) == (200, console)
    missing = await bed.http.get(f"{BASE}/os-console-auth-tokens/other", headers=ADMIN)
    assert missing.status_code == 404


def test_merged_audit_of_no_pod_is_empty_and_of_one_is_that_pods_with_nova_s_status() -> None:
    assert merged_audit([]) == {}
    one = merged_audit([("Pod1", _audit("c1", 4, 0, True, []))])
    assert (one["overall_status"], one["log"]["c1"]["instances"]) == ("ALL hosts done. 0 errors.", 4)


async def test_a_host_name_two_pods_have_is_a_409_naming_both_not_the_first_pods_host(bed: Bed) -> None:
    bed.pods["Pod2"].host = "nova-host"  # the same name as Pod1's
    for method, body in (("GET", None), ("PUT", {"status": "disable"})):
        refused = await bed.http.request(method, f"{BASE}/os-hosts/nova-host", json=body, headers=ADMIN)
        assert refused.status_code == 409
        message = refused.json()["conflictingRequest"]["message"]
        assert message.startswith("'nova-host' names an item in more than one pod (Pod1, Pod2)")
    assert not [s for pod in ("Pod1", "Pod2") for s in bed.pods[pod].seen if s["method"] == "PUT"]
    bed.pods["Pod2"].host = "other-host"
    changed = await bed.http.put(f"{BASE}/os-hosts/other-host", json={"status": "disable"}, headers=ADMIN)
    assert (changed.status_code, changed.json()["host"]) == (200, "other-host")
    assert [len([s for s in bed.pods[p].seen if s["method"] == "PUT"]) for p in ("Pod1", "Pod2")] == [0, 1]


async def test_a_service_deleted_by_an_integer_id_is_deleted_in_the_pod_that_lists_it_only(bed: Bed) -> None:
    old = {**ADMIN, "X-OpenStack-Nova-API-Version": "2.52"}
    bed.pods["Pod1"].service_id, bed.pods["Pod2"].service_id = 7, 7
    refused = await bed.http.delete(f"{BASE}/os-services/7", headers=old)
    assert refused.status_code == 409
    assert "'7' names an item in more than one pod (Pod1, Pod2)" in refused.json()["conflictingRequest"]["message"]
    bed.pods["Pod2"].service_id = 8
    deleted = await bed.http.delete(f"{BASE}/os-services/8", headers=old)
    assert deleted.status_code == 204
    assert [len([s for s in bed.pods[p].seen if s["method"] == "DELETE"]) for p in ("Pod1", "Pod2")] == [0, 1]
