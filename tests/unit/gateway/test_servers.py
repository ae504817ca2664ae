from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import sqlalchemy as sa

from atoll.db.models import PodBinding, ResourceRouting
from atoll.gateway.compute.servers import show_atoll_az
from atoll.gateway.http import Reply
from atoll.gateway.rewrite import AzFields
from atoll.pods.info import PodInfo
from atoll.types import PodId, PodStatus, RegionName
from tests.conftest import MEMBER
from tests.unit.gateway.conftest import Bed

EVERY_FIELD: dict[str, Any] = {
    "server": {
        "name": "vm1",
        "flavorRef": "1",
        "imageRef": "70a599e0-31e7-49b7-b260-868f441e862b",
        "networks": "none",
        "key_name": "key1",
        "user_data": "IyEvYmluL3NoCmVjaG8gaGk=",
        "metadata": {"a": "b"},
        "block_device_mapping_v2": [
            {
                "boot_index": 0,
                "source_type": "image",
                "destination_type": "local",
                "uuid": "img",
                "delete_on_termination": True,
            }
        ],
        "security_groups": [{"name": "default"}],
        "config_drive": True,
        "min_count": 1,
        "max_count": 1,
        "tags": ["t1"],
        "description": "d",
        "hostname": "vm-one",
        "availability_zone": "az2",
        "OS-DCF:diskConfig": "AUTO",
        "accessIPv4": "192.0.2.1",
        "adminPass": "pw",
        "trusted_image_certificates": ["c1"],
        "host": "h",
        "hypervisor_hostname": "n",
    },
    "os:scheduler_hints": {"same_host": ["x"], "query": "[]"},
}


async def _routings(bed: Bed) -> list[tuple[str, str | None, str, str, str]]:
    async with bed.sessions() as session:
        rows = (await session.scalars(sa.select(ResourceRouting).order_by(ResourceRouting.id))).all()
        return [(r.top_id, r.bottom_id, r.pod_id, r.project_id, r.resource_type) for r in rows]


async def test_create_passes_every_field_and_records_a_routing(bed: Bed) -> None:
    bed.pods["Pod2"].keypairs["key1"] = {"name": "key1", "public_key": "ssh-ed25519 AAAA", "type": "ssh"}
    response = await bed.http.post("/compute/v2.1/servers", json=EVERY_FIELD, headers=MEMBER)
    assert response.status_code == 202, response.text
    [sent] = bed.pods["Pod2"].bodies
    expected = {**EVERY_FIELD, "server": {**EVERY_FIELD["server"], "availability_zone": "zone-b"}}
    assert sent == expected  # nothing dropped; only the AZ renamed to the pod's own
    assert bed.pods["Pod1"].bodies == []
    server_id = response.json()["server"]["id"]
    assert response.headers["location"] == f"http://atoll.test/compute/v2.1/servers/{server_id}"
    assert await _routings(bed) == [(server_id, server_id, bed.ids["Pod2"], "project-a", "server")]
    shown = await bed.http.get(f"/compute/v2.1/servers/{server_id}", headers=MEMBER)
    assert shown.json()["server"]["OS-EXT-AZ:availability_zone"] == "az2"  # Atoll's AZ, not "zone-b"
    async with bed.sessions() as session:
        bindings = (await session.scalars(sa.select(PodBinding))).all()
    assert [(b.tenant_id, b.pod_id) for b in bindings] == [("project-a", bed.ids["Pod2"])]


async def test_empty_pod_az_name_sends_the_one_zone_the_pods_nova_lists(bed: Bed) -> None:
    body = {"server": {"name": "a", "availability_zone": "az1"}}
    first = await bed.http.post("/compute/v2.1/servers", json=body, headers=MEMBER)
    assert first.status_code == 202
    body = {"server": {"name": "b", "availability_zone": "az1:host1"}}
    assert (await bed.http.post("/compute/v2.1/servers", json=body, headers=MEMBER)).status_code == 202
    assert [b["server"] for b in bed.pods["Pod1"].bodies] == [
        {"name": "a", "availability_zone": "nova"},  # pinned as Nova pins it, not left unpinned
        {"name": "b", "availability_zone": "nova:host1"},
    ]
    bed.pods["Pod1"].servers[first.json()["server"]["id"]]["pinned_availability_zone"] = "nova"
    shown = await bed.http.get(f"/compute/v2.1/servers/{first.json()['server']['id']}", headers=MEMBER)
    assert shown.json()["server"]["pinned_availability_zone"] == "az1"


