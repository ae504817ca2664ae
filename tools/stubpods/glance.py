"""Stub Glance (image v2): version documents, images (list, show, create with a given id, delete)
and image data (`PUT /file` streamed to a file while hashed, `GET /file` streamed back with Glance's
checksum header). Errors are webob's pages, as Glance's are."""

from __future__ import annotations

import hashlib
import os
import urllib.parse
import uuid
from typing import Any

from aiohttp import web

from stubpods import faults, paging
from stubpods.seeds import image_record
from stubpods.store import ImageData, iso, now
from stubpods.web import DATA_DIR, NO_REQUEST_ID, claims_of, pod_of, root_url

CURRENT = 18
SORTABLE = ("name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at")
READ_ONLY = {"created_at", "updated_at", "status", "checksum", "os_hash_algo", "os_hash_value", "size",
             "virtual_size", "direct_url", "self", "file", "schema", "stores"}  # fmt: skip
BASE_FIELDS = {"name", "id", "visibility", "disk_format", "container_format", "min_disk", "min_ram", "protected",
               "tags", "os_hidden"}  # fmt: skip
DISK_FORMATS = {"ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"}
CONTAINER_FORMATS = {"ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"}
VISIBILITIES = {"public", "private", "shared", "community"}
CHUNK = 256 * 1024


