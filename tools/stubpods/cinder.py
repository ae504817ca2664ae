"""Stub Cinder (block storage v3): version documents, volumes and volume types.

Routes answer with or without the project id in the path, as Cinder does.
"""

from __future__ import annotations

import functools
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from stubpods import faults, microversions, paging
from stubpods.microversions import Version, VersionError
from stubpods.seeds import volume_record
from stubpods.store import now
from stubpods.web import PUBLIC, REQUEST_ID, claims_of, pod_of, root_url

MAX_LIMIT = 1000
SORT_COLUMNS = {"name": "display_name", "description": "display_description"}
SORTABLE = {"id", "created_at", "updated_at", "display_name", "display_description", "status", "size",
            "availability_zone", "bootable", "user_id", "project_id", "volume_type", "host", "multiattach"}  # fmt: skip
FILTERS = {"name", "status", "availability_zone", "metadata", "bootable", "migration_status", "group_id",
           "created_at", "updated_at", "volume_type", "all_tenants", "project_id", "user_id"}  # fmt: skip
PAGING = {"limit", "marker", "offset", "sort", "sort_key", "sort_dir", "with_count"}


class CinderError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


CinderHandler = Callable[[web.Request, Version], Awaitable[web.StreamResponse]]


def handler(fn: CinderHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    @functools.wraps(fn)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            version = microversions.negotiate(request, "volume", pod_of(request).config.volume_versions)
        except VersionError as error:
            response = faults.cinder(error.status, error.message)
            response.headers["OpenStack-API-Version"] = f"volume {microversions.requested(request, 'volume')}"
            response.headers["Vary"] = "OpenStack-API-Version"
            response.headers["x-compute-request-id"] = request[REQUEST_ID]
            return response
        try:
            result = await fn(request, version)
        except CinderError as error:
            result = faults.cinder(error.status, error.message)
        microversions.stamp(result, "volume", version)
        if result.status != 202 or result.content_type == "application/json":
            result.headers["x-compute-request-id"] = request[REQUEST_ID]  # Cinder's API sends both ids
        return result

    return wrapped


def _since(version: Version, text: str) -> bool:
    return version >= microversions.parse(text)


def _project_path(request: web.Request) -> str:
    return request.match_info.get("project_id") or claims_of(request).project.id


# -- versions -------------------------------------------------------------------------------------
def _versions(request: web.Request) -> dict[str, Any]:
    versions = pod_of(request).config.volume_versions
    doc = {
        "id": "v3.0",
        "links": [
            {"href": "https://docs.openstack.org/", "rel": "describedby", "type": "text/html"},
            {"href": f"{root_url(request)}/v3/", "rel": "self"},
        ],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}],
        "min_version": versions.min,
        "status": "CURRENT",
        "updated": "2023-08-31T00:00:00Z",
        "version": versions.max,
    }
    return {"versions": [doc]}


@handler
async def versions_root(request: web.Request, _: Version) -> web.Response:
    return faults.json_response(300, _versions(request))


@handler
async def versions_v3(request: web.Request, _: Version) -> web.Response:
    return faults.json_response(200, _versions(request))


# -- volumes --------------------------------------------------------------------------------------
def _links(request: web.Request, volume_id: str) -> list[dict[str, str]]:
    root, project = root_url(request), _project_path(request)
    return [
        {"href": f"{root}/v3/{project}/volumes/{volume_id}", "rel": "self"},
        {"href": f"{root}/{project}/volumes/{volume_id}", "rel": "bookmark"},
    ]