async def test_repinning_a_server_names_its_pods_zone_and_another_az_is_a_409(bed: Bed) -> None:
    server = bed.pods["Pod2"].add("vm")  # no routing yet: found in Pod2 and adopted
    url = f"/compute/v2.1/servers/{server['id']}"
    pinned = await bed.http.put(url, json={"server": {"pinned_availability_zone": "az2"}}, headers=MEMBER)
    assert pinned.status_code == 200, pinned.text
    assert bed.pods["Pod2"].bodies[-1] == {"server": {"pinned_availability_zone": "zone-b"}}
    unpinned = await bed.http.put(url, json={"server": {"pinned_availability_zone": None}}, headers=MEMBER)
    assert unpinned.status_code == 200
    assert bed.pods["Pod2"].bodies[-1] == {"server": {"pinned_availability_zone": None}}
    elsewhere = await bed.http.put(url, json={"server": {"pinned_availability_zone": "az1"}}, headers=MEMBER)
    assert elsewhere.status_code == 409
    assert "current availability zone 'az2'" in elsewhere.json()["conflictingRequest"]["message"]
    unshelve = await bed.http.post(f"{url}/action", json={"unshelve": {"availability_zone": "az2"}}, headers=MEMBER)
    assert unshelve.status_code == 202
    assert bed.pods["Pod2"].bodies[-1] == {"unshelve": {"availability_zone": "zone-b"}}
    moved = await bed.http.post(f"{url}/action", json={"unshelve": {"availability_zone": "az1"}}, headers=MEMBER)
    assert moved.status_code == 409


async def test_bad_create_bodies_are_400s_that_change_nothing(bed: Bed) -> None:
    cases = [
        (b"{not json", "Malformed request body"),
        (b"[]", "must be a JSON object holding a 'server' object"),
        (b'{"server": "x"}', "must be a JSON object holding a 'server' object"),
        (b'{"server": {"availability_zone": 3}}', "Invalid input for field/attribute availability_zone"),
        (b'{"server": {"block_device_mapping_v2": "x"}}', "block_device_mapping_v2. It must be a list of objects"),
        (b'{"server": {}, "os:scheduler_hints": []}', "os:scheduler_hints. It must be an object"),
    ]
    for body, message in cases:
        response = await bed.http.post("/compute/v2.1/servers", content=body, headers=MEMBER)
        assert response.status_code == 400, body
        assert message in response.json()["badRequest"]["message"], response.text
    unknown_az = await bed.http.post(
        "/compute/v2.1/servers", json={"server": {"availability_zone": "nova"}}, headers=MEMBER
    )
    assert unknown_az.json()["badRequest"]["message"] == "The requested availability zone is not available"
    assert await _routings(bed) == []
    assert bed.pods["Pod1"].bodies == bed.pods["Pod2"].bodies == []


async def test_a_down_pod_is_skipped_unless_the_project_is_bound_to_it(bed: Bed) -> None:
    await bed.set_status("Pod1", PodStatus.DOWN)
    anywhere = await bed.http.post("/compute/v2.1/servers", json={"server": {"name": "x"}}, headers=MEMBER)
    assert anywhere.status_code == 202
    assert len(bed.pods["Pod2"].bodies) == 1
    down_az = await bed.http.post(
        "/compute/v2.1/servers", json={"server": {"availability_zone": "az1"}}, headers=MEMBER
    )
    assert down_az.status_code == 503
    assert "No pod of availability zone az1 is available now" in down_az.json()["serviceUnavailable"]["message"]
    await bed.set_status("Pod1", PodStatus.UP)
    bound = await bed.http.post("/compute/v2.1/servers", json={"server": {"availability_zone": "az1"}}, headers=MEMBER)
    assert bound.status_code == 202
    await bed.set_status("Pod1", PodStatus.DOWN)
    refused = await bed.http.post(
        "/compute/v2.1/servers", json={"server": {"availability_zone": "az1"}}, headers=MEMBER
    )
    assert refused.status_code == 503
    assert refused.json()["serviceUnavailable"]["message"].startswith("Availability zone az1 is not available now")
    shown = await bed.http.get(f"/compute/v2.1/servers/{bound.json()['server']['id']}", headers=MEMBER)
    assert shown.status_code == 503
    assert "availability zone az1, whose pod does not answer now" in shown.json()["serviceUnavailable"]["message"]


