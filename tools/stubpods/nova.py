"""Stub Nova: version documents and servers (list, detail, show, create, delete).

Flavors, keypairs, availability zones and limits are in nova_extras.py.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from typing import Any

from aiohttp import web

from stubpods import microversions, nova_extras, paging
from stubpods.identity import Claims
from stubpods.microversions import Version
from stubpods.novaapi import NovaError, bookmark, empty, handler, limit_of, links, next_links, ok, page
from stubpods.seeds import server_record
from stubpods.store import iso, now
from stubpods.web import NO_REQUEST_ID, PUBLIC, claims_of, pod_of, root_url

IGNORED_SORT_KEYS_LISTED = [  # valid for Nova's schema, but dropped; listed last in its 400 message
    "architecture",
    "cell_name",
    "cleaned",
    "default_ephemeral_device",
    "default_swap_device",
    "deleted",
    "deleted_at",
    "disable_terminate",
    "ephemeral_gb",
    "ephemeral_key_uuid",
    "id",
    "key_data",
    "launched_on",
    "locked",
    "memory_mb",
    "os_type",
    "reservation_id",
    "root_gb",
    "shutdown_terminate",
    "user_data",
    "vcpus",
    "vm_mode",
]
VALID_SORT_KEYS = [  # in the order Nova's 400 message lists them
    "access_ip_v4",
    "access_ip_v6",
    "auto_disk_config",
    "availability_zone",
    "config_drive",
    "created_at",
    "display_description",
    "display_name",
    "host",
    "hostname",
    "image_ref",
    "instance_type_id",
    "kernel_id",
    "key_name",
    "launch_index",
    "launched_at",
    "locked_by",
    "node",
    "power_state",
    "progress",
    "project_id",
    "ramdisk_id",
    "root_device_name",
    "task_state",
    "terminated_at",
    "updated_at",
    "user_id",
    "uuid",
    "vm_state",
    *IGNORED_SORT_KEYS_LISTED,
]
IGNORED_SORT_KEYS = set(IGNORED_SORT_KEYS_LISTED)
SORT_COLUMNS = {"display_name": "display_name", "uuid": "id", "display_description": "description"}
"""API sort key -> the record's field, where they differ."""
CREATE_FIELDS = {
    "name", "imageRef", "flavorRef", "networks", "metadata", "key_name", "availability_zone", "security_groups",
    "user_data", "adminPass", "accessIPv4", "accessIPv6", "config_drive", "block_device_mapping_v2",
    "min_count", "max_count", "return_reservation_id", "description", "tags", "personality", "OS-DCF:diskConfig",
    "trusted_image_certificates", "host", "hypervisor_hostname", "hostname",
}  # fmt: skip


def _since(version: Version, text: str) -> bool:
    return version >= microversions.parse(text)


# -- version documents ----------------------------------------------------------------------------
def _v21(request: web.Request) -> dict[str, Any]:
    versions = pod_of(request).config.compute_versions
    return {
        "id": "v2.1",
        "links": [{"href": f"{root_url(request)}/v2.1/", "rel": "self"}],
        "min_version": versions.min,
        "status": "CURRENT",
        "updated": "2013-07-23T11:33:21Z",
        "version": versions.max,
    }


async def versions(request: web.Request) -> web.Response:
    v20 = {
        "id": "v2.0",
        "links": [{"href": f"{root_url(request)}/v2/", "rel": "self"}],
        "min_version": "",
        "status": "DEPRECATED",
        "updated": "2025-07-04T12:00:00Z",
        "version": "",
    }
    return ok({"versions": [v20, _v21(request)]})


@handler
async def version(request: web.Request, _: Version) -> web.Response:
    doc = _v21(request)
    doc["links"].append({"href": "http://docs.openstack.org/", "rel": "describedby", "type": "text/html"})
    doc["media-types"] = [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}]
    return ok({"version": dict(sorted(doc.items()))})


# -- views ----------------------------------------------------------------------------------------
def _flavor(request: web.Request, server: dict[str, Any], version: Version) -> dict[str, Any]:
    if not _since(version, "2.47"):
        return {"id": server["flavor_id"], "links": bookmark(request, "flavors", server["flavor_id"])}
    flavor = pod_of(request).state.flavors.get(server["flavor_id"], {})
    return {
        "disk": flavor.get("disk", 0),
        "ephemeral": flavor.get("ephemeral", 0),
        "extra_specs": dict(flavor.get("extra_specs", {})),
        "original_name": flavor.get("name", ""),
        "ram": flavor.get("ram", 0),
        "swap": flavor.get("swap", 0),
        "vcpus": flavor.get("vcpus", 0),
    }


