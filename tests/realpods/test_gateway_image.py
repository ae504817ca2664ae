"""Images through Atoll on the real test bed: the unmodified `openstack` CLI pointed at `RegionOne`,
whose image endpoint is Atoll (`scripts/testbed up --atoll`); each pod checked with its own API.

An image uploaded through Atoll lands in one pod and is listed once; a server booted from it in
the other AZ finds it copied there first (same id, same checksum); copy-image to every pod runs
as sync jobs; a delete through Atoll deletes every copy.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.realpods]

REGION = "RegionOne"
NOVA = ("--os-compute-api-version", "2.37")
SIZE = 3 * 1024 * 1024


def _in_pod(atoll: Any, region: str, image_id: str, cloud: str = "testbed-admin") -> dict[str, Any] | None:
    shown = atoll.openstack("image", "show", image_id, cloud=cloud, region=region, check=False)
    if shown.returncode != 0:
        return None
    return dict(atoll.openstack("image", "show", image_id, cloud=cloud, region=region))


def _copy_to_every_pod(atoll: Any, http: httpx.Client, url: str, image_id: str) -> None:
    """`copy-image` to every pod through Atoll's image endpoint `url`, waited for in each pod."""
    asked = http.post(f"{url}/images/{image_id}/import", json={"method": {"name": "copy-image"}, "all_stores": True})
    assert asked.status_code == 202, asked.text
    deadline = time.monotonic() + 120
    while any(_in_pod(atoll, r, image_id) is None for r in atoll.pod_regions):
        assert time.monotonic() < deadline, "copy-image did not reach every pod"
        time.sleep(1)