async def test_concurrent_first_creates_of_a_project_bind_it_once(bed: Bed) -> None:
    replies = await asyncio.gather(
        *(bed.http.post("/compute/v2.1/servers", json={"server": {"name": f"s{i}"}}, headers=MEMBER) for i in range(6))
    )
    assert [r.status_code for r in replies] == [202] * 6
    rows = await _routings(bed)
    assert len(rows) == 6
    assert len({pod for _, _, pod, _, _ in rows}) == 1
    assert all(top == bottom for top, bottom, *_ in rows)


async def test_show_update_action_sub_resources_and_delete_go_to_the_servers_pod(bed: Bed) -> None:
    created = await bed.http.post(
        "/compute/v2.1/servers", json={"server": {"name": "vm", "availability_zone": "az2"}}, headers=MEMBER
    )
    server_id = created.json()["server"]["id"]
    base = f"/compute/v2.1/servers/{server_id}"
    updated = await bed.http.put(base, json={"server": {"name": "renamed"}}, headers=MEMBER)
    assert updated.json()["server"]["name"] == "renamed"
    for action in ({"os-stop": None}, {"reboot": {"type": "HARD"}}, {"someFutureAction": {"x": 1}}):
        response = await bed.http.post(base + "/action", json=action, headers=MEMBER)
        assert response.status_code == 202
        assert bed.pods["Pod2"].bodies[-1] == action
    for method, sub in [("GET", "metadata"), ("PUT", "metadata/k1"), ("GET", "os-interface"), ("DELETE", "tags/t1")]:
        response = await bed.http.request(method, f"{base}/{sub}", headers=MEMBER, content=b"{}")
        assert response.json() == {"sub": sub, "method": method}
    assert (await bed.http.get(f"{base}/os-not-a-thing", headers=MEMBER)).status_code == 404
    assert all(s["path"].startswith("/v2.1/servers") for s in bed.pods["Pod2"].seen if s["path"] != "/")
    assert not any(s["path"].startswith("/v2.1/servers/") for s in bed.pods["Pod1"].seen)
    assert (await bed.http.delete(base, headers=MEMBER)).status_code == 204
    assert await _routings(bed) == []
    gone = await bed.http.get(base, headers=MEMBER)
    assert gone.json() == {"itemNotFound": {"code": 404, "message": f"Instance {server_id} could not be found."}}


async def test_a_server_without_routing_is_found_and_adopted(bed: Bed) -> None:
    server = bed.pods["Pod2"].add("made-behind-atolls-back")
    shown = await bed.http.get(f"/compute/v2.1/servers/{server['id']}", headers=MEMBER)
    assert shown.status_code == 200
    assert shown.json()["server"]["name"] == "made-behind-atolls-back"
    assert await _routings(bed) == [(server["id"], server["id"], bed.ids["Pod2"], "project-a", "server")]
    calls = len(bed.pods["Pod1"].seen)
    await bed.http.get(f"/compute/v2.1/servers/{server['id']}", headers=MEMBER)
    assert len(bed.pods["Pod1"].seen) == calls  # routed now: Pod1 is not asked again


async def test_unknown_server_with_a_pod_down_is_503_not_404(bed: Bed) -> None:
    await bed.set_status("Pod2", PodStatus.DOWN)
    response = await bed.http.get("/compute/v2.1/servers/nope", headers=MEMBER)
    assert response.status_code == 503
    assert response.json()["serviceUnavailable"]["message"] == (
        "Instance nope could not be found in the pods that answer; availability zone(s) az2 did not answer. "
        "Try again later."
    )


