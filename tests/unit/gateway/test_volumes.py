"""Block storage through the gateway, in front of two fake clouds (Nova + Cinder) registered as
Pod1 (az1, the pod's own AZ "nova") and Pod2 (az2, pod_az_name "zone-b")."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from atoll.conf import new_config
from atoll.db import pods as pods_db
from atoll.db.models import ResourceRouting
from atoll.gateway.build import build_gateway
from atoll.gateway.http import Reply
from atoll.gateway.volume.routed import show_atoll_az
from atoll.pods.info import PodInfo
from atoll.pods.pool import PodClients
from atoll.scheduling.weigher import EvenWeigher
from atoll.types import PodId, PodStatus, RegionName
from tests.conftest import ADMIN, MEMBER, READER_B, FakeValidator
from tests.unit.gateway.conftest import Bed, Sessions, _register
from tests.unit.gateway.fakecinder import FakeCloud
from tests.unit.pods.fakepod import serve

V3 = "/volume/v3"
IMAGE = "70a599e0-31e7-49b7-b260-868f441e862b"


@pytest.fixture
async def clouds(sessions: Sessions) -> AsyncIterator[Bed]:
    one, two = FakeCloud(az="nova", cinder_az="nova"), FakeCloud(az="zone-b", cinder_az="zone-b")
    async with serve(one), serve(two):
        async with sessions.begin() as session:
            await pods_db.create(session, region_name="RegionOne")
        ids = {
            "Pod1": await _register(sessions, "Pod1", "az1", "", one.url),
            "Pod2": await _register(sessions, "Pod2", "az2", "zone-b", two.url),
        }
        conf = new_config()
        conf.set_override("list_timeout", 0.5, group="gateway")
        parts = build_gateway(
            conf, sessions=sessions, validator=FakeValidator(), weigher=EvenWeigher(), clients=PodClients()
        )
        transport = httpx.ASGITransport(app=parts.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://atoll.test") as http:
            yield Bed(http, parts, sessions, {"Pod1": one, "Pod2": two}, ids)
        await parts.close()


def cloud(bed: Bed, name: str) -> FakeCloud:
    pod = bed.pods[name]
    assert isinstance(pod, FakeCloud)
    return pod


async def routed_pod(bed: Bed, top_id: str, kind: str) -> str | None:
    async with bed.sessions() as session:
        rows = (
            await session.execute(
                sa.select(ResourceRouting.pod_id).where(
                    ResourceRouting.top_id == top_id, ResourceRouting.resource_type == kind
                )
            )
        ).all()
    names = {str(pod_id): name for name, pod_id in bed.ids.items()}
    assert len(rows) <= 1
    return names[rows[0][0]] if rows else None


async def create(bed: Bed, body: dict[str, Any], headers: dict[str, str] = MEMBER) -> httpx.Response:
    return await bed.http.post(f"{V3}/volumes", json=body, headers=headers)


async def test_create_goes_to_the_pod_of_the_az_with_its_own_az_name(clouds: Bed) -> None:
    made = await create(
        clouds, {"volume": {"size": 1, "name": "v", "availability_zone": "az2", "metadata": {"a": "b"}}}
    )
    assert made.status_code == 202, made.text
    volume = made.json()["volume"]
    assert volume["availability_zone"] == "az2"
    assert volume["links"][0]["href"] == f"http://atoll.test/volume/v3/project-a/volumes/{volume['id']}"
    two = cloud(clouds, "Pod2")
    assert volume["id"] in two.volumes
    assert volume["id"] not in cloud(clouds, "Pod1").volumes
    # Every field reaches the pod; the AZ is the pod's own name of it.
    assert two.bodies[-1] == {"volume": {"size": 1, "name": "v", "availability_zone": "zone-b", "metadata": {"a": "b"}}}
    assert await routed_pod(clouds, volume["id"], "volume") == "Pod2"
    # Pod1 has no pod_az_name: the AZ is left for its Cinder to default.
    first = await create(clouds, {"volume": {"size": 1, "availability_zone": "az1"}})
    assert first.json()["volume"]["availability_zone"] == "az1"
    assert cloud(clouds, "Pod1").bodies[-1] == {"volume": {"size": 1}}


async def test_unknown_az_and_bad_body_are_400s(clouds: Bed) -> None:
    unknown = await create(clouds, {"volume": {"size": 1, "availability_zone": "nowhere"}})
    assert unknown.status_code == 400
    assert unknown.json()["badRequest"]["message"] == "Availability zone 'nowhere' is invalid."
    bad = await clouds.http.post(f"{V3}/volumes", content=b"{nope", headers=MEMBER)
    assert bad.status_code == 400
    assert "Malformed request body" in bad.json()["badRequest"]["message"]
    no_member = await create(clouds, {"size": 1})
    assert no_member.status_code == 400
    assert "'volume'" in no_member.json()["badRequest"]["message"]
    assert cloud(clouds, "Pod1").bodies == []
    assert cloud(clouds, "Pod2").bodies == []


async def test_from_snapshot_or_volume_goes_to_its_pod_or_409(clouds: Bed) -> None:
    two = cloud(clouds, "Pod2")
    source = two.add_volume("src")
    snapshot = two.add_snapshot(source["id"])
    for field, value in (("snapshot_id", snapshot["id"]), ("source_volid", source["id"])):
        made = await create(clouds, {"volume": {"size": 1, field: value}})
        assert made.status_code == 202, made.text
        assert made.json()["volume"]["availability_zone"] == "az2"
        assert two.bodies[-1]["volume"][field] == value
        refused = await create(clouds, {"volume": {"size": 1, field: value, "availability_zone": "az1"}})
        assert refused.status_code == 409
        message = refused.json()["conflictingRequest"]["message"]
        assert value in message
        assert "az2" in message
        assert "az1" in message
    missing = await create(clouds, {"volume": {"size": 1, "snapshot_id": "nope"}})
    assert missing.status_code == 404
    assert missing.json()["itemNotFound"]["message"] == "Snapshot nope could not be found."


async def test_from_an_image_the_pod_must_have_without_service_credentials(clouds: Bed) -> None:
    # Without [service_auth] Atoll cannot copy the image: it says where the image is instead.
    one, two = cloud(clouds, "Pod1"), cloud(clouds, "Pod2")
    two.images[IMAGE] = {"id": IMAGE, "name": "only-in-pod2", "status": "active"}
    refused = await create(clouds, {"volume": {"size": 1, "imageRef": IMAGE, "availability_zone": "az1"}})
    assert refused.status_code == 409
    message = refused.json()["conflictingRequest"]["message"]
    assert IMAGE in message
    assert "az1" in message
    assert "az2" in message
    assert one.bodies == []
    made = await create(clouds, {"volume": {"size": 1, "imageRef": IMAGE, "availability_zone": "az2"}})
    assert made.status_code == 202
    assert two.bodies[-1]["volume"]["imageRef"] == IMAGE
    nowhere = await create(clouds, {"volume": {"size": 1, "imageRef": "8a0f3c53-7c6c-4d1c-a6f3-7f1c1c1c1c1c"}})
    assert nowhere.status_code == 400
    assert "image" in nowhere.json()["badRequest"]["message"]


async def test_a_type_given_by_id_is_sent_by_name(clouds: Bed) -> None:
    one, two = cloud(clouds, "Pod1"), cloud(clouds, "Pod2")
    made = await clouds.http.post(f"{V3}/types", json={"volume_type": {"name": "gold"}}, headers=ADMIN)
    assert made.status_code == 200
    gold = made.json()["volume_type"]["id"]
    assert one.type_named("gold") is not None
    assert one.type_named("gold") == one.types[gold]
    in_two = two.type_named("gold")
    assert in_two is not None
    assert in_two["id"] != gold
    volume = await create(clouds, {"volume": {"size": 1, "volume_type": gold, "availability_zone": "az2"}})
    assert volume.status_code == 202, volume.text
    assert two.bodies[-1]["volume"]["volume_type"] == "gold"


async def test_type_writes_reach_every_pod_under_its_own_id(clouds: Bed) -> None:
    one, two = cloud(clouds, "Pod1"), cloud(clouds, "Pod2")
    gold = (await clouds.http.post(f"{V3}/types", json={"volume_type": {"name": "gold"}}, headers=ADMIN)).json()[
        "volume_type"
    ]["id"]
    specs = await clouds.http.post(f"{V3}/types/{gold}/extra_specs", json={"extra_specs": {"k": "v"}}, headers=ADMIN)
    assert specs.status_code == 200
    for pod in (one, two):
        found = pod.type_named("gold")
        assert found is not None
        assert found["extra_specs"] == {"k": "v"}
    listed = await clouds.http.get(f"{V3}/types", headers=MEMBER)
    assert {t["id"] for t in listed.json()["volume_types"]} == set(one.types)
    deleted = await clouds.http.delete(f"{V3}/types/{gold}", headers=ADMIN)
    assert deleted.status_code == 202
    assert one.type_named("gold") is None
    assert two.type_named("gold") is None
    again = await clouds.http.delete(f"{V3}/types/{gold}", headers=ADMIN)
    assert again.status_code == 404


async def test_show_update_delete_and_actions_by_routing_or_adoption(clouds: Bed) -> None:
    two = cloud(clouds, "Pod2")
    volume = two.add_volume("made-behind-atolls-back")
    path = f"{V3}/volumes/{volume['id']}"
    shown = await clouds.http.get(path, headers=MEMBER)
    assert shown.status_code == 200
    assert shown.json()["volume"]["availability_zone"] == "az2"
    assert await routed_pod(clouds, volume["id"], "volume") == "Pod2"
    renamed = await clouds.http.put(path, json={"volume": {"name": "new"}}, headers=MEMBER)
    assert renamed.json()["volume"]["name"] == "new"
    for action in ({"os-extend": {"new_size": 2}}, {"os-set_bootable": {"bootable": True}}):
        answered = await clouds.http.post(f"{path}/action", json=action, headers=MEMBER)
        assert answered.status_code == 202
        assert two.bodies[-1] == action
    assert (await clouds.http.get(f"{path}/nonsense", headers=MEMBER)).status_code == 404
    assert (await clouds.http.delete(path, headers=MEMBER)).status_code == 202
    assert await routed_pod(clouds, volume["id"], "volume") is None
    gone = await clouds.http.get(path, headers=MEMBER)
    assert gone.status_code == 404
    assert gone.json()["itemNotFound"]["message"] == f"Volume {volume['id']} could not be found."


async def test_project_id_in_the_path_is_the_same_route(clouds: Bed) -> None:
    volume = cloud(clouds, "Pod1").add_volume("v")
    shown = await clouds.http.get(f"{V3}/project-a/volumes/{volume['id']}", headers=MEMBER)
    assert shown.status_code == 200
    assert shown.json()["volume"]["id"] == volume["id"]


async def test_lists_merge_both_pods_page_by_page(clouds: Bed) -> None:
    one, two = cloud(clouds, "Pod1"), cloud(clouds, "Pod2")
    made = [pod.add_volume(f"v{i}", size=i % 3 + 1) for i, pod in enumerate([one, two, one, two, two])]
    for sort, key in (("created_at:desc", None), ("name:asc", "name"), ("size:desc,id:asc", "size")):
        whole = (await clouds.http.get(f"{V3}/volumes/detail", params={"sort": sort}, headers=MEMBER)).json()
        if key == "name":
            assert [v["name"] for v in whole["volumes"]] == sorted(v["name"] for v in made)
        elif key == "size":
            expected = sorted(made, key=lambda v: (-v["size"], v["id"]))
            assert [v["id"] for v in whole["volumes"]] == [v["id"] for v in expected]
        else:
            assert [v["id"] for v in whole["volumes"]] == [v["id"] for v in reversed(made)]
        assert {v["availability_zone"] for v in whole["volumes"]} == {"az1", "az2"}
        paged: list[str] = []
        url: str | None = f"{V3}/volumes?limit=2&sort={sort}"
        while url:
            page = (await clouds.http.get(url, headers=MEMBER)).json()
            assert len(page["volumes"]) <= 2
            assert all(set(v) == {"id", "links", "name"} for v in page["volumes"])
            paged += [v["id"] for v in page["volumes"]]
            url = next((link["href"] for link in page.get("volumes_links", [])), None)
            assert url is None or "/volumes?" in url
        assert paged == [v["id"] for v in whole["volumes"]], sort
    after = await clouds.http.get(f"{V3}/volumes/detail", params={"marker": made[2]["id"]}, headers=MEMBER)
    assert [v["id"] for v in after.json()["volumes"]] == [made[1]["id"], made[0]["id"]]


async def test_snapshots_go_to_their_volumes_pod(clouds: Bed) -> None:
    two = cloud(clouds, "Pod2")
    volume = two.add_volume("v")
    made = await clouds.http.post(f"{V3}/snapshots", json={"snapshot": {"volume_id": volume["id"]}}, headers=MEMBER)
    assert made.status_code == 202, made.text
    snapshot_id = made.json()["snapshot"]["id"]
    assert snapshot_id in two.snapshots
    assert await routed_pod(clouds, snapshot_id, "snapshot") == "Pod2"
    cloud(clouds, "Pod1").add_snapshot("other")
    listed = (await clouds.http.get(f"{V3}/snapshots/detail", headers=MEMBER)).json()["snapshots"]
    assert len(listed) == 2
    assert snapshot_id in {s["id"] for s in listed}
    assert (await clouds.http.get(f"{V3}/snapshots/{snapshot_id}", headers=MEMBER)).status_code == 200
    assert (await clouds.http.delete(f"{V3}/snapshots/{snapshot_id}", headers=MEMBER)).status_code == 202
    assert snapshot_id not in two.snapshots
    no_volume = await clouds.http.post(f"{V3}/snapshots", json={"snapshot": {"name": "x"}}, headers=MEMBER)
    assert no_volume.status_code == 400
    assert "volume_id" in no_volume.json()["badRequest"]["message"]
    unknown = await clouds.http.post(f"{V3}/snapshots", json={"snapshot": {"volume_id": "nope"}}, headers=MEMBER)
    assert unknown.status_code == 404
    assert unknown.json()["itemNotFound"]["message"] == "Volume nope could not be found."


async def test_availability_zones_are_atolls(clouds: Bed) -> None:
    zones = (await clouds.http.get(f"{V3}/os-availability-zone", headers=MEMBER)).json()
    assert zones == {
        "availabilityZoneInfo": [
            {"zoneName": "az1", "zoneState": {"available": True}},
            {"zoneName": "az2", "zoneState": {"available": True}},
        ]
    }


async def test_attaching_a_volume_of_another_pod_is_409(clouds: Bed) -> None:
    server = clouds.pods["Pod1"].add("vm")
    volume = cloud(clouds, "Pod2").add_volume("v")
    body = {"volumeAttachment": {"volumeId": volume["id"]}}
    refused = await clouds.http.post(
        f"/compute/v2.1/servers/{server['id']}/os-volume_attachments", json=body, headers=MEMBER
    )
    assert refused.status_code == 409
    message = refused.json()["conflictingRequest"]["message"]
    assert volume["id"] in message
    assert "different pods" in message
    assert clouds.pods["Pod1"].bodies == []
    here = cloud(clouds, "Pod1").add_volume("here")
    body = {"volumeAttachment": {"volumeId": here["id"]}}
    attached = await clouds.http.post(
        f"/compute/v2.1/servers/{server['id']}/os-volume_attachments", json=body, headers=MEMBER
    )
    assert attached.status_code == 200


async def test_the_az_filter_asks_that_azs_pods_by_their_own_az_name(clouds: Bed) -> None:
    one, two = cloud(clouds, "Pod1"), cloud(clouds, "Pod2")
    in_one, in_two = one.add_volume("one"), two.add_volume("two")
    for az, pod, volume, sent in (("az1", one, in_one, None), ("az2", two, in_two, "zone-b")):
        other = two if pod is one else one
        seen_before = len(other.seen)
        listed = await clouds.http.get(f"{V3}/volumes/detail", params={"availability_zone": az}, headers=MEMBER)
        assert [v["id"] for v in listed.json()["volumes"]] == [volume["id"]]
        assert listed.json()["volumes"][0]["availability_zone"] == az
        asked = [s for s in pod.seen if s["path"] == "/v3/volumes/detail"][-1]
        assert (f"availability_zone={sent}" in asked["query"]) is (sent is not None)
        assert "availability_zone" not in asked["query"] or sent is not None
        assert not [s for s in other.seen[seen_before:] if s["path"] == "/v3/volumes/detail"]
    nowhere = await clouds.http.get(f"{V3}/volumes/detail", params={"availability_zone": "az9"}, headers=MEMBER)
    assert nowhere.json()["volumes"] == []


async def test_a_type_the_first_pod_lacks_is_not_read_again_on_every_show(clouds: Bed) -> None:
    one, two = cloud(clouds, "Pod1"), cloud(clouds, "Pod2")
    volume = two.add_volume("odd", volume_type="only-in-two", volume_type_id="id-in-two")
    for _ in range(3):
        shown = (await clouds.http.get(f"{V3}/volumes/{volume['id']}", headers=MEMBER)).json()["volume"]
        assert shown["volume_type_id"] == "id-in-two"  # no id of Atoll's to show: the pod's stays
    assert len([s for s in one.seen if s["path"] == "/v3/types"]) == 1


async def test_qos_specs_are_in_every_pod_and_associate_each_pods_own_type(clouds: Bed) -> None:
    one, two = cloud(clouds, "Pod1"), cloud(clouds, "Pod2")
    gold = (await clouds.http.post(f"{V3}/types", json={"volume_type": {"name": "gold"}}, headers=ADMIN)).json()
    made = await clouds.http.post(f"{V3}/qos-specs", json={"qos_specs": {"name": "fast", "x": "1"}}, headers=ADMIN)
    assert made.status_code == 200
    qos_id = made.json()["qos_specs"]["id"]
    assert [q["name"] for q in two.qos.values()] == ["fast"]
    assert qos_id in one.qos
    assert qos_id not in two.qos  # each Cinder chose its own id
    type_id = gold["volume_type"]["id"]
    url = f"{V3}/qos-specs/{qos_id}/associate?vol_type_id={type_id}"
    associated = await clouds.http.get(url, headers=ADMIN)
    assert associated.status_code == 202
    in_two = two.type_named("gold")
    assert in_two is not None
    assert one.qos[qos_id]["associations"] == [type_id]
    assert [q["associations"] for q in two.qos.values()] == [[in_two["id"]]]
    shown = await clouds.http.get(f"{V3}/qos-specs/{qos_id}", headers=MEMBER)
    assert shown.json()["qos_specs"]["name"] == "fast"


async def test_a_group_uses_its_pods_type_ids_and_its_volumes_and_snapshots_follow_it(clouds: Bed) -> None:
    one, two = cloud(clouds, "Pod1"), cloud(clouds, "Pod2")
    made_type = await clouds.http.post(f"{V3}/group_types", json={"group_type": {"name": "cg"}}, headers=ADMIN)
    group_type = made_type.json()["group_type"]["id"]
    gold = (await clouds.http.post(f"{V3}/types", json={"volume_type": {"name": "gold"}}, headers=ADMIN)).json()
    body = {"group": {"name": "g", "group_type": group_type, "volume_types": [gold["volume_type"]["id"]]}}
    body["group"]["availability_zone"] = "az2"
    made = await clouds.http.post(f"{V3}/groups", json=body, headers=MEMBER)
    assert made.status_code == 202, made.text
    group = made.json()["group"]
    assert group["availability_zone"] == "az2"
    [in_two] = two.groups.values()
    two_gold = two.type_named("gold")
    assert two_gold is not None
    assert in_two["group_type"] != group_type  # Pod2's own id of the type called "cg"
    assert in_two["volume_types"] == [two_gold["id"]]
    assert one.groups == {}
    volume = await create(clouds, {"volume": {"size": 1, "group_id": group["id"], "volume_type": "gold"}})
    assert volume.status_code == 202, volume.text
    assert volume.json()["volume"]["id"] in two.volumes
    snap = await clouds.http.post(
        f"{V3}/group_snapshots", json={"group_snapshot": {"group_id": group["id"]}}, headers=MEMBER
    )
    assert snap.status_code == 202
    assert list(two.group_snapshots) == [snap.json()["group_snapshot"]["id"]]
    shown = await clouds.http.get(f"{V3}/groups/{group['id']}", headers=MEMBER)
    assert shown.json()["group"]["availability_zone"] == "az2"
    # Pod2's own ids of the group's volume types are shown as Atoll's, in every group document.
    assert group["volume_types"] == shown.json()["group"]["volume_types"] == [gold["volume_type"]["id"]]
    assert group["group_type"] == shown.json()["group"]["group_type"] == group_type
    listed = (await clouds.http.get(f"{V3}/groups/detail", headers=MEMBER)).json()["groups"]
    assert [g["volume_types"] for g in listed] == [[gold["volume_type"]["id"]]]


async def test_volumes_show_the_type_ids_atoll_shows(clouds: Bed) -> None:
    one, two = cloud(clouds, "Pod1"), cloud(clouds, "Pod2")
    made = await clouds.http.post(f"{V3}/types", json={"volume_type": {"name": "gold"}}, headers=ADMIN)
    gold = made.json()["volume_type"]["id"]
    in_two = two.type_named("gold")
    assert in_two is not None
    created = await create(clouds, {"volume": {"size": 1, "volume_type": "gold", "availability_zone": "az2"}})
    volume = created.json()["volume"]
    assert two.volumes[volume["id"]]["volume_type_id"] == in_two["id"]
    assert volume["volume_type_id"] == gold
    shown = (await clouds.http.get(f"{V3}/volumes/{volume['id']}", headers=MEMBER)).json()["volume"]
    assert (shown["volume_type"], shown["volume_type_id"]) == ("gold", gold)
    one.add_volume("default-in-one")
    listed = (await clouds.http.get(f"{V3}/volumes/detail", headers=MEMBER)).json()["volumes"]
    default = one.type_named("__DEFAULT__")
    assert default is not None
    assert sorted((v["volume_type"], v["volume_type_id"]) for v in listed) == sorted(
        [("gold", gold), ("__DEFAULT__", default["id"])]
    )
    by_id = await clouds.http.get(f"{V3}/types/{shown['volume_type_id']}", headers=MEMBER)
    assert by_id.json()["volume_type"]["name"] == "gold"


async def test_a_pod_that_does_not_answer_gives_a_flagged_partial_list(clouds: Bed) -> None:
    one, two = cloud(clouds, "Pod1"), cloud(clouds, "Pod2")
    here = one.add_volume("here")
    two.add_volume("there")
    two.hanging.add("/v3/volumes/detail")
    listed = await clouds.http.get(f"{V3}/volumes/detail", headers=MEMBER)
    assert listed.status_code == 200
    assert listed.headers["atoll-partial-pods"] == "Pod2"
    assert [v["id"] for v in listed.json()["volumes"]] == [here["id"]]


async def test_an_attachment_for_a_server_of_another_pod_is_409(clouds: Bed) -> None:
    server = clouds.pods["Pod1"].add("vm")
    assert (await clouds.http.get(f"/compute/v2.1/servers/{server['id']}", headers=MEMBER)).status_code == 200
    there = cloud(clouds, "Pod2").add_volume("there")
    body = {"attachment": {"volume_uuid": there["id"], "instance_uuid": server["id"], "connector": None}}
    refused = await clouds.http.post(f"{V3}/attachments", json=body, headers=MEMBER)
    assert refused.status_code == 409
    assert "different pods" in refused.json()["conflictingRequest"]["message"]
    assert not [s for s in clouds.pods["Pod2"].seen if s["path"] == "/v3/attachments"]
    here = cloud(clouds, "Pod1").add_volume("here")
    body["attachment"]["volume_uuid"] = here["id"]
    attached = await clouds.http.post(f"{V3}/attachments", json=body, headers=MEMBER)
    assert attached.json()["attachment"]["volume_id"] == here["id"]
    assert cloud(clouds, "Pod1").bodies[-1]["volume_uuid"] == here["id"]


async def test_services_of_every_pod_in_atolls_azs(clouds: Bed) -> None:
    for name in clouds.pods:
        service = {"binary": "cinder-volume", "host": f"{name}-host@lvm", "zone": "nova", "status": "enabled"}
        cloud(clouds, name).services.append(service)
    listed = (await clouds.http.get(f"{V3}/os-services", headers=ADMIN)).json()["services"]
    assert sorted((s["host"], s["zone"]) for s in listed) == [("Pod1-host@lvm", "az1"), ("Pod2-host@lvm", "az2")]


async def test_a_service_host_is_disabled_in_the_pod_that_has_it(clouds: Bed) -> None:
    for name in clouds.pods:
        service = {"binary": "cinder-volume", "host": f"{name}-host@lvm", "zone": "nova", "status": "enabled"}
        cloud(clouds, name).services.append(service)
    body = {"host": "Pod2-host@lvm", "binary": "cinder-volume"}
    disabled = await clouds.http.put(f"{V3}/os-services/disable", json=body, headers=ADMIN)
    assert disabled.status_code == 200
    assert disabled.json()["zone"] == "az2"
    assert [s["status"] for s in cloud(clouds, "Pod2").services] == ["disabled"]
    assert [s["status"] for s in cloud(clouds, "Pod1").services] == ["enabled"]
    unknown = await clouds.http.put(f"{V3}/os-services/disable", json={"host": "nowhere"}, headers=ADMIN)
    assert unknown.status_code == 400
    assert "Invalid host nowhere" in unknown.json()["badRequest"]["message"]


async def test_clusters_of_every_pod_and_one_disabled_in_its_pod(clouds: Bed) -> None:
    for name in clouds.pods:
        cluster = {"name": f"{name}-cluster@lvm", "binary": "cinder-volume", "state": "up", "status": "enabled"}
        cloud(clouds, name).clusters.append(cluster)
    for path in ("/clusters", "/clusters/detail"):
        listed = (await clouds.http.get(f"{V3}{path}", headers=ADMIN)).json()["clusters"]
        assert [c["name"] for c in listed] == ["Pod1-cluster@lvm", "Pod2-cluster@lvm"]
    shown = await clouds.http.get(f"{V3}/clusters/Pod2-cluster@lvm", headers=ADMIN)
    assert shown.json()["cluster"]["name"] == "Pod2-cluster@lvm"
    body = {"name": "Pod2-cluster@lvm", "binary": "cinder-volume"}
    disabled = await clouds.http.put(f"{V3}/clusters/disable", json=body, headers=ADMIN)
    assert (disabled.status_code, disabled.json()["cluster"]["status"]) == (200, "disabled")
    assert [c["status"] for c in cloud(clouds, "Pod1").clusters] == ["enabled"]
    unknown = await clouds.http.put(f"{V3}/clusters/disable", json={"name": "nowhere"}, headers=ADMIN)
    assert unknown.status_code == 404


async def test_a_workers_cleanup_is_asked_of_every_pod_and_what_they_clean_put_together(clouds: Bed) -> None:
    for name in clouds.pods:
        for binary in ("cinder-volume", "cinder-backup"):
            service = {"binary": binary, "host": f"{name}-host@lvm", "zone": "nova", "status": "enabled"}
            cloud(clouds, name).services.append(service)
    cleaned = await clouds.http.post(f"{V3}/workers/cleanup", json={"binary": "cinder-backup"}, headers=ADMIN)
    assert cleaned.status_code == 202, cleaned.text
    assert [(s["host"], s["binary"]) for s in cleaned.json()["cleaning"]] == [
        ("Pod1-host@lvm", "cinder-backup"),
        ("Pod2-host@lvm", "cinder-backup"),
    ]
    assert cleaned.json()["unavailable"] == []
    refused = await clouds.http.post(f"{V3}/workers/cleanup", json={"bogus": 1}, headers=ADMIN)
    assert refused.status_code == 400
    assert "bogus" in refused.json()["badRequest"]["message"]
    cloud(clouds, "Pod2").hanging.add("/v3/workers/cleanup")
    partial = await clouds.http.post(f"{V3}/workers/cleanup", json={}, headers=ADMIN)
    assert (partial.status_code, partial.headers["atoll-partial-pods"]) == (202, "Pod2")
    assert [s["host"] for s in partial.json()["cleaning"]] == ["Pod1-host@lvm"]


async def test_offset_skips_items_of_the_merged_list(clouds: Bed) -> None:
    for i in range(3):
        cloud(clouds, "Pod1").add_volume(f"v{2 * i}")
        cloud(clouds, "Pod2").add_volume(f"v{2 * i + 1}")
    everything = (await clouds.http.get(f"{V3}/volumes?sort=name:asc", headers=MEMBER)).json()["volumes"]
    assert [v["name"] for v in everything] == [f"v{i}" for i in range(6)]
    page = await clouds.http.get(f"{V3}/volumes?sort=name:asc&offset=2&limit=3", headers=MEMBER)
    assert [v["name"] for v in page.json()["volumes"]] == ["v2", "v3", "v4"]
    beyond = await clouds.http.get(f"{V3}/volumes?offset=9", headers=MEMBER)
    assert beyond.json()["volumes"] == []
    assert (await clouds.http.get(f"{V3}/volumes?offset=-1", headers=MEMBER)).status_code == 400


async def test_cinder_answers_of_empty_ids_null_volumes_and_unknown_markers(clouds: Bed) -> None:
    for method in ("DELETE", "PUT"):
        empty = await clouds.http.request(method, f"{V3}/volumes/", json={"volume": {}}, headers=MEMBER)
        assert empty.status_code == 404, method
    null = await clouds.http.post(f"{V3}/snapshots", json={"snapshot": {"volume_id": None}}, headers=MEMBER)
    assert null.status_code == 404
    assert null.json()["itemNotFound"]["message"] == "Volume None could not be found."
    absent = await clouds.http.post(f"{V3}/snapshots", json={"snapshot": {"name": "s"}}, headers=MEMBER)
    assert absent.status_code == 400
    marker = await clouds.http.get(f"{V3}/snapshots?marker=f3f8da45-72be-4dab-9423-46bf7b16bace", headers=MEMBER)
    assert marker.status_code == 404
    assert "Marker f3f8da45-72be-4dab-9423-46bf7b16bace could not be found." in marker.text


async def test_transfers_are_made_in_the_volumes_pod_and_found_there(clouds: Bed) -> None:
    one, two = cloud(clouds, "Pod1"), cloud(clouds, "Pod2")
    one.add_volume("elsewhere")
    volume = two.add_volume("to-give")
    base = f"{V3}/os-volume-transfer"
    made = await clouds.http.post(base, json={"transfer": {"volume_id": volume["id"]}}, headers=MEMBER)
    assert made.status_code == 202
    transfer = made.json()["transfer"]
    assert list(two.transfers) == [transfer["id"]]
    assert one.transfers == {}
    listed = await clouds.http.get(f"{base}/detail", headers=MEMBER)
    assert [t["id"] for t in listed.json()["transfers"]] == [transfer["id"]]
    shown = await clouds.http.get(f"{base}/{transfer['id']}", headers=MEMBER)
    assert shown.json()["transfer"]["volume_id"] == volume["id"]
    accepted = await clouds.http.post(
        f"{base}/{transfer['id']}/accept", json={"accept": {"auth_key": "secret"}}, headers=READER_B
    )
    assert accepted.status_code == 202
    assert two.transfers == {}
    again = await clouds.http.post(
        f"{base}/{transfer['id']}/accept", json={"accept": {"auth_key": "secret"}}, headers=READER_B
    )
    assert again.status_code == 404
    assert again.json()["itemNotFound"]["message"] == f"Transfer {transfer['id']} could not be found."


@pytest.mark.parametrize("atoll_az", ["az1", 'odd "zone" \\ é'])
def test_a_volume_s_az_becomes_the_atoll_az_as_valid_json(atoll_az: str) -> None:
    pod = PodInfo(PodId("p1"), RegionName("Pod1"), atoll_az, "nova", False, {}, PodStatus.UP)
    volumes = [{"id": "a", "availability_zone": 'pod "z"'}, {"id": "b", "availability_zone": "nova", "name": "x"}]
    reply = show_atoll_az(Reply(200, [], json.dumps({"volumes": volumes}).encode()), pod)
    assert isinstance(reply.body, bytes)
    assert [v["availability_zone"] for v in json.loads(reply.body)["volumes"]] == [atoll_az, atoll_az]


async def test_the_volume_summary_adds_up_the_pods_and_names_one_that_did_not_answer(clouds: Bed) -> None:
    cloud(clouds, "Pod1").add_volume("a", size=2)
    cloud(clouds, "Pod2").add_volume("b", size=3)
    headers = MEMBER | {"OpenStack-API-Version": "volume 3.12"}
    whole = await clouds.http.get(f"{V3}/volumes/summary", headers=headers)
    assert whole.json() == {"volume-summary": {"total_size": 5, "total_count": 2}}
    cloud(clouds, "Pod2").garbled.add("/v3/volumes/summary")
    partial = await clouds.http.get(f"{V3}/volumes/summary", headers=headers)
    assert partial.json() == {"volume-summary": {"total_size": 2, "total_count": 1}}
    assert partial.headers["atoll-partial-pods"] == "Pod2"


# -- Atoll's own ids of volume types, whichever pods are up -----------------------------------------


async def test_a_types_id_stays_while_the_first_pod_is_down(clouds: Bed) -> None:
    one, two = cloud(clouds, "Pod1"), cloud(clouds, "Pod2")
    gold = (await clouds.http.post(f"{V3}/types", json={"volume_type": {"name": "gold"}}, headers=ADMIN)).json()
    gold_id = gold["volume_type"]["id"]
    assert one.types[gold_id]["name"] == "gold"  # Atoll's id is the first pod's
    in_two = two.type_named("gold")
    assert in_two is not None
    listed = (await clouds.http.get(f"{V3}/types", headers=MEMBER)).json()["volume_types"]
    assert {t["name"]: t["id"] for t in listed}["gold"] == gold_id

    await clouds.set_status("Pod1", PodStatus.DOWN)
    listed = (await clouds.http.get(f"{V3}/types", headers=MEMBER)).json()["volume_types"]
    assert {t["name"]: t["id"] for t in listed}["gold"] == gold_id  # Pod2's copy, under the same id
    shown = await clouds.http.get(f"{V3}/types/{gold_id}", headers=MEMBER)
    assert (shown.status_code, shown.json()["volume_type"]["id"]) == (200, gold_id)
    assert two.seen[-1]["path"] == f"/v3/types/{in_two['id']}"
    specs = await clouds.http.post(f"{V3}/types/{gold_id}/extra_specs", json={"extra_specs": {"k": "v"}}, headers=ADMIN)
    assert specs.status_code == 200
    assert in_two["extra_specs"] == {"k": "v"}
    volume = await create(clouds, {"volume": {"size": 1, "volume_type": gold_id}})
    assert volume.status_code == 202, volume.text
    assert two.bodies[-1]["volume"]["volume_type"] == "gold"
    assert volume.json()["volume"]["volume_type_id"] == gold_id
    retyped = await clouds.http.post(
        f"{V3}/volumes/{volume.json()['volume']['id']}/action",
        json={"os-retype": {"new_type": gold_id, "migration_policy": "never"}},
        headers=MEMBER,
    )
    assert retyped.status_code == 202
    assert two.bodies[-1] == {"os-retype": {"new_type": "gold", "migration_policy": "never"}}


async def test_qos_specs_and_group_types_keep_their_ids_while_the_first_pod_is_down(clouds: Bed) -> None:
    two = cloud(clouds, "Pod2")
    made = await clouds.http.post(f"{V3}/qos-specs", json={"qos_specs": {"name": "fast"}}, headers=ADMIN)
    qos_id = made.json()["qos_specs"]["id"]
    kind = await clouds.http.post(f"{V3}/group_types", json={"group_type": {"name": "cg"}}, headers=ADMIN)
    group_type_id = kind.json()["group_type"]["id"]
    assert qos_id not in two.qos  # Pod2's copies have ids of their own
    assert group_type_id not in two.group_types
    await clouds.set_status("Pod1", PodStatus.DOWN)
    shown = await clouds.http.get(f"{V3}/qos-specs/{qos_id}", headers=ADMIN)
    assert shown.status_code == 200, shown.text
    assert shown.json()["qos_specs"]["id"] == qos_id
    listed = (await clouds.http.get(f"{V3}/group_types", headers=ADMIN)).json()["group_types"]
    assert [t["id"] for t in listed if t["name"] == "cg"] == [group_type_id]


async def test_a_type_made_while_the_first_pod_is_down_keeps_its_id_once_that_pod_has_it(clouds: Bed) -> None:
    one, two = cloud(clouds, "Pod1"), cloud(clouds, "Pod2")
    await clouds.set_status("Pod1", PodStatus.DOWN)
    made = await clouds.http.post(f"{V3}/types", json={"volume_type": {"name": "silver"}}, headers=ADMIN)
    silver_id = made.json()["volume_type"]["id"]
    assert two.types[silver_id]["name"] == "silver"
    assert (await clouds.http.get(f"{V3}/types/{silver_id}", headers=MEMBER)).status_code == 200  # seen: routed

    await clouds.set_status("Pod1", PodStatus.UP)
    copy = one.add_type("silver")  # as the catch-up job makes it, under Pod1's own id
    listed = (await clouds.http.get(f"{V3}/types", headers=MEMBER)).json()["volume_types"]
    assert {t["name"]: t["id"] for t in listed}["silver"] == silver_id
    shown = await clouds.http.get(f"{V3}/types/{silver_id}", headers=MEMBER)
    assert (shown.status_code, shown.json()["volume_type"]["name"]) == (200, "silver")
    assert one.seen[-1]["path"] == f"/v3/types/{copy['id']}"
    volume = one.add_volume("in-one", volume_type="silver")
    assert volume["volume_type_id"] == copy["id"]
    shown_volume = (await clouds.http.get(f"{V3}/volumes/{volume['id']}", headers=MEMBER)).json()["volume"]
    assert shown_volume["volume_type_id"] == silver_id

    deleted = await clouds.http.delete(f"{V3}/types/{silver_id}", headers=ADMIN)
    assert deleted.status_code == 202
    assert (one.type_named("silver"), two.type_named("silver")) == (None, None)
    async with clouds.sessions() as session:
        kinds = (
            await session.scalars(
                sa.select(ResourceRouting.top_id).where(ResourceRouting.resource_type == "volume_type")
            )
        ).all()
    assert silver_id not in kinds


async def test_a_volume_being_deleted_gets_no_routing_and_its_owners_404_drops_one(clouds: Bed) -> None:
    two = cloud(clouds, "Pod2")
    going = two.add_volume("going", status="deleting")
    assert (await clouds.http.get(f"{V3}/volumes/{going['id']}", headers=MEMBER)).status_code == 200
    assert await routed_pod(clouds, going["id"], "volume") is None
    kept = two.add_volume("kept")
    assert (await clouds.http.get(f"{V3}/volumes/{kept['id']}", headers=MEMBER)).status_code == 200
    assert await routed_pod(clouds, kept["id"], "volume") == "Pod2"
    del two.volumes[kept["id"]]
    assert (await clouds.http.get(f"{V3}/volumes/{kept['id']}", headers=MEMBER)).status_code == 404
    assert await routed_pod(clouds, kept["id"], "volume") is None


async def test_a_servers_block_device_mapping_names_a_volume_type_by_name(clouds: Bed) -> None:
    two = cloud(clouds, "Pod2")
    gold = (await clouds.http.post(f"{V3}/types", json={"volume_type": {"name": "gold"}}, headers=ADMIN)).json()
    mapping = {"source_type": "blank", "destination_type": "volume", "volume_size": 1, "boot_index": -1}
    body = {
        "server": {
            "name": "vm",
            "flavorRef": "1",
            "imageRef": IMAGE,
            "availability_zone": "az2",
            "block_device_mapping_v2": [mapping | {"volume_type": gold["volume_type"]["id"]}],
        }
    }
    made = await clouds.http.post("/compute/v2.1/servers", json=body, headers=MEMBER)
    assert made.status_code == 202, made.text
    [sent] = two.bodies[-1]["server"]["block_device_mapping_v2"]
    assert sent["volume_type"] == "gold"  # Pod2's Cinder knows the type by another id


async def test_type_lists_are_served_when_the_routings_cannot_be_read(
    clouds: Bed, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = cloud(clouds, "Pod1")
    gold = one.add_type("gold")

    async def broken(*_: Any) -> None:
        raise RuntimeError("the database is down")

    monkeypatch.setattr(clouds.parts.gateway.routings, "of_type", broken)
    listed = await clouds.http.get(f"{V3}/types", headers=MEMBER)
    assert listed.status_code == 200
    assert gold["id"] in {t["id"] for t in listed.json()["volume_types"]}  # the first pod's own ids


# -- managing what a pod's backend already holds ----------------------------------------------


def _backends(bed: Bed, pod2_host: str = "pod2@lvm") -> None:
    cloud(bed, "Pod1").services = [{"binary": "cinder-volume", "host": "pod1@lvm", "zone": "nova"}]
    cloud(bed, "Pod2").services = [{"binary": "cinder-volume", "host": pod2_host, "zone": "zone-b"}]


@pytest.mark.parametrize("path", ["manageable_volumes", "os-volume-manage"])
async def test_a_volume_is_managed_in_the_pod_of_its_backend(clouds: Bed, path: str) -> None:
    _backends(clouds)
    body = {"volume": {"host": "pod2@lvm#pool", "ref": {"source-name": "lv-1"}, "availability_zone": "az2"}}
    made = await clouds.http.post(f"{V3}/{path}", json=body, headers=ADMIN)
    assert made.status_code == 202, made.text
    volume = made.json()["volume"]
    assert volume["availability_zone"] == "az2"
    assert volume["id"] in cloud(clouds, "Pod2").volumes
    assert cloud(clouds, "Pod2").bodies[-1]["volume"]["availability_zone"] == "zone-b"  # the pod's own name
    assert cloud(clouds, "Pod2").bodies[-1]["volume"]["ref"] == {"source-name": "lv-1"}
    assert await routed_pod(clouds, volume["id"], "volume") == "Pod2"
    assert not [s for s in clouds.pods["Pod1"].seen if s["method"] == "POST"]


async def test_a_managed_volumes_backend_decides_or_the_request_says_what_is_wrong(clouds: Bed) -> None:
    _backends(clouds)
    url = f"{V3}/manageable_volumes"
    elsewhere = {"volume": {"host": "pod2@lvm", "ref": {"source-name": "x"}, "availability_zone": "az1"}}
    refused = await clouds.http.post(url, json=elsewhere, headers=ADMIN)
    assert refused.status_code == 409
    assert "host pod2@lvm" in refused.json()["conflictingRequest"]["message"]
    unknown = await clouds.http.post(url, json={"volume": {"host": "nowhere@lvm", "ref": {}}}, headers=ADMIN)
    assert unknown.status_code == 400
    assert "Host 'nowhere@lvm' not found" in unknown.json()["badRequest"]["message"]
    _backends(clouds, pod2_host="pod1@lvm")  # two pods with a backend of one name
    twice = await clouds.http.post(url, json={"volume": {"host": "pod1@lvm#p", "ref": {}}}, headers=ADMIN)
    assert twice.status_code == 409
    assert "(Pod1, Pod2)" in twice.json()["conflictingRequest"]["message"]
    assert not [s for pod in ("Pod1", "Pod2") for s in clouds.pods[pod].seen if s["method"] == "POST"]
    await clouds.set_status("Pod2", PodStatus.DOWN)
    _backends(clouds)
    down = await clouds.http.post(url, json={"volume": {"host": "pod2@lvm", "ref": {}}}, headers=ADMIN)
    assert down.status_code == 503
    assert "Pod2 did not answer" in down.json()["serviceUnavailable"]["message"]


async def test_what_a_backend_holds_is_asked_of_its_pod(clouds: Bed) -> None:
    _backends(clouds)
    for path in ("manageable_volumes", "manageable_volumes/detail", "os-volume-manage"):
        listed = await clouds.http.get(f"{V3}/{path}", params={"host": "pod2@lvm"}, headers=ADMIN)
        assert listed.status_code == 200, path
        assert listed.json()["manageable-volumes"][0]["reference"] == {"source-name": "lv-zone-b"}
    missing = await clouds.http.get(f"{V3}/manageable_volumes", headers=ADMIN)
    assert missing.status_code == 400  # the pod's own words: it needs a host or a cluster


async def test_a_snapshot_is_managed_in_its_volumes_pod(clouds: Bed) -> None:
    volume = cloud(clouds, "Pod2").add_volume("v")
    body = {"snapshot": {"volume_id": volume["id"], "ref": {"source-name": "snap-1"}}}
    made = await clouds.http.post(f"{V3}/manageable_snapshots", json=body, headers=ADMIN)
    assert made.status_code == 202, made.text
    assert made.json()["snapshot"]["id"] in cloud(clouds, "Pod2").snapshots
    assert await routed_pod(clouds, made.json()["snapshot"]["id"], "snapshot") == "Pod2"


# -- Nova's volume proxy (/os-volumes, /os-snapshots, up to 2.35) ------------------------------

PROXY = "/compute/v2.1"


async def test_novas_volume_proxy_is_atolls_volumes_in_novas_shape(clouds: Bed) -> None:
    body = {"volume": {"size": 1, "display_name": "p", "availability_zone": "az2"}}
    made = await clouds.http.post(f"{PROXY}/os-volumes", json=body, headers=MEMBER)
    assert made.status_code == 200, made.text
    volume = made.json()["volume"]
    assert volume["availabilityZone"] == "az2"
    assert volume["id"] in cloud(clouds, "Pod2").volumes
    assert cloud(clouds, "Pod2").bodies[-1]["volume"]["availability_zone"] == "zone-b"
    assert await routed_pod(clouds, volume["id"], "volume") == "Pod2"
    other = cloud(clouds, "Pod1").add_volume("q")
    listed = (await clouds.http.get(f"{PROXY}/os-volumes/detail", headers=MEMBER)).json()["volumes"]
    assert [(v["id"], v["availabilityZone"]) for v in listed] == [(other["id"], "az1"), (volume["id"], "az2")]
    second = (await clouds.http.get(f"{PROXY}/os-volumes?limit=1&offset=1", headers=MEMBER)).json()["volumes"]
    assert [v["id"] for v in second] == [volume["id"]]
    shown = await clouds.http.get(f"{PROXY}/os-volumes/{volume['id']}", headers=MEMBER)
    assert shown.json()["volume"]["availabilityZone"] == "az2"
    snapshot = await clouds.http.post(
        f"{PROXY}/os-snapshots", json={"snapshot": {"volume_id": volume["id"]}}, headers=MEMBER
    )
    assert snapshot.status_code == 200, snapshot.text
    assert snapshot.json()["snapshot"]["id"] in cloud(clouds, "Pod2").snapshots
    deleted = await clouds.http.delete(f"{PROXY}/os-volumes/{other['id']}", headers=MEMBER)
    assert deleted.status_code == 202
    assert other["id"] not in cloud(clouds, "Pod1").volumes
    gone = await clouds.http.get(f"{PROXY}/os-volumes", headers={**MEMBER, "X-OpenStack-Nova-API-Version": "2.36"})
    assert gone.status_code == 404