def detail_view(
    request: web.Request, volume: dict[str, Any], version: Version, *, tenant: bool = True
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "attachments": volume["attachments"],
        "availability_zone": volume["availability_zone"],
        "bootable": volume["bootable"],
        "consistencygroup_id": volume["consistencygroup_id"],
        "created_at": volume["created_at"],
        "description": volume["display_description"],
        "encrypted": volume["encrypted"],
        "id": volume["id"],
        "links": _links(request, volume["id"]),
        "metadata": volume["metadata"],
        "multiattach": volume["multiattach"],
        "name": volume["display_name"],
        "replication_status": volume["replication_status"],
        "size": volume["size"],
        "snapshot_id": volume["snapshot_id"],
        "source_volid": volume["source_volid"],
        "status": volume["status"],
        "updated_at": volume["updated_at"],
        "user_id": volume["user_id"],
        "volume_type": volume["volume_type"],
    }
    if tenant:
        view["os-vol-tenant-attr:tenant_id"] = volume["project_id"]
    state = pod_of(request).state
    type_id = next((t["id"] for t in state.volume_types.values() if t["name"] == volume["volume_type"]), None)
    optional = (
        ("3.13", "group_id", volume["group_id"]),
        ("3.48", "service_uuid", volume["service_uuid"]),
        ("3.48", "shared_targets", volume["shared_targets"]),
        ("3.63", "volume_type_id", type_id),
        ("3.65", "consumes_quota", volume["consumes_quota"]),
    )
    for since, key, value in optional:
        if _since(version, since):
            view[key] = value
    return dict(sorted(view.items()))


def _sort_keys(request: web.Request) -> list[paging.SortKey]:
    keys: list[str] = []
    dirs: list[str] = []
    if "sort" in request.query:
        for part in request.query["sort"].split(","):
            key, _, direction = part.strip().partition(":")
            keys.append(key)
            if direction:
                dirs.append(direction)
    else:
        keys = request.query.getall("sort_key", [])[:1]
        dirs = request.query.getall("sort_dir", [])[:1]
    columns = [SORT_COLUMNS.get(k, k) for k in keys]
    if any(c not in SORTABLE for c in columns):
        raise CinderError(400, "Invalid input received: Invalid sort key")
    try:
        return paging.with_defaults(columns, dirs, ("created_at", "id"), "desc")
    except ValueError as error:
        raise CinderError(400, f"Invalid input received: {error}") from None


def _visible(request: web.Request, version: Version) -> list[dict[str, Any]]:
    claims = claims_of(request)
    all_tenants = claims.is_admin and "all_tenants" in request.query
    volumes = [v for v in pod_of(request).state.volumes.values() if all_tenants or v["project_id"] == claims.project.id]
    unknown = sorted(set(request.query) - FILTERS - PAGING)
    if unknown and _since(version, "3.31"):
        raise CinderError(
            400, f"Invalid input received: Invalid filters {','.join(unknown)} are found in query options."
        )
    for name, column in (("name", "display_name"), ("status", "status"), ("availability_zone", "availability_zone")):
        if name in request.query:
            volumes = [v for v in volumes if v[column] == request.query[name]]
    return volumes


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit")
    try:
        value = MAX_LIMIT if raw is None else int(raw)
    except ValueError:
        raise CinderError(400, "Invalid input received: limit param must be an integer") from None
    if value < 0:
        raise CinderError(400, "Invalid input received: limit param must be positive")
    return min(value, MAX_LIMIT)


async def _list(request: web.Request, version: Version, *, detail: bool) -> web.Response:
    visible = _visible(request, version)
    limit = _limit(request)
    marker = None
    if "marker" in request.query:
        marker = next((v for v in visible if v["id"] == request.query["marker"]), None)
        if marker is None:
            raise CinderError(404, f"Volume {request.query['marker']} could not be found.")
    items = paging.page(visible, _sort_keys(request), limit=limit, marker=marker)
    if detail:
        body = [detail_view(request, dict(v), version) for v in items]
    else:
        body = [{"id": v["id"], "links": _links(request, v["id"]), "name": v["display_name"]} for v in items]
    result: dict[str, Any] = {"volumes": body}
    if items and len(items) == limit:
        params = [(k, v) for k, v in request.query.items() if k != "marker"] + [("marker", items[-1]["id"])]
        collection = "volumes/detail" if detail else "volumes"
        href = f"{root_url(request)}/v3/{_project_path(request)}/{collection}?{urllib.parse.urlencode(params)}"
        result["volumes_links"] = [{"href": href, "rel": "next"}]
    return faults.json_response(200, result)