def detail_view(request: web.Request, server: dict[str, Any], version: Version, *, show: bool) -> dict[str, Any]:
    image: dict[str, Any] = {"id": server["image_id"], "links": bookmark(request, "images", server["image_id"])}
    if _since(version, "2.98"):
        image["properties"] = {}
    host_id = hashlib.sha224((server["project_id"] + server["host"]).encode()).hexdigest()
    view: dict[str, Any] = {
        "OS-DCF:diskConfig": "MANUAL",
        "OS-EXT-AZ:availability_zone": server["availability_zone"],
        "OS-EXT-STS:power_state": server["power_state"],
        "OS-EXT-STS:task_state": server["task_state"],
        "OS-EXT-STS:vm_state": server["vm_state"],
        "OS-SRV-USG:launched_at": server["launched_at"],
        "OS-SRV-USG:terminated_at": None,
        "accessIPv4": "",
        "accessIPv6": "",
        "addresses": server["addresses"],
        "config_drive": server["config_drive"],
        "created": server["created_at"],
        "flavor": _flavor(request, server, version),
        "hostId": host_id,
        "id": server["id"],
        "image": image,
        "key_name": server["key_name"],
        "links": links(request, "servers", server["id"]),
        "metadata": server["metadata"],
        "name": server["display_name"],
        "os-extended-volumes:volumes_attached": [],
        "progress": 0,
        "security_groups": [{"name": name} for name in server["security_groups"]],
        "status": server["status"],
        "tenant_id": server["project_id"],
        "updated": server["updated_at"],
        "user_id": server["user_id"],
    }
    optional = (
        ("2.9", "locked", server["locked"]),
        ("2.19", "description", server["description"]),
        ("2.26", "tags", list(server["tags"])),
        ("2.63", "trusted_image_certificates", None),
        ("2.73", "locked_reason", server["locked_reason"]),
        ("2.90", "OS-EXT-SRV-ATTR:hostname", server["hostname"]),
        ("2.96", "pinned_availability_zone", server["pinned_availability_zone"]),
        ("2.100", "scheduler_hints", server["scheduler_hints"]),
    )
    for since, key, value in optional:
        if _since(version, since):
            view[key] = value
    if show and _since(version, "2.71"):
        view["server_groups"] = []
    return dict(sorted(view.items()))


# -- list -----------------------------------------------------------------------------------------
def _visible(request: web.Request, claims: Claims) -> list[dict[str, Any]]:
    servers = pod_of(request).state.servers.values()
    all_tenants = claims.is_admin and "all_tenants" in request.query
    return [s for s in servers if all_tenants or s["project_id"] == claims.project.id]


def _sort_keys(request: web.Request, version: Version) -> list[paging.SortKey]:
    keys = request.query.getall("sort_key", [])
    dirs = request.query.getall("sort_dir", [])
    for key in keys:
        if key not in VALID_SORT_KEYS:
            raise NovaError(
                400,
                f"Invalid input for query parameters sort_key. Value: {key}. '{key}' is not one of {VALID_SORT_KEYS}",
            )
    ignored = IGNORED_SORT_KEYS - ({"locked"} if _since(version, "2.73") else set())
    kept = [(i, k) for i, k in enumerate(keys) if k not in ignored and k not in ("host", "node")]
    keys = [k for _, k in kept]
    dirs = [dirs[i] for i, _ in kept if i < len(dirs)]
    try:
        sort = paging.with_defaults(keys, dirs, ("created_at", "id"), "desc")
    except ValueError as error:
        raise NovaError(400, str(error)) from None
    return [paging.SortKey(SORT_COLUMNS.get(k.key, k.key), k.desc) for k in sort]