@pytest.fixture(scope="module")
def uploaded(atoll: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A raw image of a few MiB uploaded through Atoll by the demo user."""
    data = uuid.uuid4().bytes * (SIZE // 16)
    path: Path = tmp_path_factory.mktemp("image") / "disk.raw"
    path.write_bytes(data)
    name = f"img-{uuid.uuid4().hex[:6]}"
    made = atoll.openstack(
        "image", "create", "--disk-format", "raw", "--container-format", "bare", "--file", str(path), name,
        region=REGION,
    )  # fmt: skip
    try:
        yield {**made, "md5": hashlib.md5(data, usedforsecurity=False).hexdigest()}
    finally:
        atoll.openstack("image", "delete", made["id"], region=REGION, json_output=False, check=False)


def test_an_uploaded_image_is_in_one_pod_and_listed_once(atoll: Any, uploaded: dict[str, Any]) -> None:
    assert uploaded["status"] == "active"
    assert uploaded["checksum"] == uploaded["md5"]
    holders = [r for r in atoll.pod_regions if _in_pod(atoll, r, uploaded["id"]) is not None]
    assert len(holders) == 1
    listed = atoll.openstack("image", "list", region=REGION)
    assert [i["ID"] for i in listed].count(uploaded["id"]) == 1
    common = atoll.image["id"]  # the test bed's image, the same id in every pod
    assert [i["ID"] for i in listed].count(common) == 1
    pages: list[str] = []
    marker: str | None = None
    while True:  # one image per page, following Atoll's markers: each image once
        args = ["image", "list", "--limit", "1"] + (["--marker", marker] if marker else [])
        page = atoll.openstack(*args, region=REGION)
        if not page:
            break
        pages += [i["ID"] for i in page]
        marker = page[-1]["ID"]
    assert sorted(pages) == sorted(i["ID"] for i in listed)


def test_a_server_in_the_other_az_gets_the_image_copied_first(atoll: Any, uploaded: dict[str, Any]) -> None:
    home = next(r for r in atoll.pod_regions if _in_pod(atoll, r, uploaded["id"]) is not None)
    other = next(r for r in atoll.pod_regions if r != home)
    az = {"Pod1": "az1", "Pod2": "az2"}[other]
    name = f"img-vm-{uuid.uuid4().hex[:6]}"
    server = atoll.openstack(
        *NOVA, "server", "create", "--availability-zone", az, "--flavor", atoll.flavor["name"],
        "--image", uploaded["id"], "--nic", "none", "--wait", name, region=REGION,
    )  # fmt: skip
    try:
        assert server["status"] == "ACTIVE"
        assert server["OS-EXT-AZ:availability_zone"] == az
        copies = {r: _in_pod(atoll, r, uploaded["id"]) for r in atoll.pod_regions}
        assert all(c is not None for c in copies.values())
        assert {c["checksum"] for c in copies.values() if c} == {uploaded["md5"]}
        assert {c["owner"] for c in copies.values() if c} == {uploaded["owner"]}
        listed = atoll.openstack("image", "list", region=REGION)
        assert [i["ID"] for i in listed].count(uploaded["id"]) == 1
    finally:
        atoll.openstack("server", "delete", "--wait", name, region=REGION, json_output=False, check=False)


def test_download_patch_and_delete_reach_every_copy(atoll: Any, tmp_path: Path) -> None:
    token = atoll.openstack("token", "issue", cloud="testbed-admin")["id"]
    url = atoll.info["atoll_url"] + "/image/v2"
    headers = {"X-Auth-Token": token}
    data = b"atoll" * 200_000
    with httpx.Client(timeout=120, trust_env=False, headers=headers) as http:
        made = http.post(url + "/images", json={"name": "img-copy", "disk_format": "raw", "container_format": "bare"})
        assert made.status_code == 201, made.text
        image_id = made.json()["id"]
        try:

            def chunks() -> Iterator[bytes]:  # a chunked upload: no Content-Length
                for i in range(0, len(data), 65536):
                    yield data[i : i + 65536]

            put = http.put(
                f"{url}/images/{image_id}/file",
                content=chunks(),
                headers={"Content-Type": "application/octet-stream"},
            )
            assert put.status_code == 204, put.text
            _copy_to_every_pod(atoll, http, url, image_id)
            got = http.get(f"{url}/images/{image_id}/file")
            assert got.status_code == 200
            assert got.content == data
            patched = http.patch(
                f"{url}/images/{image_id}",
                content=b'[{"op": "add", "path": "/color", "value": "blue"}]',
                headers={"Content-Type": "application/openstack-images-v2.1-json-patch"},
            )
            assert patched.status_code == 200, patched.text
            for region in atoll.pod_regions:
                shown = _in_pod(atoll, region, image_id)
                assert shown is not None
                assert "blue" in str(shown.get("properties"))
            missing = http.get(f"{url}/images/{uuid.uuid4()}", headers={"Accept": "application/json"})
            assert missing.status_code == 404
            assert missing.json()["code"] == "404 Not Found"
        finally:
            gone = http.delete(f"{url}/images/{image_id}")
        assert gone.status_code == 204
        assert all(_in_pod(atoll, r, image_id) is None for r in atoll.pod_regions)


def test_a_shared_image_is_copied_with_its_members(atoll: Any, tmp_path: Path) -> None:
    """Shared with the demo project (which accepts it), then copied to every pod: each copy is
    shared with demo, accepted, so demo sees it in whichever pod a create of its goes to."""
    demo_project = atoll.openstack("token", "issue", cloud="testbed-demo")["project_id"]
    path = tmp_path / "shared.raw"
    path.write_bytes(b"shared" * 100_000)
    name = f"img-shared-{uuid.uuid4().hex[:6]}"
    made = atoll.openstack(
        "image", "create", "--disk-format", "raw", "--container-format", "bare", "--shared", "--file", str(path),
        name, cloud="testbed-admin", region=REGION,
    )  # fmt: skip
    image_id = made["id"]
    try:
        atoll.openstack("image", "add", "project", image_id, demo_project, cloud="testbed-admin", region=REGION)
        atoll.openstack("image", "set", "--accept", image_id, region=REGION, json_output=False)  # as demo
        token = atoll.openstack("token", "issue", cloud="testbed-admin")["id"]
        url = atoll.info["atoll_url"] + "/image/v2"
        with httpx.Client(timeout=60, trust_env=False, headers={"X-Auth-Token": token}) as http:
            _copy_to_every_pod(atoll, http, url, image_id)
        for region in atoll.pod_regions:
            deadline = time.monotonic() + 60
            while True:  # the job adds the members once the copy is active
                members = atoll.openstack("image", "member", "list", image_id, cloud="testbed-admin", region=region)
                if members or time.monotonic() > deadline:
                    break
                time.sleep(1)
            assert [(m["Member ID"], m["Status"]) for m in members] == [(demo_project, "accepted")], region
            assert _in_pod(atoll, region, image_id, cloud="testbed-demo") is not None, region
    finally:
        atoll.openstack(
            "image", "delete", image_id, cloud="testbed-admin", region=REGION, json_output=False, check=False
        )