@handler
async def list_volumes(request: web.Request, version: Version) -> web.Response:
    return await _list(request, version, detail=False)


@handler
async def list_volumes_detail(request: web.Request, version: Version) -> web.Response:
    return await _list(request, version, detail=True)


def _volume(request: web.Request) -> dict[str, Any]:
    volume_id = request.match_info["volume_id"]
    volume = pod_of(request).state.volumes.get(volume_id)
    claims = claims_of(request)
    if volume is None or not (claims.is_admin or volume["project_id"] == claims.project.id):
        raise CinderError(404, f"Volume {volume_id} could not be found.")
    return volume


@handler
async def show_volume(request: web.Request, version: Version) -> web.Response:
    return faults.json_response(200, {"volume": detail_view(request, _volume(request), version)})


@handler
async def create_volume(request: web.Request, version: Version) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        raise CinderError(400, "Invalid input received: Malformed request body") from None
    spec = body.get("volume") if isinstance(body, dict) else None
    if not isinstance(spec, dict):
        raise CinderError(400, "Invalid input for field/attribute volume. 'volume' is a required property")
    size = spec.get("size")
    if isinstance(size, bool) or not isinstance(size, int | str) or not str(size).isdigit() or int(size) < 1:
        raise CinderError(400, f"Invalid input for field/attribute size. Value: {size}.")
    state = pod_of(request).state
    type_name = spec.get("volume_type") or "__DEFAULT__"
    if not any(type_name in (t["name"], t["id"]) for t in state.volume_types.values()):
        raise CinderError(404, f"Volume type with name {type_name} could not be found.")
    claims = claims_of(request)
    stamp = now().strftime("%Y-%m-%dT%H:%M:%S.%f")
    volume_id = str(uuid.uuid4())
    record = volume_record(volume_id, spec.get("name"), int(size), claims.project.id, claims.user.id, stamp, state)
    record.update(
        display_description=spec.get("description"),
        metadata=dict(spec.get("metadata") or {}),
        availability_zone=spec.get("availability_zone") or state.az,
        created_at=stamp,
        updated_at=stamp,
    )
    state.volumes[volume_id] = record
    view = detail_view(request, record, version, tenant=False)
    view.update(status="creating", updated_at=None)  # what Cinder answers; the stub's volume is available at once
    return faults.json_response(202, {"volume": view})


@handler
async def delete_volume(request: web.Request, version: Version) -> web.Response:
    del pod_of(request).state.volumes[_volume(request)["id"]]
    response = web.Response(status=202)
    response.headers["Content-Type"] = "text/html; charset=UTF-8"
    return response


# -- volume types ---------------------------------------------------------------------------------
@handler
async def list_types(request: web.Request, version: Version) -> web.Response:
    types = sorted(pod_of(request).state.volume_types.values(), key=lambda t: t["name"])
    return faults.json_response(200, {"volume_types": [dict(sorted(t.items())) for t in types]})


@handler
async def show_type(request: web.Request, version: Version) -> web.Response:
    type_id = request.match_info["type_id"]
    found = pod_of(request).state.volume_types.get(type_id)
    if found is None:
        raise CinderError(404, f"Volume type {type_id} could not be found.")
    return faults.json_response(200, {"volume_type": dict(sorted(found.items()))})


def routes() -> list[web.RouteDef]:
    result = [
        web.get("/volume", versions_root, name=PUBLIC + "cinder-versions-bare"),
        web.get("/volume/", versions_root, name=PUBLIC + "cinder-versions"),
        web.get("/volume/v3", versions_v3),
        web.get("/volume/v3/", versions_v3),
    ]
    for base in ("/volume/v3/{project_id:[0-9a-f]{32}}", "/volume/v3"):
        result += [
            web.get(base + "/volumes", list_volumes),
            web.post(base + "/volumes", create_volume),
            web.get(base + "/volumes/detail", list_volumes_detail),
            web.get(base + "/volumes/{volume_id}", show_volume),
            web.delete(base + "/volumes/{volume_id}", delete_volume),
            web.get(base + "/types", list_types),
            web.get(base + "/types/{type_id}", show_type),
        ]
    return result
