"""Resource sync on the real test bed: `POST /v1.0/{project}/os-sync` to Atoll (`up --atoll`, whose
atoll-engine runs the jobs on Atoll's service credentials), then each copy checked in Pod2 itself
with the `openstack` CLI or Pod2's own API."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.realpods]

WAIT = 240.0
SOURCE, TARGET = "Pod1", "Pod2"


class Caller:
    """One test bed user calling Atoll's os-sync API with its own token."""

    def __init__(self, atoll: Any, cloud: str) -> None:
        issued = atoll.openstack("token", "issue", cloud=cloud)
        self.token, self.project, self.user = issued["id"], issued["project_id"], issued["user_id"]
        self.url = atoll.info["atoll_url"]

    def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        with httpx.Client(base_url=self.url, timeout=60, trust_env=False) as http:
            return http.request(method, path, json=body, headers={"X-Auth-Token": self.token})

    def sync(self, body: dict[str, Any], project: str | None = None) -> str:
        response = self.call("POST", f"/v1.0/{project or self.project}/os-sync", {"resource_set": body})
        assert response.status_code == 200, response.text
        status = response.json()["job_status"]
        assert status["status"] == "IN_PROGRESS"
        return str(status["id"])

    def finished(self, job_id: str, project: str | None = None) -> tuple[str, list[dict[str, Any]]]:
        """Wait for the job to leave IN_PROGRESS; its status and its parts."""
        base = f"/v1.0/{project or self.project}/os-sync"
        deadline = time.monotonic() + WAIT
        while True:
            listed = self.call("GET", base).json()["job_set"]
            status = next(j["sync_status"] for j in listed if j["id"] == job_id)
            if status != "IN_PROGRESS" or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        parts = self.call("GET", f"{base}/{job_id}").json()["job_set"]
        return status, parts


def one(resource_type: str, resources: list[str], force: bool = False) -> dict[str, Any]:
    return {
        "resource_type": resource_type,
        "resources": resources,
        "source": SOURCE,
        "target": [TARGET],
        "force": str(force),
    }


@pytest.fixture(scope="module")
def demo(atoll: Any) -> Caller:
    return Caller(atoll, "testbed-demo")


@pytest.fixture(scope="module")
def admin(atoll: Any) -> Caller:
    return Caller(atoll, "testbed-admin")


@pytest.fixture(scope="module")
def alt(atoll: Any) -> Caller:
    return Caller(atoll, "testbed-alt")


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex[:8]


def _quietly(atoll: Any, *args: str, cloud: str = "testbed-demo") -> None:
    for region in (SOURCE, TARGET):
        atoll.openstack(*args, cloud=cloud, region=region, json_output=False, check=False)


@pytest.fixture
def keypair(atoll: Any, tag: str) -> Iterator[str]:
    name = f"sync-kp-{tag}"
    atoll.openstack("keypair", "create", name, region=SOURCE, json_output=False)
    yield name
    _quietly(atoll, "keypair", "delete", name)


def test_a_keypair_reaches_pod2_with_the_same_public_key_and_again_is_a_no_op(
    atoll: Any, demo: Caller, keypair: str
) -> None:
    job = demo.sync(one("keypair", [keypair]))
    status, parts = demo.finished(job)
    assert status == "SUCCESS", parts
    assert [(p["target_region"], p["resource"], p["sync_status"]) for p in parts] == [(TARGET, keypair, "SUCCESS")]
    source = atoll.openstack("keypair", "show", "--public-key", keypair, region=SOURCE, json_output=False)
    copied = atoll.openstack("keypair", "show", "--public-key", keypair, region=TARGET, json_output=False)
    assert copied.strip() == source.strip()
    assert copied.startswith("ssh-")
    again, _ = demo.finished(demo.sync(one("keypair", [keypair])))
    assert again == "SUCCESS"


@pytest.fixture
def flavor(atoll: Any, demo: Caller, tag: str) -> Iterator[str]:
    flavor_id = str(uuid.uuid4())
    atoll.openstack(
        "flavor", "create", "--id", flavor_id, "--ram", "192", "--disk", "1", "--vcpus", "1", "--private",
        "--project", demo.project, "--property", "hw:cpu_policy=shared", "--property", "atoll:probe=one",
        f"sync-flavor-{tag}", cloud="testbed-admin", region=SOURCE, json_output=False,
    )  # fmt: skip
    yield flavor_id
    _quietly(atoll, "flavor", "delete", flavor_id, cloud="testbed-admin")


