"""What `capture` records of Nova: version documents, servers (and their paging queries), flavors with
extra specs and tenant access, keypairs, availability zones, limits."""

from __future__ import annotations

import pathlib
import time
import uuid
from typing import Any

from stubpods.recorder import SSH_KEY, Recorder, paging, wait_status, write


def nova(demo: Recorder, admin: Recorder, info: dict[str, Any], out: pathlib.Path) -> None:
    demo.records = {}
    root = demo.endpoints["nova"].rsplit("/v2.1", 1)[0]
    demo.call("versions", "nova", "GET", root + "/", token=None)
    demo.call("version_v21", "nova", "GET", root + "/v2.1/", token=None)
    demo.call("version_v21_noslash", "nova", "GET", root + "/v2.1", token=None)
    demo.call("no_token", "nova", "GET", "/servers", token=None)
    demo.call("bad_token", "nova", "GET", "/servers", token="gAAAAAnot-a-token")
    demo.call("unknown_route", "nova", "GET", "/no-such-thing")
    demo.call("unknown_server", "nova", "GET", f"/servers/{uuid.uuid4()}")
    demo.call("microversion_too_high", "nova", "GET", "/servers", headers={"OpenStack-API-Version": "compute 9.99"})
    demo.call("servers_empty", "nova", "GET", "/servers")
    net = demo.call("", "neutron", "POST", "/v2.0/networks", body={"network": {"name": "capture-net"}}, keep=False)
    net_id = net.json()["network"]["id"]
    demo.call(
        "",
        "neutron",
        "POST",
        "/v2.0/subnets",
        body={"subnet": {"network_id": net_id, "cidr": "10.77.0.0/24", "ip_version": 4}},
        keep=False,
    )
    names = ["web-b", "web-a", "db", "web-a"]
    ids = []
    try:
        for i, name in enumerate(names):
            body = {
                "server": {
                    "name": name,
                    "flavorRef": info["flavor"]["id"],
                    "imageRef": info["image"]["id"],
                    "networks": [{"uuid": net_id}],
                }
            }
            created = demo.call("create" if i == 0 else "", "nova", "POST", "/servers", body=body, keep=i == 0)
            ids.append(created.json()["server"]["id"])
            if i == 1:
                time.sleep(1.1)  # two servers share a second of created_at, the others do not
        for sid in ids:
            wait_status(demo, "nova", f"/servers/{sid}", "server", ("ACTIVE", "ERROR"))
        demo.call("create_response_headers_only", "nova", "GET", f"/servers/{ids[0]}")
        demo.records["show"] = demo.records.pop("create_response_headers_only")
        latest = {"OpenStack-API-Version": "compute latest"}
        demo.call("show_latest", "nova", "GET", f"/servers/{ids[0]}", headers=latest)
        demo.call(
            "show_legacy_header", "nova", "GET", f"/servers/{ids[0]}", headers={"X-OpenStack-Nova-API-Version": "2.47"}
        )
        demo.call("list", "nova", "GET", "/servers")
        demo.call("detail", "nova", "GET", "/servers/detail")
        demo.call("detail_latest", "nova", "GET", "/servers/detail", headers=latest)
        demo.call("bad_marker", "nova", "GET", f"/servers?marker={uuid.uuid4()}")
        demo.call("bad_sort_key", "nova", "GET", "/servers?sort_key=nonsense")
        write(out, "nova-paging", paging(demo, "nova", "/servers/detail", "servers", SERVER_QUERIES))
        demo.records = {k: v for k, v in demo.records.items() if not k.startswith("q:")}
        admin.records = {}
        flavors_and_keypairs(demo, admin)
        demo.records.update(admin.records)
        demo.call("availability_zones", "nova", "GET", "/os-availability-zone")
        demo.call("limits", "nova", "GET", "/limits")
        demo.call("delete", "nova", "DELETE", f"/servers/{ids[0]}")
    finally:
        for sid in ids:
            demo.call("", "nova", "DELETE", f"/servers/{sid}", keep=False)
        for sid in ids:
            wait_status(demo, "nova", f"/servers/{sid}", "server", (None,))
        demo.call("", "neutron", "DELETE", f"/v2.0/networks/{net_id}", keep=False)
    write(out, "nova", demo.records)


SERVER_QUERIES = [
    "",
    "limit=2",
    "limit=2&marker={2}",
    "limit=1&marker={3}",
    "sort_key=name",
    "sort_key=name&sort_dir=asc",
    "sort_key=name&sort_dir=asc&sort_key=created_at&sort_dir=asc",
    "sort_key=display_name&sort_dir=asc&limit=2&marker={1}",
    "sort_key=created_at&sort_dir=asc",
    "sort_key=id&sort_dir=asc",
    "sort_key=name&sort_dir=desc&limit=3",
    "name=web",
    "name=web-a&sort_key=id",
]


