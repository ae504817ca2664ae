from __future__ import annotations

from atoll.types import PodStatus
from tests.conftest import ADMIN, MEMBER
from tests.unit.gateway.conftest import Bed


async def test_availability_zones_are_atolls_never_pod_names(bed: Bed) -> None:
    response = await bed.http.get("/compute/v2.1/os-availability-zone", headers=MEMBER)
    assert response.json() == {
        "availabilityZoneInfo": [
            {"zoneName": "az1", "zoneState": {"available": True}, "hosts": None},
            {"zoneName": "az2", "zoneState": {"available": True}, "hosts": None},
        ]
    }
    await bed.set_status("Pod2", PodStatus.DOWN)
    response = await bed.http.get("/compute/v2.1/os-availability-zone", headers=MEMBER)
    assert [z["zoneState"]["available"] for z in response.json()["availabilityZoneInfo"]] == [True, False]
    for text in ("Pod1", "Pod2", "zone-b", "nova"):
        assert text not in response.text


async def test_detailed_zones_show_each_pods_hosts_under_its_atoll_zone(bed: Bed) -> None:
    response = await bed.http.get("/compute/v2.1/os-availability-zone/detail", headers=ADMIN)
    assert response.json() == {
        "availabilityZoneInfo": [
            {"zoneName": "az1", "zoneState": {"available": True}, "hosts": {"nova-host": {}}},
            {"zoneName": "az2", "zoneState": {"available": True}, "hosts": {"zone-b-host": {}}},
        ]
    }


async def test_a_flavor_gets_the_same_id_in_every_pod(bed: Bed) -> None:
    response = await bed.http.post(
        "/compute/v2.1/flavors",
        json={"flavor": {"name": "m1.small", "ram": 1024, "vcpus": 1, "disk": 1}},
        headers=ADMIN,
    )
    assert response.status_code == 200
    flavor_id = response.json()["flavor"]["id"]
    assert len(flavor_id) == 36
    assert bed.pods["Pod1"].flavors[flavor_id]["name"] == bed.pods["Pod2"].flavors[flavor_id]["name"] == "m1.small"
    given = await bed.http.post("/compute/v2.1/flavors", json={"flavor": {"name": "x", "id": "42"}}, headers=ADMIN)
    assert given.json()["flavor"]["id"] == "42"
    assert "42" in bed.pods["Pod2"].flavors
    shown = await bed.http.get(f"/compute/v2.1/flavors/{flavor_id}", headers=MEMBER)
    assert shown.json()["flavor"]["name"] == "m1.small"


async def test_a_generated_keypair_is_imported_into_the_other_pods(bed: Bed) -> None:
    response = await bed.http.post("/compute/v2.1/os-keypairs", json={"keypair": {"name": "k1"}}, headers=MEMBER)
    assert response.status_code == 200
    assert response.json()["keypair"]["private_key"] == "PRIVATE"
    public = response.json()["keypair"]["public_key"]
    assert bed.pods["Pod1"].keypairs["k1"]["public_key"] == public
    assert bed.pods["Pod2"].keypairs["k1"] == {"name": "k1", "public_key": public}


async def test_a_global_write_skips_a_down_pod(bed: Bed) -> None:
    await bed.set_status("Pod1", PodStatus.DOWN)
    response = await bed.http.post("/compute/v2.1/flavors", json={"flavor": {"name": "y", "id": "7"}}, headers=ADMIN)
    assert response.status_code == 200
    assert "7" in bed.pods["Pod2"].flavors
    assert "7" not in bed.pods["Pod1"].flavors


async def test_an_image_is_read_from_an_up_pod_that_has_it(bed: Bed) -> None:
    bed.pods["Pod2"].images["img-1"] = {"id": "img-1", "name": "cirros"}
    await bed.set_status("Pod1", PodStatus.DOWN)
    response = await bed.http.get("/image/v2/images/img-1", headers=MEMBER)
    assert response.json() == {"id": "img-1", "name": "cirros"}
