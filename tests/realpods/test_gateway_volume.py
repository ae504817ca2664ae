"""Block storage through Atoll on the real test bed: the unmodified `openstack` CLI pointed at
`RegionOne`, whose block-storage endpoint is Atoll (`scripts/testbed up --atoll`), compared
with the same calls made to the pods directly.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

pytestmark = [
    pytest.mark.realpods,
    pytest.mark.filterwarnings("ignore::openstack.warnings.OpenStackDeprecationWarning"),
    pytest.mark.filterwarnings("ignore::openstack.warnings._RemovedInSDKWarning"),
    pytest.mark.filterwarnings("ignore::openstack.warnings.OpenStackWarning"),
]

REGION = "RegionOne"
WAIT = 300
NOVA = ("--os-compute-api-version", "2.37")
PODS = (("Pod1", "az1"), ("Pod2", "az2"))


@pytest.fixture(scope="module")
def token(atoll: Any) -> str:
    return str(atoll.openstack("token", "issue", region=REGION)["id"])


def _cli(atoll: Any, *args: str, **kw: Any) -> Any:
    return atoll.openstack(*args, region=REGION, **kw)


def _wait_volume(atoll: Any, volume_id: str, *statuses: str, region: str = REGION) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT
    while True:
        shown: dict[str, Any] = atoll.openstack("volume", "show", volume_id, region=region)
        if shown["status"] in statuses or time.monotonic() > deadline:
            return shown
        time.sleep(1)


def _wait_snapshot(atoll: Any, snapshot_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT
    while True:
        shown: dict[str, Any] = _cli(atoll, "volume", "snapshot", "show", snapshot_id)
        if shown["status"] == status or time.monotonic() > deadline:
            return shown
        time.sleep(1)


@pytest.fixture(scope="module")
def two_volumes(atoll: Any) -> Iterator[dict[str, dict[str, Any]]]:
    suffix = uuid.uuid4().hex[:6]
    made: dict[str, dict[str, Any]] = {}
    try:
        for pod, az in PODS:
            created = _cli(atoll, "volume", "create", "--size", "1", "--availability-zone", az, f"vol-{az}-{suffix}")
            made[pod] = _wait_volume(atoll, created["id"], "available", "error")
        yield made
    finally:
        for volume in made.values():
            _cli(atoll, "volume", "delete", volume["id"], json_output=False, check=False)


def test_volume_availability_zones_are_atolls(atoll: Any) -> None:
    zones = _cli(atoll, "availability", "zone", "list", "--volume")
    assert sorted((z["Zone Name"], z["Zone Status"]) for z in zones) == [("az1", "available"), ("az2", "available")]


def test_volumes_are_made_in_the_pod_of_their_az(atoll: Any, two_volumes: dict[str, dict[str, Any]]) -> None:
    for pod, az in PODS:
        volume = two_volumes[pod]
        assert (volume["status"], volume["availability_zone"]) == ("available", az)
        direct = atoll.openstack("volume", "show", volume["id"], region=pod)
        # The same volume seen directly: the same document but for the AZ (the pod's own name) and the
        # type's id (each pod's Cinder gave the type its own id; Atoll shows the one its type list shows).
        assert direct["availability_zone"] != az
        types = {t["Name"]: t["ID"] for t in _cli(atoll, "volume", "type", "list")}
        assert volume["volume_type_id"] == types[volume["type"]]
        assert {**direct, "availability_zone": az, "volume_type_id": types[volume["type"]]} == volume
        other = "Pod2" if pod == "Pod1" else "Pod1"
        missing = atoll.openstack("volume", "show", volume["id"], region=other, check=False)
        assert missing.returncode != 0


def test_list_is_the_union_of_the_pods(atoll: Any, two_volumes: dict[str, dict[str, Any]]) -> None:
    through = {v["ID"]: v for v in _cli(atoll, "volume", "list")}
    direct = {v["ID"]: v for pod, _ in PODS for v in atoll.openstack("volume", "list", region=pod)}
    assert through == direct
    assert {v["id"] for v in two_volumes.values()} <= set(through)


def test_limit_and_marker_pages_are_exact(atoll: Any, token: str, two_volumes: dict[str, dict[str, Any]]) -> None:
    url = atoll.info["atoll_url"] + "/volume/v3/volumes/detail"
    headers = {"X-Auth-Token": token}
    with httpx.Client(timeout=60) as http:
        everything = [v["id"] for v in http.get(url, headers=headers).json()["volumes"]]
        for sort in ("created_at:desc", "name:asc", "size:desc,id:asc"):
            whole = http.get(url, params={"sort": sort}, headers=headers).json()["volumes"]
            paged: list[str] = []
            next_url: str | None = url + f"?limit=1&sort={sort}"
            while next_url:
                page = http.get(next_url, headers=headers).json()
                assert len(page["volumes"]) <= 1
                paged += [v["id"] for v in page["volumes"]]
                next_url = next((link["href"] for link in page.get("volumes_links", [])), None)
            assert paged == [v["id"] for v in whole], sort
            assert sorted(paged) == sorted(everything)
    first = _cli(atoll, "volume", "list", "--limit", "1")
    rest = _cli(atoll, "volume", "list", "--marker", first[0]["ID"])
    assert first[0]["ID"] not in {v["ID"] for v in rest}
    assert sorted([first[0]["ID"], *[v["ID"] for v in rest]]) == sorted(everything)


def test_set_extend_and_snapshots(atoll: Any, two_volumes: dict[str, dict[str, Any]]) -> None:
    volume_id = two_volumes["Pod2"]["id"]
    _cli(atoll, "volume", "set", "--name", "renamed", "--property", "role=gw", volume_id, json_output=False)
    _cli(atoll, "volume", "set", "--size", "2", volume_id, json_output=False)
    shown = _wait_volume(atoll, volume_id, "available")
    assert (shown["name"], shown["size"], shown["properties"]) == ("renamed", 2, {"role": "gw"})
    direct = atoll.openstack("volume", "show", volume_id, region="Pod2")
    assert (direct["name"], direct["size"], direct["properties"]) == ("renamed", 2, {"role": "gw"})

    snapshot = _cli(atoll, "volume", "snapshot", "create", "--volume", volume_id, "snap-gw")
    try:
        assert _wait_snapshot(atoll, snapshot["id"], "available")["volume_id"] == volume_id
        assert atoll.openstack("volume", "snapshot", "show", snapshot["id"], region="Pod2")["id"] == snapshot["id"]
        listed = {s["ID"] for s in _cli(atoll, "volume", "snapshot", "list")}
        assert snapshot["id"] in listed
        # A volume from the snapshot goes to the snapshot's pod; asking for the other AZ is a 409.
        refused = _cli(
            atoll, "volume", "create", "--snapshot", snapshot["id"], "--availability-zone", "az1", "x",
            json_output=False, check=False,
        )  # fmt: skip
        assert refused.returncode != 0
        assert "409" in refused.stderr
        assert "az2" in refused.stderr
    finally:
        _cli(atoll, "volume", "snapshot", "delete", snapshot["id"], json_output=False)
    deadline = time.monotonic() + WAIT
    while snapshot["id"] in {s["ID"] for s in _cli(atoll, "volume", "snapshot", "list")}:
        assert time.monotonic() < deadline
        time.sleep(1)


def test_volume_types_are_made_in_every_pod(atoll: Any) -> None:
    name = f"gw-type-{uuid.uuid4().hex[:6]}"
    admin = {"cloud": "testbed-admin"}
    created = _cli(atoll, "volume", "type", "create", "--property", "tier=gold", name, **admin)
    try:
        for pod, _ in PODS:
            direct = atoll.openstack("volume", "type", "show", name, region=pod, **admin)
            assert (direct["name"], direct["properties"]) == (name, {"tier": "gold"})
        _cli(atoll, "volume", "type", "set", "--property", "speed=fast", created["id"], json_output=False, **admin)
        for pod, _ in PODS:
            direct = atoll.openstack("volume", "type", "show", name, region=pod, **admin)
            assert direct["properties"] == {"tier": "gold", "speed": "fast"}
        assert name in {t["Name"] for t in _cli(atoll, "volume", "type", "list", **admin)}
        # A volume of that type, by the id Atoll shows, in the pod whose id differs.
        volume = _cli(
            atoll, "volume", "create", "--size", "1", "--type", created["id"], "--availability-zone", "az2", "t"
        )
        try:
            shown = _wait_volume(atoll, volume["id"], "available", "error")
            assert (shown["type"], shown["volume_type_id"]) == (name, created["id"])
            direct = atoll.openstack("volume", "show", volume["id"], region="Pod2")
            assert direct["volume_type_id"] == atoll.openstack("volume", "type", "show", name, region="Pod2")["id"]
        finally:
            _cli(atoll, "volume", "delete", volume["id"], json_output=False)
            _wait_gone(atoll, volume["id"])
    finally:
        _cli(atoll, "volume", "type", "delete", created["id"], json_output=False, **admin)
    for pod, _ in PODS:
        assert atoll.openstack("volume", "type", "show", name, region=pod, check=False, **admin).returncode != 0


def test_private_type_access_reaches_every_pod(atoll: Any, token: str) -> None:
    name = f"gw-private-{uuid.uuid4().hex[:6]}"
    admin = {"cloud": "testbed-admin"}
    project = atoll.openstack("token", "issue", region=REGION)["project_id"]
    created = _cli(atoll, "volume", "type", "create", "--private", name, **admin)
    try:
        _cli(atoll, "volume", "type", "set", "--project", project, created["id"], json_output=False, **admin)
        for pod, _ in PODS:
            direct = atoll.openstack("volume", "type", "show", name, region=pod, **admin)
            assert (direct["is_public"], direct["access_project_ids"]) == (False, [project])
        # The project sees it through Atoll now, as in the pod.
        assert name in {t["Name"] for t in _cli(atoll, "volume", "type", "list")}
        _cli(atoll, "volume", "type", "unset", "--project", project, created["id"], json_output=False, **admin)
        for pod, _ in PODS:
            assert atoll.openstack("volume", "type", "show", name, region=pod, **admin)["access_project_ids"] == []
    finally:
        _cli(atoll, "volume", "type", "delete", created["id"], json_output=False, **admin)


def test_replies_match_the_pods(atoll: Any, two_volumes: dict[str, dict[str, Any]]) -> None:
    admin = {"cloud": "testbed-admin"}
    assert _cli(atoll, "volume", "type", "list", "--long", **admin) == atoll.openstack(
        "volume", "type", "list", "--long", region="Pod1", **admin
    )
    snapshot = _cli(atoll, "volume", "snapshot", "create", "--volume", two_volumes["Pod1"]["id"], "compare")
    try:
        through = _wait_snapshot(atoll, snapshot["id"], "available")
        assert through == atoll.openstack("volume", "snapshot", "show", snapshot["id"], region="Pod1")
    finally:
        _cli(atoll, "volume", "snapshot", "delete", snapshot["id"], json_output=False)


def _wait_gone(atoll: Any, volume_id: str) -> None:
    deadline = time.monotonic() + WAIT
    while _cli(atoll, "volume", "show", volume_id, check=False, json_output=False).returncode == 0:
        assert time.monotonic() < deadline
        time.sleep(1)


@pytest.fixture(scope="module")
def server_in_pod1(atoll: Any) -> Iterator[dict[str, Any]]:
    server = _cli(
        atoll,
        *NOVA,
        "server", "create", "--availability-zone", "az1", "--flavor", atoll.flavor["name"],
        "--image", atoll.image["name"], "--nic", "none", "--wait", f"gw-vol-{uuid.uuid4().hex[:6]}",
    )  # fmt: skip
    try:
        yield dict(server)
    finally:
        _cli(atoll, "server", "delete", "--wait", server["id"], json_output=False, check=False)


def test_attach_in_the_same_pod_and_409_across_pods(
    atoll: Any, two_volumes: dict[str, dict[str, Any]], server_in_pod1: dict[str, Any]
) -> None:
    server_id = server_in_pod1["id"]
    here, there = two_volumes["Pod1"]["id"], two_volumes["Pod2"]["id"]
    _cli(atoll, "server", "add", "volume", server_id, here, json_output=False)
    try:
        attached = _wait_volume(atoll, here, "in-use", "error", "available")
        assert attached["status"] == "in-use"
        assert [a["server_id"] for a in attached["attachments"]] == [server_id]
        assert atoll.openstack("volume", "show", here, region="Pod1")["status"] == "in-use"
    finally:
        _cli(atoll, "server", "remove", "volume", server_id, here, json_output=False)
    assert _wait_volume(atoll, here, "available")["status"] == "available"

    refused = _cli(atoll, "server", "add", "volume", server_id, there, json_output=False, check=False)
    assert refused.returncode != 0
    assert "409" in refused.stderr
    assert "different pods" in refused.stderr
    assert atoll.openstack("volume", "show", there, region="Pod2")["status"] == "available"


def test_bad_input_gets_cinders_4xx(atoll: Any, token: str) -> None:
    url = atoll.info["atoll_url"] + "/volume/v3"
    headers = {"X-Auth-Token": token}
    with httpx.Client(timeout=30) as http:
        malformed = http.post(url + "/volumes", content=b"{nope", headers=headers)
        assert malformed.status_code == 400
        assert "Malformed request body" in malformed.json()["badRequest"]["message"]
        missing_id = str(uuid.uuid4())
        missing = http.get(url + f"/volumes/{missing_id}", headers=headers)
        assert missing.status_code == 404
        assert missing.json() == {"itemNotFound": {"code": 404, "message": f"Volume {missing_id} could not be found."}}
        no_volume = http.post(url + "/snapshots", json={"snapshot": {"name": "x"}}, headers=headers)
        assert no_volume.status_code == 400
        assert "volume_id" in no_volume.json()["badRequest"]["message"]
        unknown_image = http.post(
            url + "/volumes", json={"volume": {"size": 1, "imageRef": str(uuid.uuid4())}}, headers=headers
        )
        assert unknown_image.status_code == 400
        assert "image" in unknown_image.json()["badRequest"]["message"]


def test_limits_and_quotas_pass_through(atoll: Any) -> None:
    through = _cli(atoll, "quota", "show", "--volume")
    direct = atoll.openstack("quota", "show", "--volume", region="Pod1")
    assert through == direct


def test_the_az_filter_lists_that_azs_pod(atoll: Any, token: str, two_volumes: dict[str, dict[str, Any]]) -> None:
    url = atoll.info["atoll_url"] + "/volume/v3/volumes/detail"
    with httpx.Client(timeout=60) as http:
        for pod, az in PODS:
            listed = http.get(url, params={"availability_zone": az}, headers={"X-Auth-Token": token}).json()
            direct = {v["ID"] for v in atoll.openstack("volume", "list", region=pod)}
            assert {v["id"] for v in listed["volumes"]} == direct
            assert two_volumes[pod]["id"] in direct
            assert {v["availability_zone"] for v in listed["volumes"]} == {az}


def test_transfer_to_another_project(atoll: Any) -> None:
    volume = _cli(atoll, "volume", "create", "--size", "1", "--availability-zone", "az2", "to-give")
    owner = "testbed-demo"
    try:
        _wait_volume(atoll, volume["id"], "available")
        transfer = _cli(atoll, "volume", "transfer", "request", "create", volume["id"])
        assert transfer["id"] in {t["ID"] for t in _cli(atoll, "volume", "transfer", "request", "list")}
        accepted = _cli(
            atoll, "volume", "transfer", "request", "accept", "--auth-key", transfer["auth_key"], transfer["id"],
            cloud="testbed-alt",
        )  # fmt: skip
        assert accepted["volume_id"] == volume["id"]
        owner = "testbed-alt"
        assert _cli(atoll, "volume", "show", volume["id"], cloud="testbed-alt")["id"] == volume["id"]
        assert _cli(atoll, "volume", "show", volume["id"], check=False, json_output=False).returncode != 0
    finally:
        _cli(atoll, "volume", "delete", volume["id"], cloud=owner, json_output=False, check=False)


def test_a_stopped_pod_gives_a_flagged_partial_list_and_creates_go_elsewhere(
    atoll: Any, token: str, two_volumes: dict[str, dict[str, Any]]
) -> None:
    url = atoll.info["atoll_url"] + "/volume/v3/volumes"
    headers = {"X-Auth-Token": token}
    atoll.stop_pod("Pod2")
    made: list[str] = []
    try:
        with httpx.Client(timeout=60) as http:
            response = http.get(url + "/detail", headers=headers)
            assert response.status_code == 200
            assert response.headers["atoll-partial-pods"] == "Pod2"
            listed = {v["id"] for v in response.json()["volumes"]}
            assert two_volumes["Pod1"]["id"] in listed
            assert two_volumes["Pod2"]["id"] not in listed
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # the engine marks Pod2 down within a few seconds
                zones = {
                    z["Zone Name"]: z["Zone Status"] for z in _cli(atoll, "availability", "zone", "list", "--volume")
                }
                if zones.get("az2") == "not available":
                    break
                time.sleep(1)
            assert zones == {"az1": "available", "az2": "not available"}
            shown = http.get(f"{url}/{two_volumes['Pod2']['id']}", headers=headers)
            assert shown.status_code == 503
            assert "az2" in shown.json()["serviceUnavailable"]["message"]
            refused = http.post(url, json={"volume": {"size": 1, "availability_zone": "az2"}}, headers=headers)
            assert refused.status_code == 503
            assert "az2" in refused.json()["serviceUnavailable"]["message"]
        anywhere = _cli(atoll, "volume", "create", "--size", "1", "--availability-zone", "az1", "while-pod2-is-down")
        made.append(anywhere["id"])
        assert anywhere["availability_zone"] == "az1"
    finally:
        atoll.start_pod("Pod2")
        for volume_id in made:
            _cli(atoll, "volume", "delete", volume_id, json_output=False, check=False)