class GlanceError(Exception):
    def __init__(self, status: int, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail


def _handle(fn: Any) -> Any:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            result: web.StreamResponse = await fn(request)
        except GlanceError as error:
            return faults.webob(error.status, error.message, request, error.detail)
        return result

    wrapped.__name__ = fn.__name__
    return wrapped


# -- versions -------------------------------------------------------------------------------------
def _versions(request: web.Request) -> dict[str, Any]:
    href = f"{root_url(request)}/v2/"
    docs = []
    for minor in range(CURRENT, -1, -1):
        status = "CURRENT" if minor == CURRENT else "SUPPORTED"
        docs.append({"id": f"v2.{minor}", "links": [{"href": href, "rel": "self"}], "status": status})
    return {"versions": docs}


async def versions_root(request: web.Request) -> web.Response:
    return faults.json_response(300, _versions(request))


async def versions(request: web.Request) -> web.Response:
    return faults.json_response(200, _versions(request))


# -- images ---------------------------------------------------------------------------------------
def view(image: dict[str, Any]) -> dict[str, Any]:
    result = {k: v for k, v in image.items() if k != "properties"}
    result.update(image["properties"])
    result["file"] = f"/v2/images/{image['id']}/file"
    result["self"] = f"/v2/images/{image['id']}"
    result["schema"] = "/v2/schemas/image"
    if image["status"] == "active":
        result["stores"] = "fs"
    return dict(sorted(result.items()))


def _visible(request: web.Request) -> list[dict[str, Any]]:
    claims = claims_of(request)
    images = pod_of(request).state.images.values()
    if claims.is_admin:
        return list(images)
    return [i for i in images if i["visibility"] == "public" or i["owner"] == claims.project.id]


def _sort_keys(request: web.Request) -> list[paging.SortKey]:
    keys: list[str] = []
    dirs: list[str] = []
    if "sort" in request.query:
        for part in request.query["sort"].split(","):
            key, _, direction = part.strip().partition(":")
            keys.append(key)
            dirs.append(direction or "desc")
    else:
        keys = request.query.getall("sort_key", [])
        dirs = request.query.getall("sort_dir", [])
    for key in keys:
        if key not in SORTABLE:
            raise GlanceError(400, f"Invalid sort key: {key}. It must be one of the following: {', '.join(SORTABLE)}.")
    for direction in dirs:
        if direction not in ("asc", "desc"):
            raise GlanceError(400, f"Invalid sort direction: {direction}")
    keys = keys or ["created_at"]
    default = "desc"
    if not dirs:
        dirs = ["desc"] * len(keys)
    elif len(dirs) == 1:
        default = dirs[0]
        dirs = dirs * len(keys)
    elif len(dirs) != len(keys):
        raise GlanceError(400, "Number of sort dirs does not match the number of sort keys")
    for key in ("created_at", "id"):
        if key not in keys:
            keys.append(key)
            dirs.append(default)
    return [paging.SortKey(k, d == "desc") for k, d in zip(keys, dirs, strict=True)]


IN_FILTERS = frozenset({"id", "name", "status", "container_format", "disk_format"})
"""The filters Glance reads `in:a,b` for (its db API's `_make_conditions_from_filters`; quoted values
with commas are not needed here)."""


def _filtered(request: web.Request, images: list[dict[str, Any]]) -> list[dict[str, Any]]:
    skip = {"limit", "marker", "sort", "sort_key", "sort_dir", "member_status"}
    for key, value in request.query.items():
        if key in skip:
            continue
        if key in ("name", "status", "visibility", "owner", "disk_format", "container_format", "id"):
            if key == "visibility" and value == "all":
                continue
            if key in IN_FILTERS and value.startswith("in:"):  # Glance's `in` operator: any of the values
                wanted = set(value[3:].split(","))
                images = [i for i in images if str(i.get(key)) in wanted]
                continue
            images = [i for i in images if str(i.get(key)) == value]
        else:
            images = [i for i in images if str(i["properties"].get(key)) == value]
    return images


@_handle
async def list_images(request: web.Request) -> web.Response:
    raw = request.query.get("limit", "25")
    try:
        limit = int(raw)
    except ValueError:
        raise GlanceError(400, "limit param must be an integer") from None
    if limit < 0:
        raise GlanceError(400, "limit param must be positive")
    limit = min(limit, 1000)
    visible = _visible(request)
    marker = None
    if "marker" in request.query:
        marker = next((i for i in visible if i["id"] == request.query["marker"]), None)
        if marker is None:
            raise GlanceError(400, f"No image found with ID {request.query['marker']}")
    items = paging.page(_filtered(request, visible), _sort_keys(request), limit=limit, marker=marker)
    params = [(k, v) for k, v in request.query.items() if k != "marker"]
    first = "/v2/images" + (f"?{urllib.parse.urlencode(params)}" if params else "")
    body: dict[str, Any] = {"first": first, "images": [view(dict(i)) for i in items], "schema": "/v2/schemas/images"}
    if items and len(items) == limit:
        body["next"] = "/v2/images?" + urllib.parse.urlencode([*params, ("marker", items[-1]["id"])])
    return faults.json_response(200, body)


def _image(request: web.Request) -> dict[str, Any]:
    image_id = request.match_info["image_id"]
    image = pod_of(request).state.images.get(image_id)
    claims = claims_of(request)
    if image is None or not (claims.is_admin or image["visibility"] == "public" or image["owner"] == claims.project.id):
        raise GlanceError(404, f"No image found with ID {image_id}")
    return image


@_handle
async def show_image(request: web.Request) -> web.Response:
    return faults.json_response(200, view(_image(request)))


def _validate(spec: dict[str, Any], request: web.Request) -> None:
    for key in sorted(spec):
        if key in READ_ONLY:
            raise GlanceError(403, f"Attribute '{key}' is read-only.")
    checks = (
        ("disk_format", DISK_FORMATS),
        ("container_format", CONTAINER_FORMATS),
        ("visibility", VISIBILITIES),
    )
    for key, allowed in checks:
        if key in spec and spec[key] is not None and spec[key] not in allowed:
            raise GlanceError(400, f"Provided object does not match schema 'image': '{spec[key]}' is not one of "
                              f"{sorted(allowed)}")  # fmt: skip
    if spec.get("visibility") == "public" and not claims_of(request).is_admin:
        raise GlanceError(403, "You are not authorized to complete publicize_image action.")
    owner = spec.get("owner")
    if owner is not None and not isinstance(owner, str):
        raise GlanceError(400, f"Provided object does not match schema 'image': {owner!r} is not of type 'string'")
    if owner is not None and owner != claims_of(request).project.id and not claims_of(request).is_admin:
        # As Glance: an admin (Atoll's sync, copying a project's image) may create it for another project.
        raise GlanceError(403, f"You are not permitted to create images owned by '{owner}'.")
    if "id" in spec:
        try:
            uuid.UUID(str(spec["id"]))
        except ValueError:
            raise GlanceError(400, f"Provided object does not match schema 'image': '{spec['id']}' does not match "
                              "'^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$'"
                              ) from None  # fmt: skip


@_handle
async def create_image(request: web.Request) -> web.Response:
    try:
        spec = await request.json()
    except ValueError:
        raise GlanceError(400, "Malformed JSON in request body.") from None
    if not isinstance(spec, dict):
        raise GlanceError(400, "Malformed JSON in request body.")
    _validate(spec, request)
    state = pod_of(request).state
    image_id = str(spec.get("id") or uuid.uuid4())
    if image_id in state.images:
        raise GlanceError(409, f"Image with identifier {image_id} already exists!")
    stamp = iso(now())
    owner = spec.get("owner") or claims_of(request).project.id
    image = image_record(image_id, spec.get("name"), owner, "shared", stamp, None)
    image.update(disk_format=None, container_format=None)
    image.update({k: v for k, v in spec.items() if k in BASE_FIELDS and k != "id"})
    image["properties"] = {k: v for k, v in spec.items() if k not in BASE_FIELDS and k != "owner"}
    state.images[image_id] = image
    response = faults.json_response(201, view(image))
    response.headers["Location"] = f"{root_url(request)}/v2/images/{image_id}"
    response.headers["OpenStack-image-import-methods"] = "glance-direct,web-download,copy-image"
    response.headers["OpenStack-image-store-ids"] = "fs,os_glance_staging_store,os_glance_tasks_store"
    return response


def _html(status: int) -> web.Response:
    response = web.Response(status=status)
    response.headers["Content-Type"] = "text/html; charset=UTF-8"
    return response


@_handle
async def delete_image(request: web.Request) -> web.Response:
    image = _image(request)
    if image["owner"] != claims_of(request).project.id and not claims_of(request).is_admin:
        raise GlanceError(403, "You are not permitted to delete this image.")
    state = pod_of(request).state
    del state.images[image["id"]]
    data = state.image_data.pop(image["id"], None)
    if data is not None and data.path:
        os.unlink(data.path)
    return _html(204)


@_handle
async def upload(request: web.Request) -> web.Response:
    image = _image(request)
    content_type = request.headers.get("Content-Type", "")
    if content_type != "application/octet-stream":
        raise GlanceError(
            415,
            f"The request media type {content_type} is not supported by this server.",
            f"Invalid content type {content_type}",
        )
    if image["status"] != "queued":
        raise GlanceError(409, f"Image status transition from {image['status']} to saving is not allowed")
    path = os.path.join(request.app[DATA_DIR], f"{pod_of(request).name}-{image['id']}")
    md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha512()
    size = 0
    with open(path, "wb") as sink:  # noqa: ASYNC230 - page-cache writes; the stub stays single-threaded
        async for chunk in request.content.iter_chunked(CHUNK):
            md5.update(chunk)
            sha.update(chunk)
            sink.write(chunk)
            size += len(chunk)
    pod_of(request).state.image_data[image["id"]] = ImageData(size, md5.hexdigest(), sha.hexdigest(), path)
    image.update(
        status="active",
        size=size,
        virtual_size=size,
        checksum=md5.hexdigest(),
        os_hash_algo="sha512",
        os_hash_value=sha.hexdigest(),
        updated_at=iso(now()),
    )
    return _html(204)


@_handle
async def download(request: web.Request) -> web.StreamResponse:
    image = _image(request)
    data = pod_of(request).state.image_data.get(image["id"])
    if data is None:
        return web.Response(status=204)
    response = web.StreamResponse(status=200)
    response.headers["Content-Type"] = "application/octet-stream"
    response.headers["Content-MD5"] = data.md5
    response.content_length = data.size
    await response.prepare(request)
    if data.path:
        with open(data.path, "rb") as source:  # noqa: ASYNC230
            while chunk := source.read(CHUNK):
                await response.write(chunk)
    else:
        remaining = data.size
        while remaining:
            chunk = data.pattern[: min(remaining, len(data.pattern))]
            await response.write(chunk)
            remaining -= len(chunk)
    await response.write_eof()
    return response


def routes() -> list[web.RouteDef]:
    return [
        web.get("/image", versions_root, name=NO_REQUEST_ID + "glance-root-bare"),
        web.get("/image/", versions_root, name=NO_REQUEST_ID + "glance-root"),
        web.get("/image/versions", versions, name=NO_REQUEST_ID + "glance-versions"),
        web.get("/image/v2/images", list_images),
        web.post("/image/v2/images", create_image),
        web.get("/image/v2/images/{image_id}", show_image),
        web.delete("/image/v2/images/{image_id}", delete_image),
        web.put("/image/v2/images/{image_id}/file", upload),
        web.get("/image/v2/images/{image_id}/file", download),
    ]