def flavors_and_keypairs(demo: Recorder, admin: Recorder) -> None:
    fid = f"capture-{uuid.uuid4().hex[:8]}"
    body = {
        "flavor": {
            "name": f"cap.{fid}",
            "ram": 256,
            "vcpus": 1,
            "disk": 1,
            "id": fid,
            "os-flavor-access:is_public": False,
        }
    }
    admin.call("flavor_create", "nova", "POST", "/flavors", body=body)
    try:
        admin.call("flavor_show", "nova", "GET", f"/flavors/{fid}")
        admin.call(
            "flavor_show_latest", "nova", "GET", f"/flavors/{fid}", headers={"OpenStack-API-Version": "compute latest"}
        )
        admin.call("flavor_list", "nova", "GET", "/flavors")
        admin.call("flavor_detail", "nova", "GET", "/flavors/detail")
        admin.call("flavor_create_duplicate", "nova", "POST", "/flavors", body=body)
        admin.call("flavor_create_member", "nova", "POST", "/flavors", body=body, token=demo.token)
        admin.call(
            "extra_specs_create",
            "nova",
            "POST",
            f"/flavors/{fid}/os-extra_specs",
            body={"extra_specs": {"hw:cpu_policy": "shared", "trait:CUSTOM_X": "required"}},
        )
        admin.call("extra_specs_list", "nova", "GET", f"/flavors/{fid}/os-extra_specs")
        admin.call("extra_spec_show", "nova", "GET", f"/flavors/{fid}/os-extra_specs/hw:cpu_policy")
        admin.call(
            "extra_spec_update",
            "nova",
            "PUT",
            f"/flavors/{fid}/os-extra_specs/hw:cpu_policy",
            body={"hw:cpu_policy": "dedicated"},
        )
        admin.call("extra_spec_delete", "nova", "DELETE", f"/flavors/{fid}/os-extra_specs/hw:cpu_policy")
        admin.call("extra_spec_missing", "nova", "GET", f"/flavors/{fid}/os-extra_specs/hw:cpu_policy")
        project = "0123456789abcdef0123456789abcdef"
        admin.call(
            "access_add", "nova", "POST", f"/flavors/{fid}/action", body={"addTenantAccess": {"tenant": project}}
        )
        admin.call("access_list", "nova", "GET", f"/flavors/{fid}/os-flavor-access")
        admin.call(
            "access_add_again", "nova", "POST", f"/flavors/{fid}/action", body={"addTenantAccess": {"tenant": project}}
        )
        admin.call(
            "access_remove", "nova", "POST", f"/flavors/{fid}/action", body={"removeTenantAccess": {"tenant": project}}
        )
        admin.call(
            "access_remove_again",
            "nova",
            "POST",
            f"/flavors/{fid}/action",
            body={"removeTenantAccess": {"tenant": project}},
        )
        admin.call("flavor_delete", "nova", "DELETE", f"/flavors/{fid}")
    finally:
        admin.call("", "nova", "DELETE", f"/flavors/{fid}", keep=False)
    admin.call("flavor_unknown", "nova", "GET", f"/flavors/{fid}")
    name = f"capture-{uuid.uuid4().hex[:6]}"
    demo.call("keypair_create", "nova", "POST", "/os-keypairs", body={"keypair": {"name": name, "public_key": SSH_KEY}})
    try:
        demo.call(
            "keypair_create_latest",
            "nova",
            "POST",
            "/os-keypairs",
            body={"keypair": {"name": name + "-2", "public_key": SSH_KEY}},
            headers={"OpenStack-API-Version": "compute latest"},
        )
        demo.call("keypair_show", "nova", "GET", f"/os-keypairs/{name}")
        demo.call("keypair_list", "nova", "GET", "/os-keypairs")
        demo.call(
            "keypair_list_latest", "nova", "GET", "/os-keypairs", headers={"OpenStack-API-Version": "compute latest"}
        )
        demo.call(
            "keypair_duplicate", "nova", "POST", "/os-keypairs", body={"keypair": {"name": name, "public_key": SSH_KEY}}
        )
        demo.call("keypair_delete", "nova", "DELETE", f"/os-keypairs/{name}")
    finally:
        demo.call("", "nova", "DELETE", f"/os-keypairs/{name}", keep=False)
        demo.call("", "nova", "DELETE", f"/os-keypairs/{name}-2", keep=False)
    demo.call("keypair_unknown", "nova", "GET", f"/os-keypairs/{name}")