def _flavor(atoll: Any, region: str, flavor_id: str) -> dict[str, Any]:
    shown: dict[str, Any] = atoll.openstack("flavor", "show", flavor_id, cloud="testbed-admin", region=region)
    return shown


def test_a_private_flavor_keeps_its_id_extra_specs_and_access_and_force_decides_a_differing_one(
    atoll: Any, admin: Caller, demo: Caller, flavor: str
) -> None:
    status, parts = admin.finished(admin.sync(one("flavor", [flavor])))
    assert status == "SUCCESS", parts
    source, copied = _flavor(atoll, SOURCE, flavor), _flavor(atoll, TARGET, flavor)
    for field in ("id", "name", "ram", "disk", "vcpus", "os-flavor-access:is_public", "properties"):
        assert copied[field] == source[field], field
    assert copied["properties"] == {"hw:cpu_policy": "shared", "atoll:probe": "one"}
    assert copied["access_project_ids"] == [demo.project]

    atoll.openstack(
        "flavor",
        "set",
        "--property",
        "atoll:probe=two",
        flavor,
        cloud="testbed-admin",
        region=TARGET,
        json_output=False,
    )
    status, parts = admin.finished(admin.sync(one("flavor", [flavor])))
    assert status == "FAILURE"
    assert "extra_specs" in parts[0]["reason"]
    assert "force" in parts[0]["reason"]
    assert _flavor(atoll, TARGET, flavor)["properties"]["atoll:probe"] == "two"

    status, parts = admin.finished(admin.sync(one("flavor", [flavor], force=True)))
    assert status == "SUCCESS", parts
    assert _flavor(atoll, TARGET, flavor)["properties"] == {"hw:cpu_policy": "shared", "atoll:probe": "one"}


def _groups(atoll: Any, caller: Caller, region: str) -> dict[str, dict[str, Any]]:
    url = f"http://127.0.0.1:{atoll.port(region, 'neutron')}/v2.0/security-groups"
    response = httpx.get(url, params={"project_id": caller.project}, headers={"X-Auth-Token": caller.token})
    assert response.status_code == 200, response.text
    return {g["name"]: g for g in response.json()["security_groups"]}


@pytest.fixture
def groups(atoll: Any, tag: str) -> Iterator[tuple[str, str]]:
    web, db = f"sync-web-{tag}", f"sync-db-{tag}"
    for name in (web, db):
        atoll.openstack("security", "group", "create", "--description", f"{name} tier", name, region=SOURCE)
    atoll.openstack("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80",
                    "--remote-ip", "10.0.0.0/8", web, region=SOURCE)  # fmt: skip
    atoll.openstack("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "5432",
                    "--remote-group", web, db, region=SOURCE)  # fmt: skip
    yield web, db
    for name in (db, web):
        _quietly(atoll, "security", "group", "delete", name)


def _rules(group: dict[str, Any], names: dict[str, str]) -> set[tuple[Any, ...]]:
    return {
        (r["direction"], r["ethertype"], r["protocol"], r["port_range_min"], r["remote_ip_prefix"],
         names.get(r["remote_group_id"] or ""))
        for r in group["security_group_rules"]
    }  # fmt: skip


def test_security_groups_in_a_template_keep_their_rules_and_remote_groups_map_to_pod2_s(
    atoll: Any, demo: Caller, groups: tuple[str, str]
) -> None:
    web, db = groups
    template = {"Sync": [one("security_group", [web]), one("security_group", [db])]}
    status, parts = demo.finished(demo.sync(template))
    assert status == "SUCCESS", parts
    assert sorted(p["resource"] for p in parts) == sorted([web, db])
    source, copied = _groups(atoll, demo, SOURCE), _groups(atoll, demo, TARGET)
    source_names = {g["id"]: n for n, g in source.items()}
    target_names = {g["id"]: n for n, g in copied.items()}
    for name in (web, db):
        assert copied[name]["description"] == f"{name} tier"
        assert _rules(copied[name], target_names) == _rules(source[name], source_names)
    remote = [r for r in copied[db]["security_group_rules"] if r["port_range_min"] == 5432]
    assert [r["remote_group_id"] for r in remote] == [copied[web]["id"]]
    assert copied[web]["id"] != source[web]["id"]

    atoll.openstack("security", "group", "rule", "create", "--protocol", "udp", "--dst-port", "53", web, region=TARGET)
    status, parts = demo.finished(demo.sync(one("security_group", [web])))
    assert status == "FAILURE"
    assert "extra rule ingress IPv4 udp 53-53" in parts[0]["reason"]
    status, parts = demo.finished(demo.sync(one("security_group", [web], force=True)))
    assert status == "SUCCESS", parts
    assert _rules(_groups(atoll, demo, TARGET)[web], target_names) == _rules(source[web], source_names)


