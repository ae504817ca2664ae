"""GET /v1.0/resources on the real test bed: a server, a volume and a keypair made directly in Pod1
and Pod2 for the demo project are listed, each with its pod and AZ, by the demo user, page by page;
the alt_demo project's member sees none of them and may not name the demo project."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

pytestmark = [pytest.mark.realpods]

PODS = {"Pod1": "az1", "Pod2": "az2"}
NOVA = ("--os-compute-api-version", "2.37")
TYPES = "server,volume,keypair"
WAIT = 300

Key = tuple[str, str, str]


def _token(atoll: Any, cloud: str) -> dict[str, Any]:
    return dict(atoll.openstack("token", "issue", cloud=cloud, region="Pod1"))


def _view(atoll: Any, token: str, query: str) -> httpx.Response:
    url = f"{atoll.info['atoll_url'].rstrip('/')}/v1.0/resources{query}"
    return httpx.get(url, headers={"X-Auth-Token": token}, timeout=60, trust_env=False)


def _walk(atoll: Any, token: str, query: str) -> tuple[list[dict[str, Any]], int]:
    """Every item of the view, following its next links; and the number of pages."""
    items: list[dict[str, Any]] = []
    pages = 0
    while True:
        response = _view(atoll, token, query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["partial_pods"] == [], body
        items += body["resources"]
        pages += 1
        if not body["resources_links"]:
            return items, pages
        href = urlsplit(body["resources_links"][0]["href"])
        query = f"?{href.query}"
        assert pages < 100


def _keys(items: list[dict[str, Any]]) -> set[Key]:
    return {(i["type"], i["id"], i["pod"]) for i in items}


def _volume_available(atoll: Any, pod: str, volume_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT
    while True:
        shown: dict[str, Any] = atoll.openstack("volume", "show", volume_id, region=pod)
        if shown["status"] in ("available", "error") or time.monotonic() > deadline:
            return shown
        time.sleep(1)


@pytest.fixture(scope="module")
def made(atoll: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[Key, dict[str, Any]]]:
    """A server, a volume and a keypair in each pod, made directly there as the demo user."""
    suffix = uuid.uuid4().hex[:6]
    keys: Path = tmp_path_factory.mktemp("keys")
    made: dict[Key, dict[str, Any]] = {}
    try:
        for pod in PODS:
            name = f"view-{pod.lower()}-{suffix}"
            server = atoll.openstack(
                *NOVA,
                "server",
                "create",
                "--flavor",
                atoll.flavor["name"],
                "--image",
                atoll.image["name"],
                "--nic",
                "none",
                "--wait",
                name,
                region=pod,
            )
            made[("server", server["id"], pod)] = server
            volume = atoll.openstack("volume", "create", "--size", "1", name, region=pod)
            made[("volume", volume["id"], pod)] = _volume_available(atoll, pod, volume["id"])
            keypair = atoll.openstack("keypair", "create", "--private-key", str(keys / pod), name, region=pod)
            made[("keypair", keypair["name"], pod)] = keypair
        yield made
    finally:
        for (type_, item_id, pod), _ in made.items():
            if type_ == "server":
                atoll.openstack("server", "delete", "--wait", item_id, region=pod, json_output=False, check=False)
        for (type_, item_id, pod), _ in made.items():
            if type_ == "volume":
                atoll.openstack("volume", "delete", item_id, region=pod, json_output=False, check=False)
            elif type_ == "keypair":
                atoll.openstack("keypair", "delete", item_id, region=pod, json_output=False, check=False)


def test_the_view_lists_what_the_project_made_in_each_pod(atoll: Any, made: dict[Key, dict[str, Any]]) -> None:
    demo = _token(atoll, "testbed-demo")
    items, _ = _walk(atoll, demo["id"], f"?type={TYPES}")
    ours = [item for item in items if (item["type"], item["id"], item["pod"]) in made]
    assert _keys(ours) == set(made)
    # nothing else of the demo project in the pods has one of these names
    names = {made[key]["name"] for key in made}
    assert {(i["type"], i["id"], i["pod"]) for i in items if i["name"] in names} == set(made)
    for item in ours:
        assert item["az"] == PODS[item["pod"]]
        assert item["project_id"] == demo["project_id"]
        if item["type"] == "server":
            assert item["status"] == "ACTIVE"
            assert item["created_at"].endswith("Z")
        if item["type"] == "volume":
            assert item["status"] == "available"


@pytest.mark.parametrize("limit", [1, 2, 5])
def test_pages_are_exact_on_real_pods(atoll: Any, made: dict[Key, dict[str, Any]], limit: int) -> None:
    demo = _token(atoll, "testbed-demo")
    whole, _ = _walk(atoll, demo["id"], f"?type={TYPES}")
    paged, pages = _walk(atoll, demo["id"], f"?type={TYPES}&limit={limit}")
    assert [(i["type"], i["id"], i["pod"]) for i in paged] == [(i["type"], i["id"], i["pod"]) for i in whole]
    assert pages >= len(whole) // limit
    assert set(made) <= _keys(paged)


def test_another_project_sees_none_of_them(atoll: Any, made: dict[Key, dict[str, Any]]) -> None:
    demo, alt = _token(atoll, "testbed-demo"), _token(atoll, "testbed-alt")
    items, _ = _walk(atoll, alt["id"], "")
    assert not _keys(items) & set(made)
    assert {item["project_id"] for item in items} <= {alt["project_id"]}
    refused = _view(atoll, alt["id"], f"?project_id={demo['project_id']}")
    assert refused.status_code == 403, refused.text
    assert refused.json()["forbidden"]["code"] == 403


def test_an_admin_names_the_project(atoll: Any, made: dict[Key, dict[str, Any]]) -> None:
    demo, admin = _token(atoll, "testbed-demo"), _token(atoll, "testbed-admin")
    items, _ = _walk(atoll, admin["id"], f"?project_id={demo['project_id']}&type=server,volume")
    assert {key for key in made if key[0] != "keypair"} <= _keys(items)
    assert {item["project_id"] for item in items} == {demo["project_id"]}


def _pod_status(atoll: Any, admin: str, name: str) -> str:
    url = f"{atoll.info['atoll_url'].rstrip('/')}/v1.0/pods"
    pods = httpx.get(url, headers={"X-Auth-Token": admin}, timeout=60, trust_env=False).json()["pods"]
    return str(next(p for p in pods if p["region_name"] == name)["status"])


def test_a_stopped_pod_is_partial_and_the_others_listed(atoll: Any, made: dict[Key, dict[str, Any]]) -> None:
    demo, admin = _token(atoll, "testbed-demo"), _token(atoll, "testbed-admin")
    atoll.stop_pod("Pod2")
    try:
        deadline = time.monotonic() + WAIT
        while _pod_status(atoll, admin["id"], "Pod2") != "down" and time.monotonic() < deadline:
            time.sleep(1)
        assert _pod_status(atoll, admin["id"], "Pod2") == "down"
        response = _view(atoll, demo["id"], f"?type={TYPES}")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["partial_pods"] == ["Pod2"]
        assert response.headers["Atoll-Partial-Pods"] == "Pod2"
        listed = _keys(body["resources"])
        assert {key for key in made if key[2] == "Pod1"} <= listed
        assert not {key for key in listed if key[2] == "Pod2"}
    finally:
        atoll.start_pod("Pod2")
    # First the probe sees Pod2 back up (the pods API), then each process's pod registry does (the view):
    # the view alone can look whole too early, while its registry still holds the "up" from before the stop.
    deadline = time.monotonic() + WAIT
    while _pod_status(atoll, admin["id"], "Pod2") != "up" and time.monotonic() < deadline:
        time.sleep(1)
    assert _pod_status(atoll, admin["id"], "Pod2") == "up"
    while time.monotonic() < deadline:
        back = _view(atoll, demo["id"], f"?type={TYPES}").json()
        if not back["partial_pods"]:
            break
        time.sleep(1)
    assert back["partial_pods"] == []
    items, _ = _walk(atoll, demo["id"], f"?type={TYPES}")
    assert set(made) <= _keys(items)


def _neutron(atoll: Any, region: str, token: str, method: str, path: str, body: Any = None) -> httpx.Response:
    url = f"http://127.0.0.1:{atoll.port(region, 'neutron')}/v2.0{path}"
    return httpx.request(method, url, json=body, headers={"X-Auth-Token": token}, timeout=60, trust_env=False)


def test_networks_images_and_the_central_neutron(atoll: Any, tmp_path: Path) -> None:
    """A network in Pod2 and one in the central Neutron (the top region), an image in Pod1."""
    demo = _token(atoll, "testbed-demo")
    suffix = uuid.uuid4().hex[:6]
    made: dict[Key, str] = {}
    data = tmp_path / "image.raw"
    data.write_bytes(b"view" * 1024)
    try:
        for region in ("Pod2", "RegionOne"):
            created = _neutron(atoll, region, demo["id"], "POST", "/networks", {"network": {"name": f"v-{suffix}"}})
            assert created.status_code == 201, created.text
            made[("network", created.json()["network"]["id"], region)] = region
        image = atoll.openstack(
            "image",
            "create",
            "--disk-format",
            "raw",
            "--container-format",
            "bare",
            "--private",
            "--file",
            str(data),
            f"v-{suffix}",
            region="Pod1",
        )
        made[("image", image["id"], "Pod1")] = "Pod1"
        items, _ = _walk(atoll, demo["id"], "?type=network,image&limit=3")
        ours = {(i["type"], i["id"], i["pod"]): i for i in items if i["name"] == f"v-{suffix}"}
        assert set(ours) == set(made)
        assert {key: item["az"] for key, item in ours.items()} == {
            key: {"Pod1": "az1", "Pod2": "az2", "RegionOne": None}[key[2]] for key in made
        }
        assert {item["status"] for key, item in ours.items() if key[0] == "network"} == {"ACTIVE"}
        alt = _token(atoll, "testbed-alt")
        assert not {(i["type"], i["id"], i["pod"]) for i in _walk(atoll, alt["id"], "?type=network,image")[0]} & set(
            made
        )
    finally:
        for (type_, item_id, region), _ in made.items():
            if type_ == "network":
                _neutron(atoll, region, demo["id"], "DELETE", f"/networks/{item_id}")
            else:
                atoll.openstack("image", "delete", item_id, region=region, json_output=False, check=False)
