"""A small fake Glance for the gateway's unit tests, served by a fake pod beside its Nova: images
in memory with Glance's list (sort, limit, marker, `id=in:`), create, data upload and download
(read and written chunk by chunk), json-patch, tags and delete."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import uuid
from typing import Any

from aiohttp import web

from tests.unit.pods.fakepod import FakePod

_CLOCK = itertools.count()
_EPOCH = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def _stamp() -> str:
    return (_EPOCH + dt.timedelta(seconds=next(_CLOCK))).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fault(status: int, title: str, message: str) -> web.Response:
    body = {"message": message, "code": f"{status} {title}", "title": title}
    return web.json_response(body, status=status)


class FakeGlance:
    def __init__(self, pod: FakePod, images: dict[str, dict[str, Any]]) -> None:
        self.images = images
        self.data: dict[str, bytes] = {}
        self.uploads: list[dict[str, Any]] = []
        """Each upload: its image, how many chunks it came in, the Content-Length it had."""
        self.created: list[str] = []
        r = pod.route
        r("GET", "/v2/images", self._list)
        r("POST", "/v2/images", self._create)
        r("GET", "/v2/images/{id}", self._show)
        r("PATCH", "/v2/images/{id}", self._patch)
        r("DELETE", "/v2/images/{id}", self._delete)
        r("PUT", "/v2/images/{id}/file", self._upload)
        r("GET", "/v2/images/{id}/file", self._download)
        r("PUT", "/v2/images/{id}/tags/{tag}", self._tag)
        self.namespaces: dict[str, dict[str, Any]] = {}
        r("GET", "/v2/metadefs/namespaces", self._namespaces)
        r("POST", "/v2/metadefs/namespaces", self._create_namespace)
        r("DELETE", "/v2/metadefs/namespaces/{name}", self._delete_namespace)
        r("POST", "/v2/metadefs/namespaces/{name}/objects", self._create_object)
        self.tasks: dict[str, dict[str, Any]] = {}
        r("POST", "/v2/tasks", self._create_task)
        r("GET", "/v2/tasks", self._tasks)
        r("GET", "/v2/tasks/{id}", self._task)
        r("GET", "/v2/images/{id}/tasks", self._image_tasks)

    async def _namespaces(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response({"namespaces": list(self.namespaces.values())})

    async def _create_namespace(self, request: web.Request) -> web.StreamResponse:
        namespace = await request.json()
        self.namespaces[namespace["namespace"]] = namespace
        return web.json_response(namespace, status=201)

    async def _delete_namespace(self, request: web.Request) -> web.StreamResponse:
        found = self.namespaces.pop(request.match_info["name"], None)
        return web.Response(status=204 if found else 404)

    async def _create_object(self, request: web.Request) -> web.StreamResponse:
        made = await request.json()
        self.namespaces[request.match_info["name"]].setdefault("objects", []).append(made)
        return web.json_response(made, status=201)

    async def _create_task(self, request: web.Request) -> web.StreamResponse:
        task = {"id": str(uuid.uuid4()), "status": "pending", **(await request.json())}
        self.tasks[task["id"]] = task
        return web.json_response(task, status=201)

    async def _image_tasks(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["id"] not in self.images:
            return _fault(404, "Not Found", "not found")
        tasks = [t for t in self.tasks.values() if t.get("image_id") == request.match_info["id"]]
        return web.json_response({"tasks": tasks})

    async def _tasks(self, request: web.Request) -> web.StreamResponse:
        """Glance's: at most `limit` (25 when none) after the `marker` task (a 400 when unknown), and
        `next` after every full page; `first` and `schema` as Glance gives them."""
        tasks = list(self.tasks.values())
        if (marker := request.query.get("marker")) is not None:
            ids = [t["id"] for t in tasks]
            if marker not in ids:
                return _fault(400, "Bad Request", f"Task with the given id {marker} was not found")
            tasks = tasks[ids.index(marker) + 1 :]
        limit = int(request.query.get("limit", "25"))
        body: dict[str, Any] = {"tasks": tasks[:limit], "first": "/v2/tasks", "schema": "/v2/schemas/tasks"}
        if tasks[:limit] and len(tasks[:limit]) == limit:
            body["next"] = f"/v2/tasks?limit={limit}&marker={tasks[limit - 1]['id']}"
        return web.json_response(body)

    async def _task(self, request: web.Request) -> web.StreamResponse:
        task = self.tasks.get(request.match_info["id"])
        if task is None:
            return _fault(404, "Not Found", f"Task with the given id {request.match_info['id']} was not found")
        return web.json_response(task)

    def add(self, image_id: str, data: bytes | None = None, **fields: Any) -> dict[str, Any]:
        image = {"id": image_id, "name": fields.pop("name", image_id), "status": "queued", "created_at": _stamp()}
        image |= {"owner": "project-a", "visibility": "shared", "tags": [], "size": None, "checksum": None} | fields
        self.images[image_id] = image
        if data is not None:
            self._store(image_id, data)
        return image

    def _store(self, image_id: str, data: bytes) -> None:
        self.data[image_id] = data
        self.images[image_id].update(
            status="active",
            size=len(data),
            checksum=hashlib.md5(data, usedforsecurity=False).hexdigest(),
            os_hash_algo="sha512",
            os_hash_value=hashlib.sha512(data).hexdigest(),
        )

    async def _list(self, request: web.Request) -> web.StreamResponse:
        items = list(self.images.values())
        ids = request.query.get("id", "")
        if ids.startswith("in:"):
            wanted = set(ids[3:].split(","))
            items = [i for i in items if i["id"] in wanted]
        if "name" in request.query:
            items = [i for i in items if i["name"] == request.query["name"]]
        for part in reversed(request.query.get("sort", "created_at:desc,id:desc").split(",")):
            key, _, direction = part.partition(":")
            items.sort(key=lambda i: str(i.get(key) or ""), reverse=direction != "asc")
        marker = request.query.get("marker")
        if marker is not None:
            at = [i["id"] for i in items].index(marker) if marker in [i["id"] for i in items] else None
            if at is None:
                return _fault(400, "Bad Request", f"No image found with ID {marker}")
            items = items[at + 1 :]
        limit = int(request.query.get("limit", "25"))
        body: dict[str, Any] = {"images": items[:limit], "first": "/v2/images", "schema": "/v2/schemas/images"}
        if len(items) > limit:
            body["next"] = f"/v2/images?marker={items[limit - 1]['id']}&limit={limit}"
        return web.json_response(body)

    async def _create(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        image_id = body.pop("id", None) or str(uuid.uuid4())
        if image_id in self.images:
            return _fault(409, "Conflict", f"Image with identifier {image_id} already exists!")
        self.created.append(image_id)
        image = self.add(image_id, **body)
        return web.json_response(image, status=201, headers={"Location": f"{request.url}/{image_id}"})

    async def _show(self, request: web.Request) -> web.StreamResponse:
        image = self.images.get(request.match_info["id"])
        if image is None:
            return _fault(404, "Not Found", f"No image found with ID {request.match_info['id']}")
        return web.json_response(image)

    async def _patch(self, request: web.Request) -> web.StreamResponse:
        image = self.images.get(request.match_info["id"])
        if image is None:
            return _fault(404, "Not Found", "not found")
        if request.content_type != "application/openstack-images-v2.1-json-patch":
            return _fault(415, "Unsupported Media Type", "Unsupported Content-Type")
        for op in json.loads(await request.read()):
            key = op["path"].lstrip("/")
            if op["op"] == "remove":
                image.pop(key, None)
            else:
                image[key] = op["value"]
        return web.json_response(image)

    async def _delete(self, request: web.Request) -> web.StreamResponse:
        if self.images.pop(request.match_info["id"], None) is None:
            return _fault(404, "Not Found", "not found")
        self.data.pop(request.match_info["id"], None)
        return web.Response(status=204)

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        image_id = request.match_info["id"]
        if image_id not in self.images:
            return _fault(404, "Not Found", "not found")
        if request.content_type != "application/octet-stream":
            return _fault(415, "Unsupported Media Type", "Unsupported Content-Type")
        chunks = [chunk async for chunk in request.content.iter_any()]
        length = request.headers.get("Content-Length")
        self.uploads.append({"image": image_id, "chunks": len(chunks), "content_length": length})
        self._store(image_id, b"".join(chunks))
        return web.Response(status=204)

    async def _download(self, request: web.Request) -> web.StreamResponse:
        data = self.data.get(request.match_info["id"])
        if data is None:
            return web.Response(status=204)
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.content_length = len(data)
        await response.prepare(request)
        for i in range(0, len(data), 65536):
            await response.write(data[i : i + 65536])
        await response.write_eof()
        return response

    async def _tag(self, request: web.Request) -> web.StreamResponse:
        image = self.images.get(request.match_info["id"])
        if image is None:
            return _fault(404, "Not Found", "not found")
        image["tags"] = sorted({*image["tags"], request.match_info["tag"]})
        return web.Response(status=204)
