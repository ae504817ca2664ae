"""Compute through Atoll on the real test bed: the unmodified `openstack` CLI and openstacksdk
pointed at `RegionOne`, whose compute endpoint is Atoll (`scripts/testbed up --atoll`).

Servers boot with no network (`--nic none`, microversion 2.37+) until the network part
realizes top networks in pods.
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


@pytest.fixture(scope="module")
def admin_token(atoll: Any) -> str:
    return str(atoll.openstack("token", "issue", cloud="testbed-admin", region=REGION)["id"])


def _cli(atoll: Any, *args: str, **kw: Any) -> Any:
    return atoll.openstack(*args, region=REGION, **kw)


def _boot(atoll: Any, name: str, az: str) -> dict[str, Any]:
    flavor, image = atoll.flavor["name"], atoll.image["name"]
    return dict(
        _cli(
            atoll,
            *NOVA,
            "server",
            "create",
            "--availability-zone",
            az,
            "--flavor",
            flavor,
            "--image",
            image,
            "--nic",
            "none",
            "--wait",
            name,
        )
    )


@pytest.fixture(scope="module")
def two_servers(atoll: Any) -> Iterator[dict[str, dict[str, Any]]]:
    suffix = uuid.uuid4().hex[:6]
    made: dict[str, dict[str, Any]] = {}
    try:
        for pod, az in (("Pod1", "az1"), ("Pod2", "az2")):
            made[pod] = _boot(atoll, f"gw-{az}-{suffix}", az)
        yield made
    finally:
        for server in made.values():
            _cli(atoll, "server", "delete", "--wait", server["id"], json_output=False, check=False)


def test_availability_zones_are_atolls(atoll: Any) -> None:
    zones = _cli(atoll, "availability", "zone", "list", "--compute")
    assert sorted((z["Zone Name"], z["Zone Status"]) for z in zones) == [("az1", "available"), ("az2", "available")]


def test_servers_boot_in_the_pod_of_their_az(atoll: Any, two_servers: dict[str, dict[str, Any]]) -> None:
    for pod, az in (("Pod1", "az1"), ("Pod2", "az2")):
        server = two_servers[pod]
        assert server["status"] == "ACTIVE"
        assert server["OS-EXT-AZ:availability_zone"] == az
        direct = atoll.openstack("server", "show", server["id"], region=pod)
        assert direct["id"] == server["id"]
        assert direct["name"] == server["name"]
        shown = _cli(atoll, "server", "show", server["id"])
        assert (shown["id"], shown["status"], shown["OS-EXT-AZ:availability_zone"]) == (server["id"], "ACTIVE", az)
    listed = {s["ID"] for s in _cli(atoll, "server", "list")}
    assert {s["id"] for s in two_servers.values()} <= listed


def _wait_status(atoll: Any, server_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT
    while True:
        shown: dict[str, Any] = _cli(atoll, "server", "show", server_id)
        if shown["status"] == status or time.monotonic() > deadline:
            return shown
        time.sleep(1)


def test_actions_through_atoll(atoll: Any, two_servers: dict[str, dict[str, Any]]) -> None:
    server_id, name = two_servers["Pod2"]["id"], two_servers["Pod2"]["name"]
    # By name too: the CLI then finds the server with Nova's brief list, `GET /servers?name=...`.
    for action, status in [("stop", "SHUTOFF"), ("start", "ACTIVE"), ("pause", "PAUSED"), ("unpause", "ACTIVE")]:
        _cli(atoll, "server", action, name if action in ("stop", "start") else server_id, json_output=False)
        assert _wait_status(atoll, server_id, status)["status"] == status
    _cli(atoll, "server", "reboot", "--wait", server_id, json_output=False)
    _cli(atoll, "server", "lock", server_id, json_output=False)
    assert _cli(atoll, "--os-compute-api-version", "2.9", "server", "show", server_id)["locked"] is True
    _cli(atoll, "server", "unlock", server_id, json_output=False)
    _cli(atoll, "server", "set", "--property", "role=gateway-test", server_id, json_output=False)
    assert _cli(atoll, "server", "show", server_id)["properties"] == {"role": "gateway-test"}
    _cli(atoll, "server", "rebuild", "--image", atoll.image["name"], "--wait", server_id, json_output=False)
    assert _cli(atoll, "server", "show", server_id)["status"] == "ACTIVE"


def test_sdk_lists_across_pods_page_by_page_in_every_sort(atoll: Any, two_servers: dict[str, dict[str, Any]]) -> None:
    conn = atoll.connect("testbed-demo", REGION)
    ours = {s["id"] for s in two_servers.values()}
    union = [s for s in conn.compute.servers(details=True) if s.id in ours]
    assert {s.id for s in union} == ours
    every = list(conn.compute.servers(details=True))
    for sort_key, field, direction in [
        ("display_name", "name", "asc"),
        ("display_name", "name", "desc"),
        ("created_at", "created_at", "desc"),
        ("uuid", "id", "asc"),
    ]:

        def value(server: Any, field: str = field) -> tuple[str, str]:
            return (str(getattr(server, field)).lower(), server.id)

        by_hand = sorted(every, key=value, reverse=direction == "desc")
        paged = list(conn.compute.servers(details=True, limit=1, sort_key=sort_key, sort_dir=direction))
        assert [s.id for s in paged] == [s.id for s in by_hand], sort_key


def test_cli_limit_and_marker(atoll: Any, two_servers: dict[str, dict[str, Any]]) -> None:
    everything = [s["ID"] for s in _cli(atoll, "server", "list", "--sort-column", "Name")]
    first = _cli(atoll, "server", "list", "--limit", "1")
    assert len(first) == 1
    rest = _cli(atoll, "server", "list", "--marker", first[0]["ID"])
    assert sorted([first[0]["ID"], *[s["ID"] for s in rest]]) == sorted(everything)


def test_bad_input_gets_novas_4xx(atoll: Any, admin_token: str) -> None:
    url = atoll.info["atoll_url"] + "/compute/v2.1"
    headers = {"X-Auth-Token": admin_token}
    with httpx.Client(timeout=30) as http:
        malformed = http.post(url + "/servers", content=b"{nope", headers=headers)
        assert malformed.status_code == 400
        assert "Malformed request body" in malformed.json()["badRequest"]["message"]
        unknown = http.post(url + "/servers", json={"server": {"name": "x", "bogus": 1}}, headers=headers)
        assert unknown.status_code == 400
        assert "bogus" in unknown.json()["badRequest"]["message"]
        missing = http.get(url + f"/servers/{uuid.uuid4()}", headers=headers)
        assert missing.status_code == 404
        assert "could not be found" in missing.json()["itemNotFound"]["message"]


def test_a_stopped_pod_gives_a_flagged_partial_list_and_creates_go_elsewhere(
    atoll: Any, admin_token: str, two_servers: dict[str, dict[str, Any]]
) -> None:
    url = atoll.info["atoll_url"] + "/compute/v2.1/servers"
    atoll.stop_pod("Pod2")
    made: list[str] = []
    try:
        with httpx.Client(timeout=60) as http:
            response = http.get(url, headers={"X-Auth-Token": admin_token})
            assert response.status_code == 200
            assert response.headers["atoll-partial-pods"] == "Pod2"
        listed = {s["ID"] for s in _cli(atoll, "server", "list")}
        assert two_servers["Pod1"]["id"] in listed
        assert two_servers["Pod2"]["id"] not in listed
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the engine marks Pod2 down within a few seconds
            zones = {z["Zone Name"]: z["Zone Status"] for z in _cli(atoll, "availability", "zone", "list", "--compute")}
            if zones.get("az2") == "not available":
                break
            time.sleep(1)
        assert zones == {"az1": "available", "az2": "not available"}
        anywhere = _boot(atoll, f"gw-any-{uuid.uuid4().hex[:6]}", "az1")
        made.append(anywhere["id"])
        assert anywhere["OS-EXT-AZ:availability_zone"] == "az1"
        refused = _cli(
            atoll,
            *NOVA,
            "server",
            "create",
            "--availability-zone",
            "az2",
            "--flavor",
            atoll.flavor["name"],
            "--image",
            atoll.image["name"],
            "--nic",
            "none",
            "x",
            json_output=False,
            check=False,
        )
        assert refused.returncode != 0
        assert "503" in refused.stderr
        assert "Availability zone az2 is not available now" in refused.stderr
    finally:
        atoll.start_pod("Pod2")
        for server_id in made:
            _cli(atoll, "server", "delete", "--wait", server_id, json_output=False, check=False)
