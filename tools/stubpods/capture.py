"""Records real OpenStack answers from the test bed as the stubs' fidelity fixtures.

    scripts/testbed up --pods 1
    PYTHONPATH=tools .venv/bin/python -m stubpods capture [--out tools/stubpods/recorded]

It creates a few servers, volumes, images, networks, a flavor and a keypair
in `Pod1` (as the test bed's `demo` and `admin` users), records the JSON of
version documents, show/list/detail answers, errors and the headers that
matter, then deletes what it created. Tokens are never recorded (no
`X-Auth-Token` / `X-Subject-Token` header is kept) and the test bed's host and
port are replaced by `{endpoint}` placeholders.

Queries over a known population (`population` + `queries` of each
`*-paging.json`) let the fidelity tests replay the same queries against the
stubs and compare the order of the answers item by item.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import time
import uuid

import httpx

from stubpods.capture_nova import nova
from stubpods.recorder import (
    RECORDED,
    Recorder,
    paging,
    pod_endpoints,
    scrub_token_body,
    token_for,
    wait_status,
    write,
)


def capture(state_dir: pathlib.Path, out: pathlib.Path, region: str) -> None:
    info = json.loads((state_dir / "testbed.json").read_text())
    auth_url = info["auth_url"]
    creds = info["credentials"]
    out.mkdir(parents=True, exist_ok=True)
    with httpx.Client(timeout=120) as http:
        demo_token, demo_body = token_for(http, auth_url, creds["demo"])
        admin_token, _ = token_for(http, auth_url, creds["admin"])
        endpoints = pod_endpoints(demo_body, region)
        project_id = demo_body["token"]["project"]["id"]
        endpoints = {k: v.replace(project_id, "%(project_id)s") for k, v in endpoints.items()}
        endpoints["keystone"] = auth_url
        demo = Recorder(http, demo_token, {k: v.replace("%(project_id)s", project_id) for k, v in endpoints.items()})
        admin = Recorder(http, admin_token, demo.endpoints)
        keystone(demo, admin_token, demo_token, out)
        nova(demo, admin, info, out)
        cinder(demo, out)
        glance(demo, out)
        neutron(demo, out)
        placement(admin, out)


def keystone(rec: Recorder, admin_token: str, demo_token: str, out: pathlib.Path) -> None:
    rec.records = {}
    rec.call("version", "keystone", "GET", "", token=None)
    rec.call("root", "keystone", "GET", "/../", token=None)
    issued = rec.call(
        "issue",
        "keystone",
        "POST",
        "/auth/tokens",
        token=None,
        body={
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {"name": "demo", "password": "wrong", "domain": {"id": "default"}}},
                }
            }
        },
    )
    if issued.status_code != 401:
        raise RuntimeError(f"Keystone took a wrong password: {issued.status_code} {issued.text[:200]}")
    rec.records["issue_bad_password"] = rec.records.pop("issue")
    rec.call("validate", "keystone", "GET", "/auth/tokens", token=admin_token, headers={"X-Subject-Token": demo_token})
    rec.records["validate"]["body"] = scrub_token_body(rec.records["validate"]["body"])
    rec.call(
        "validate_unknown",
        "keystone",
        "GET",
        "/auth/tokens",
        token=admin_token,
        headers={"X-Subject-Token": "gAAAAABnot-a-token"},
    )
    rec.call("validate_no_token", "keystone", "GET", "/auth/tokens", token=None, headers={"X-Subject-Token": "x"})
    write(out, "keystone", rec.records)


VOLUME_QUERIES = [
    "",
    "limit=2",
    "limit=2&marker={2}",
    "sort=name:asc",
    "sort=name:asc,created_at:asc",
    "sort_key=name&sort_dir=asc",
    "sort_key=name",
    "sort=size:desc&limit=2",
    "sort=created_at:asc&limit=2&marker={0}",
    "name=vol-a",
]


def cinder(rec: Recorder, out: pathlib.Path) -> None:
    rec.records = {}
    base = rec.endpoints["cinder"].split("/v3", 1)[0]
    rec.call("versions", "cinder", "GET", base + "/", token=None)
    rec.call("version_v3", "cinder", "GET", base + "/v3/", token=None)
    rec.call("no_token", "cinder", "GET", "/volumes", token=None)
    rec.call("unknown_route", "cinder", "GET", "/no-such-thing")
    rec.call("unknown_volume", "cinder", "GET", f"/volumes/{uuid.uuid4()}")
    rec.call("volumes_empty", "cinder", "GET", "/volumes")
    rec.call("microversion_too_high", "cinder", "GET", "/volumes", headers={"OpenStack-API-Version": "volume 9.99"})
    ids = []
    try:
        for i, (name, size) in enumerate([("vol-b", 1), ("vol-a", 2), ("data", 1), ("vol-a", 1)]):
            created = rec.call(
                "create" if i == 0 else "",
                "cinder",
                "POST",
                "/volumes",
                body={"volume": {"name": name, "size": size}},
                keep=i == 0,
            )
            ids.append(created.json()["volume"]["id"])
            if i == 1:
                time.sleep(1.1)
        for vid in ids:
            wait_status(rec, "cinder", f"/volumes/{vid}", "volume", ("available", "error"))
        rec.call("show", "cinder", "GET", f"/volumes/{ids[0]}")
        rec.call("show_latest", "cinder", "GET", f"/volumes/{ids[0]}", headers={"OpenStack-API-Version": "volume 3.71"})
        rec.call("list", "cinder", "GET", "/volumes")
        rec.call("detail", "cinder", "GET", "/volumes/detail")
        rec.call("bad_marker", "cinder", "GET", f"/volumes?marker={uuid.uuid4()}")
        rec.call("bad_sort_key", "cinder", "GET", "/volumes?sort=nonsense:asc")
        write(out, "cinder-paging", paging(rec, "cinder", "/volumes/detail", "volumes", VOLUME_QUERIES))
        rec.records = {k: v for k, v in rec.records.items() if not k.startswith("q:")}
        rec.call("types", "cinder", "GET", "/types")
        types = rec.records["types"]["body"]["volume_types"]
        if types:
            rec.call("type_show", "cinder", "GET", f"/types/{types[0]['id']}")
        rec.call("delete", "cinder", "DELETE", f"/volumes/{ids[0]}")
    finally:
        for vid in ids:
            rec.call("", "cinder", "DELETE", f"/volumes/{vid}", keep=False)
    write(out, "cinder", rec.records)


IMAGE_QUERIES = [
    "",
    "limit=2",
    "limit=2&marker={2}",
    "sort_key=name&sort_dir=asc",
    "sort=name:asc,created_at:desc",
    "sort_key=name",
    "sort_key=size&sort_dir=desc&limit=2",
    "name=img-a",
]


def glance(rec: Recorder, out: pathlib.Path) -> None:
    rec.records = {}
    base = rec.endpoints["glance"].rstrip("/")
    rec.call("root", "glance", "GET", base + "/", token=None)
    rec.call("versions", "glance", "GET", base + "/versions", token=None)
    rec.call("no_token", "glance", "GET", "/v2/images", token=None)
    rec.call("unknown_route", "glance", "GET", "/v2/no-such-thing")
    rec.call("unknown_image", "glance", "GET", f"/v2/images/{uuid.uuid4()}")
    ids = []
    try:
        for i, name in enumerate(["img-b", "img-a", "base", "img-a"]):
            iid = str(uuid.uuid4())
            body = {"name": name, "id": iid, "disk_format": "raw", "container_format": "bare", "visibility": "private"}
            rec.call("create" if i == 0 else "", "glance", "POST", "/v2/images", body=body, keep=i == 0)
            ids.append(iid)
            data = (name.encode() + b"\n") * (100 * (i + 1))
            rec.call(
                "upload" if i == 0 else "",
                "glance",
                "PUT",
                f"/v2/images/{iid}/file",
                content=data,
                headers={"Content-Type": "application/octet-stream"},
                keep=i == 0,
            )
            if i == 1:
                time.sleep(1.1)
        rec.call(
            "upload_wrong_type",
            "glance",
            "PUT",
            f"/v2/images/{ids[0]}/file",
            content=b"x",
            headers={"Content-Type": "text/plain"},
        )
        rec.call("show", "glance", "GET", f"/v2/images/{ids[0]}")
        download = rec.call("download", "glance", "GET", f"/v2/images/{ids[0]}/file")
        rec.records["download"]["body"] = {"length": len(download.content)}
        rec.records["download"]["headers"]["content-length"] = download.headers.get("content-length")
        rec.call("list", "glance", "GET", "/v2/images")
        rec.call("bad_marker", "glance", "GET", f"/v2/images?marker={uuid.uuid4()}")
        rec.call("bad_sort_key", "glance", "GET", "/v2/images?sort_key=nonsense")
        page = paging(rec, "glance", "/v2/images", "images", IMAGE_QUERIES)
        write(out, "glance-paging", page)
        rec.records = {k: v for k, v in rec.records.items() if not k.startswith("q:")}
        empty = str(uuid.uuid4())
        rec.call("", "glance", "POST", "/v2/images", body={"name": "empty", "id": empty}, keep=False)
        ids.append(empty)
        rec.call("download_queued", "glance", "GET", f"/v2/images/{empty}/file")
        rec.call("delete", "glance", "DELETE", f"/v2/images/{ids[0]}")
    finally:
        for iid in ids:
            rec.call("", "glance", "DELETE", f"/v2/images/{iid}", keep=False)
    write(out, "glance", rec.records)


NETWORK_QUERIES = [
    "",
    "limit=2",
    "limit=2&marker={1}",
    "sort_key=name&sort_dir=asc",
    "sort_key=name&sort_dir=desc&sort_key=id&sort_dir=asc",
    "name=net-a",
]


def neutron(rec: Recorder, out: pathlib.Path) -> None:
    rec.records = {}
    base = rec.endpoints["neutron"].rstrip("/")
    rec.call("versions", "neutron", "GET", base + "/", token=None)
    rec.call("version_v20", "neutron", "GET", base + "/v2.0", token=None)
    rec.call("no_token", "neutron", "GET", "/v2.0/networks", token=None)
    rec.call("unknown_route", "neutron", "GET", "/v2.0/no-such-thing")
    rec.call("unknown_network", "neutron", "GET", f"/v2.0/networks/{uuid.uuid4()}")
    ids = []
    try:
        for i, name in enumerate(["net-b", "net-a", "base", "net-a"]):
            created = rec.call(
                "network_create" if i == 0 else "",
                "neutron",
                "POST",
                "/v2.0/networks",
                body={"network": {"name": name}},
                keep=i == 0,
            )
            ids.append(created.json()["network"]["id"])
        rec.call("network_show", "neutron", "GET", f"/v2.0/networks/{ids[0]}")
        rec.call("networks", "neutron", "GET", "/v2.0/networks")
        rec.call("bad_marker", "neutron", "GET", f"/v2.0/networks?limit=1&marker={uuid.uuid4()}")
        page = paging(rec, "neutron", "/v2.0/networks", "networks", NETWORK_QUERIES)
        write(out, "neutron-paging", page)
        rec.records = {k: v for k, v in rec.records.items() if not k.startswith("q:")}
        port = rec.call(
            "port_create", "neutron", "POST", "/v2.0/ports", body={"port": {"network_id": ids[0], "name": "p1"}}
        )
        rec.call("ports", "neutron", "GET", "/v2.0/ports")
        rec.call("", "neutron", "DELETE", f"/v2.0/ports/{port.json()['port']['id']}", keep=False)
        rec.call("security_groups", "neutron", "GET", "/v2.0/security-groups")
        sg = rec.call(
            "security_group_create",
            "neutron",
            "POST",
            "/v2.0/security-groups",
            body={"security_group": {"name": "capture-sg", "description": "x"}},
        )
        rec.call(
            "security_group_delete", "neutron", "DELETE", f"/v2.0/security-groups/{sg.json()['security_group']['id']}"
        )
        rec.call("network_delete", "neutron", "DELETE", f"/v2.0/networks/{ids[0]}")
    finally:
        for nid in ids:
            rec.call("", "neutron", "DELETE", f"/v2.0/networks/{nid}", keep=False)
    write(out, "neutron", rec.records)


def placement(rec: Recorder, out: pathlib.Path) -> None:
    rec.records = {}
    base = rec.endpoints["placement"].rstrip("/")
    rec.call("root", "placement", "GET", base + "/", token=None)
    rec.call("no_token", "placement", "GET", "/resource_providers", token=None)
    rec.call("unknown_route", "placement", "GET", "/no-such-thing")
    providers = rec.call("resource_providers", "placement", "GET", "/resource_providers")
    rec.call(
        "resource_providers_latest",
        "placement",
        "GET",
        "/resource_providers",
        headers={"OpenStack-API-Version": "placement latest"},
    )
    rp = providers.json()["resource_providers"][0]["uuid"]
    rec.call("resource_provider", "placement", "GET", f"/resource_providers/{rp}")
    rec.call("inventories", "placement", "GET", f"/resource_providers/{rp}/inventories")
    rec.call("usages", "placement", "GET", f"/resource_providers/{rp}/usages")
    rec.call("unknown_provider", "placement", "GET", f"/resource_providers/{uuid.uuid4()}")
    write(out, "placement", rec.records)


def main(argv: list[str] | None = None) -> None:

    parser = argparse.ArgumentParser(prog="stubpods capture", description=__doc__.splitlines()[0])
    parser.add_argument("--testbed-dir", default=os.environ.get("ATOLL_TESTBED_DIR") or ".testbed")
    parser.add_argument("--region", default="Pod1")
    parser.add_argument("--out", default=str(RECORDED))
    args = parser.parse_args(argv)
    capture(pathlib.Path(args.testbed_dir), pathlib.Path(args.out), args.region)