@pytest.fixture
def image(atoll: Any, tmp_path: Path, tag: str) -> Iterator[tuple[str, Path]]:
    data = tmp_path / "image.raw"
    data.write_bytes(os.urandom(3 * 1024 * 1024 + 12345))
    made = atoll.openstack(
        "image", "create", "--file", str(data), "--disk-format", "raw", "--container-format", "bare",
        "--property", "atoll_probe=yes", f"sync-image-{tag}", region=SOURCE,
    )  # fmt: skip
    yield made["id"], data
    _quietly(atoll, "image", "delete", made["id"])


def test_an_image_keeps_its_id_properties_and_data_checksum_and_force_mends_its_properties(
    atoll: Any, demo: Caller, image: tuple[str, Path], tmp_path: Path
) -> None:
    image_id, data = image
    status, parts = demo.finished(demo.sync(one("image", [image_id])))
    assert status == "SUCCESS", parts
    source = atoll.openstack("image", "show", image_id, region=SOURCE)
    copied = atoll.openstack("image", "show", image_id, region=TARGET)
    for field in ("id", "name", "checksum", "size", "disk_format", "container_format", "owner", "visibility"):
        assert copied[field] == source[field], field
    assert copied["status"] == "active"
    assert copied["properties"]["atoll_probe"] == "yes"
    saved = tmp_path / "copy.raw"
    atoll.openstack("image", "save", "--file", str(saved), image_id, region=TARGET, json_output=False)
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == hashlib.sha256(data.read_bytes()).hexdigest()

    atoll.openstack("image", "set", "--property", "atoll_probe=no", image_id, region=TARGET, json_output=False)
    status, parts = demo.finished(demo.sync(one("image", [image_id])))
    assert status == "FAILURE"
    assert "atoll_probe: 'no' != 'yes'" in parts[0]["reason"]
    status, parts = demo.finished(demo.sync(one("image", [image_id], force=True)))
    assert status == "SUCCESS", parts
    assert atoll.openstack("image", "show", image_id, region=TARGET)["properties"]["atoll_probe"] == "yes"


def test_an_admin_syncs_another_user_s_keypair_for_that_user(
    atoll: Any, admin: Caller, demo: Caller, keypair: str
) -> None:
    status, parts = admin.finished(admin.sync({**one("keypair", [keypair]), "user_id": demo.user}))
    assert status == "SUCCESS", parts
    copied = atoll.openstack("keypair", "show", keypair, region=TARGET)
    assert copied["user_id"] == demo.user
    mine = atoll.openstack("keypair", "list", cloud="testbed-admin", region=TARGET)
    assert keypair not in [k["Name"] for k in mine]


def test_another_project_can_neither_see_nor_touch_a_sync_job(
    atoll: Any, demo: Caller, alt: Caller, keypair: str
) -> None:
    job = demo.sync(one("keypair", [keypair]))
    demo.finished(job)
    mine = f"/v1.0/{demo.project}/os-sync"
    assert alt.call("GET", mine).status_code == 403
    assert alt.call("GET", f"{mine}/{job}").status_code == 403
    assert alt.call("DELETE", f"{mine}/{job}").status_code == 403
    assert alt.call("POST", mine, {"resource_set": one("keypair", [keypair])}).status_code == 403
    theirs = f"/v1.0/{alt.project}/os-sync"
    assert alt.call("GET", f"{theirs}/{job}").status_code == 404
    assert job not in [j["id"] for j in alt.call("GET", theirs).json()["job_set"]]
    assert alt.call("GET", f"/v1.0/jobs/{job}").status_code == 404
    assert demo.call("DELETE", f"{mine}/{job}").status_code == 200
    assert demo.call("GET", f"{mine}/{job}").status_code == 404