@pytest.mark.parametrize("atoll_az", ["az1", 'odd "zone" \\ é', "back\\slash"])
def test_the_atoll_az_replaces_the_pod_s_in_server_documents_as_valid_json(atoll_az: str) -> None:
    pod = PodInfo(PodId("p1"), RegionName("Pod1"), atoll_az, "nova", False, {}, PodStatus.UP)
    servers = [
        {"id": "a", "OS-EXT-AZ:availability_zone": 'pod "z" \\ 1', "pinned_availability_zone": None},
        {"id": "b", "OS-EXT-AZ:availability_zone": "nova", "pinned_availability_zone": "nova", "name": "x"},
    ]
    reply = show_atoll_az(Reply(200, [], json.dumps({"servers": servers}).encode()), pod)
    assert isinstance(reply.body, bytes)
    shown = json.loads(reply.body)["servers"]
    assert [(s["OS-EXT-AZ:availability_zone"], s["pinned_availability_zone"]) for s in shown] == [
        (atoll_az, None),
        (atoll_az, atoll_az),
    ]
    assert shown[1]["name"] == "x"


def test_az_fields_leave_everything_else_alone() -> None:
    replace = AzFields("availability_zone").body
    body = (
        b'{"a": {"availability_zone" :\t"x\\\\\\"y\\\\"}, "availability_zone": null,'
        b' "meta": {"k": "availability_zone"}, "n": "\\"availability_zone\\": \\"q\\"", "availability_zone": "z"}'
    )
    done = json.loads(replace(body, 'A "b"'))
    assert done == {
        "a": {"availability_zone": 'A "b"'},
        "availability_zone": 'A "b"',  # the later duplicate key wins in json.loads; both were a string or null
        "meta": {"k": "availability_zone"},
        "n": '"availability_zone": "q"',
    }
    assert b"null" in replace(body, "A")
    assert replace(b'{"other": "x"}', "A") == b'{"other": "x"}'


@pytest.mark.parametrize("az", ["az1", 'odd "zone" \\ é'])
def test_az_fields_set_on_parsed_items_as_on_the_bytes(az: str) -> None:
    zones = AzFields("OS-EXT-AZ:availability_zone", "pinned_availability_zone")
    items: list[Any] = [
        {"id": "a", "OS-EXT-AZ:availability_zone": "nova", "pinned_availability_zone": None},
        {"id": "b", "OS-EXT-AZ:availability_zone": "nova", "pinned_availability_zone": "nova", "name": "nova"},
        "not an item",
    ]
    zones.items(items, az)
    assert items == [
        {"id": "a", "OS-EXT-AZ:availability_zone": az, "pinned_availability_zone": None},
        {"id": "b", "OS-EXT-AZ:availability_zone": az, "pinned_availability_zone": az, "name": "nova"},
        "not an item",
    ]


async def _server_routings(bed: Bed) -> list[str]:
    async with bed.sessions() as session:
        query = sa.select(ResourceRouting.top_id).where(ResourceRouting.resource_type == "server")
        return list((await session.scalars(query)).all())


async def test_a_server_being_deleted_is_shown_without_a_routing_that_would_outlive_it(bed: Bed) -> None:
    """`openstack server delete --wait` polls the server until it is gone: before, each poll that found
    it still deleting adopted it again, and the routing stayed after the server had gone."""
    server = bed.pods["Pod2"].add("vm")
    server["OS-EXT-STS:task_state"] = "deleting"
    shown = await bed.http.get(f"/compute/v2.1/servers/{server['id']}", headers=MEMBER)
    assert (shown.status_code, shown.json()["server"]["OS-EXT-AZ:availability_zone"]) == (200, "az2")
    assert await _server_routings(bed) == []


async def test_a_routed_servers_404_to_its_own_project_drops_the_routing_and_to_another_keeps_it(bed: Bed) -> None:
    server = bed.pods["Pod2"].add("vm")
    url = f"/compute/v2.1/servers/{server['id']}"
    assert (await bed.http.get(url, headers=MEMBER)).status_code == 200  # adopted
    assert await _server_routings(bed) == [server["id"]]
    del bed.pods["Pod2"].servers[server["id"]]  # gone behind Atoll's back
    other = await bed.http.get(url, headers={"X-Auth-Token": "member-b"})
    assert other.status_code == 404
    assert await _server_routings(bed) == [server["id"]]  # another project's 404 says nothing
    mine = await bed.http.get(url, headers=MEMBER)
    assert mine.status_code == 404
    assert await _server_routings(bed) == []