def _filtered(request: web.Request, servers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    name = request.query.get("name")
    status = request.query.get("status")
    if name is not None:
        pattern = re.compile(name)
        servers = [s for s in servers if pattern.search(s["display_name"] or "")]
    if status is not None:
        servers = [s for s in servers if s["status"] == status.upper()]
    return servers


async def _list(request: web.Request, version: Version, *, detail: bool) -> web.Response:
    claims = claims_of(request)
    visible = _visible(request, claims)
    limit = limit_of(request)
    by_id = {s["id"]: s for s in visible}
    items = page(request, _filtered(request, visible), _sort_keys(request, version), limit, by_id.get)
    if detail:
        body = [detail_view(request, s, version, show=False) for s in items]
    else:
        body = [{"id": s["id"], "links": links(request, "servers", s["id"]), "name": s["display_name"]} for s in items]
    collection = "servers/detail" if detail else "servers"
    return ok({"servers": body, **next_links(request, collection, "servers", items, limit)})


@handler
async def list_servers(request: web.Request, version: Version) -> web.Response:
    return await _list(request, version, detail=False)


@handler
async def list_servers_detail(request: web.Request, version: Version) -> web.Response:
    return await _list(request, version, detail=True)


def _find(request: web.Request) -> dict[str, Any]:
    server_id = request.match_info["server_id"]
    server = pod_of(request).state.servers.get(server_id)
    claims = claims_of(request)
    if server is None or not (claims.is_admin or server["project_id"] == claims.project.id):
        raise NovaError(404, f"Instance {server_id} could not be found.")
    return server


@handler
async def show_server(request: web.Request, version: Version) -> web.Response:
    return ok({"server": detail_view(request, _find(request), version, show=True)})


@handler
async def delete_server(request: web.Request, version: Version) -> web.Response:
    server = _find(request)
    del pod_of(request).state.servers[server["id"]]
    return empty(204)


# -- create ---------------------------------------------------------------------------------------
async def _body(request: web.Request, key: str) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise NovaError(400, "Malformed request body") from None
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise NovaError(400, f"Invalid input for field/attribute {key}. Value: {body}. '{key}' is a required property")
    result: dict[str, Any] = body[key]
    return result


@handler
async def create_server(request: web.Request, version: Version) -> web.Response:
    spec = await _body(request, "server")
    unknown = sorted(set(spec) - CREATE_FIELDS)
    if unknown:
        raise NovaError(
            400,
            f"Invalid input for field/attribute server. Value: {spec}. Additional properties are not allowed "
            f"({', '.join(repr(u) for u in unknown)} {'was' if len(unknown) == 1 else 'were'} unexpected)",
        )
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise NovaError(400, f"Invalid input for field/attribute name. Value: {name}.")
    state = pod_of(request).state
    flavor_ref = str(spec.get("flavorRef", "")).rsplit("/", 1)[-1]
    if flavor_ref not in state.flavors:
        raise NovaError(400, f"Flavor {flavor_ref} could not be found.")
    image_ref = str(spec.get("imageRef", "")).rsplit("/", 1)[-1]
    if image_ref and image_ref not in state.images:
        raise NovaError(400, f"Image {image_ref} could not be found.")
    claims = claims_of(request)
    key_name = spec.get("key_name")
    if key_name is not None and (claims.user.id, key_name) not in state.keypairs:
        raise NovaError(400, "Invalid key_name provided.")
    server_id = str(uuid.uuid4())
    record = server_record(server_id, name, claims.project.id, claims.user.id, iso(now()), state, image_ref)
    record.update(
        flavor_id=flavor_ref,
        key_name=key_name,
        metadata=dict(spec.get("metadata") or {}),
        description=spec.get("description") if _since(version, "2.19") else name,
        availability_zone=spec.get("availability_zone") or state.az,
    )
    state.servers[server_id] = record
    body: dict[str, Any] = {
        "OS-DCF:diskConfig": "MANUAL",
        "adminPass": spec.get("adminPass") or secrets.token_urlsafe(9)[:12],
        "id": server_id,
        "links": links(request, "servers", server_id),
        "security_groups": [{"name": "default"}],
    }
    response = ok({"server": body}, 202)
    response.headers["Location"] = body["links"][0]["href"]
    return response


def routes() -> list[web.RouteDef]:
    base = "/compute/v2.1"
    return [
        web.get("/compute", versions, name=NO_REQUEST_ID + "nova-versions-bare"),
        web.get("/compute/", versions, name=NO_REQUEST_ID + "nova-versions"),
        web.get(base, version, name=PUBLIC + "nova-version-bare"),
        web.get(base + "/", version, name=PUBLIC + "nova-version"),
        web.get(base + "/servers", list_servers),
        web.post(base + "/servers", create_server),
        web.get(base + "/servers/detail", list_servers_detail),
        web.get(base + "/servers/{server_id}", show_server),
        web.delete(base + "/servers/{server_id}", delete_server),
        *nova_extras.routes(base),
    ]
