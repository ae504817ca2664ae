"""image: the project's image with the same id and properties, its data piped source -> target.

The data goes from Glance's `GET /v2/images/{id}/file` in the source straight into
`PUT /v2/images/{id}/file` in the target, chunk by chunk (never the whole image in
memory), hashed on the way and checked against the source's checksum and multihash,
and the target's copy is checked again once Glance has stored it.

Glance never takes new data under an image id (nor a deleted image's id again), so a
copy whose data differs is a failure even with `force`; `force` replaces properties.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

from atoll.jobs.outcomes import Done, Fail, Outcome, PermanentError, TemporaryError
from atoll.pods.client import PodStream
from atoll.sync.calls import PodCalls, brief, segment
from atoll.sync.task import Subject, SyncTask, differ_reason, differences

MANAGED = frozenset(
    {
        "id", "status", "checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size", "created_at",
        "updated_at", "file", "self", "schema", "direct_url", "locations", "stores", "os_hidden",
    }
)  # fmt: skip
"""Attributes Glance keeps itself: never copied, never compared as properties."""
DATA = ("size", "checksum", "os_hash_algo", "os_hash_value", "disk_format", "container_format")
BUSY = ("saving", "importing", "uploading")
PATCH = "application/openstack-images-v2.1-json-patch"


async def _get(calls: PodCalls, region: str, image_id: str) -> dict[str, Any] | None:
    response = await calls.call(region, "image", "GET", f"/v2/images/{segment(image_id)}")
    if response.status == 404:
        return None
    if response.status != 200:
        raise PermanentError(f"Reading image {image_id} in {region}: {response.status} {brief(response)}")
    image: dict[str, Any] = response.json()
    return image


def properties(image: dict[str, Any]) -> dict[str, Any]:
    """What a copy must have the same: every attribute a user or Glance's API may set."""
    found = {k: v for k, v in image.items() if k not in MANAGED and not k.startswith("os_glance")}
    found["tags"] = sorted(found.get("tags") or [])
    return found


async def _create(calls: PodCalls, task: SyncTask, source: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in properties(source).items() if v is not None}
    body["id"] = source["id"]
    made = await calls.call(task.target, "image", "POST", "/v2/images", json_body=body)
    if made.status == 409:
        raise PermanentError(
            f"Image id {source['id']} is taken in {task.target} (Glance keeps the ids of deleted images)."
        )
    if made.status != 201:
        raise PermanentError(f"Creating image {source['id']} in {task.target}: {made.status} {brief(made)}")
    await task.mark_created()
    image: dict[str, Any] = made.json()
    return image


class _Hashing:
    """Chunks passing through, hashed on the way: md5 (Glance's `checksum`) and its multihash."""

    def __init__(self, stream: PodStream, algo: str | None) -> None:
        self.stream = stream
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.multi = hashlib.new(algo) if algo else None
        self.size = 0

    async def chunks(self) -> AsyncIterator[bytes]:
        async for chunk in self.stream.iter_chunks():
            self.md5.update(chunk)
            if self.multi is not None:
                self.multi.update(chunk)
            self.size += len(chunk)
            yield chunk


async def _copy_data(calls: PodCalls, task: SyncTask, source: dict[str, Any]) -> None:
    path = f"/v2/images/{segment(source['id'])}/file"
    async with calls.stream(task.source, "image", "GET", path) as down:
        if down.status != 200:
            raise PermanentError(f"Reading the data of image {source['id']} in {task.source}: {down.status}")
        hashing = _Hashing(down, source.get("os_hash_algo"))
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(source["size"])}
        async with calls.stream(task.target, "image", "PUT", path, headers=headers, body=hashing.chunks()) as up:
            status = up.status
            answer = b"".join([c async for c in up.iter_chunks()])[:300]
    if status != 204:
        raise PermanentError(
            f"Uploading image {source['id']} to {task.target}: {status} {answer.decode(errors='replace')}"
        )
    wrong = _wrong(source, hashing)
    if wrong:  # never leave a corrupt copy active in the target
        await calls.call(task.target, "image", "DELETE", f"/v2/images/{segment(source['id'])}")
        raise PermanentError(
            f"The data read from image {source['id']} in {task.source} does not match its checksum "
            f"({'; '.join(wrong)}); the copy in {task.target} was deleted."
        )


def _wrong(source: dict[str, Any], hashing: _Hashing) -> list[str]:
    seen = {"size": hashing.size, "checksum": hashing.md5.hexdigest()}
    if hashing.multi is not None:
        seen["os_hash_value"] = hashing.multi.hexdigest()
    return [f"{k} {v} != {source.get(k)}" for k, v in seen.items() if source.get(k) is not None and v != source[k]]


def _pointer(key: str) -> str:
    """The JSON pointer of a property (RFC 6901 escaping)."""
    return "/" + key.replace("~", "~0").replace("/", "~1")


async def _patch(calls: PodCalls, task: SyncTask, image_id: str, want: dict[str, Any], have: dict[str, Any]) -> None:
    ops: list[dict[str, Any]] = [
        {"op": "replace" if k in have else "add", "path": _pointer(k), "value": v}
        for k, v in want.items()
        if have.get(k) != v and v is not None
    ]
    ops += [{"op": "remove", "path": _pointer(k)} for k in have if k not in want]
    if not ops:
        return
    headers = {"Content-Type": PATCH}
    path = f"/v2/images/{segment(image_id)}"
    done = await calls.call(task.target, "image", "PATCH", path, body=json.dumps(ops).encode(), headers=headers)
    if done.status != 200:
        raise PermanentError(f"Updating image {image_id} in {task.target}: {done.status} {brief(done)}")


async def sync(calls: PodCalls, task: SyncTask) -> Outcome:
    source = await _get(calls, task.source, task.resource)
    if source is None or source.get("owner") != task.project_id:
        return Fail(f"Image {task.resource} of project {task.project_id} does not exist in {task.source}.")
    if source["status"] != "active":
        return Fail(f"Image {task.resource} is {source['status']} in {task.source}; only active images are synced.")
    want = properties(source)
    target = await _get(calls, task.target, source["id"])
    if target is None:
        target = await _create(calls, task, source)
    status = target["status"]
    if status in BUSY:
        raise TemporaryError(f"Image {source['id']} is {status} in {task.target}; waiting for it.", 10.0)
    if status == "queued":
        if not task.may_change and differences(want, properties(target)):
            return Fail(differ_reason("Image", source["id"], task.target, differences(want, properties(target))))
        await _copy_data(calls, task, source)
        target = await _get(calls, task.target, source["id"]) or {}
    if target.get("status") != "active":
        return Fail(f"Image {source['id']} is {target.get('status')} in {task.target}.")
    data = differences({k: source.get(k) for k in DATA}, {k: target.get(k) for k in DATA})
    if data:
        return Fail(f"Image {source['id']} in {task.target} has other data (target != source): {'; '.join(data)}.")
    diffs = differences(want, properties(target))
    if not diffs:
        return Done()
    if not task.may_change:
        return Fail(differ_reason("Image", source["id"], task.target, diffs))
    await _patch(calls, task, source["id"], want, properties(target))
    return Done()


async def read_source(calls: PodCalls, subject: Subject) -> dict[str, Any]:
    found = await _get(calls, subject.source, subject.resource)
    if found is None or found.get("owner") != subject.project_id:
        raise PermanentError(
            f"Image {subject.resource} of project {subject.project_id} does not exist in {subject.source}."
        )
    if found["status"] != "active":
        raise PermanentError(
            f"Image {subject.resource} is {found['status']} in {subject.source}; only active images are kept."
        )
    return found


async def drift(calls: PodCalls, subject: Subject, source: dict[str, Any], target: str) -> list[str] | None:
    have = await _get(calls, target, source["id"])
    if have is None:
        return None
    if have["status"] != "active":
        return [f"status: {have['status']!r} != 'active'"]
    data = differences({k: source.get(k) for k in DATA}, {k: have.get(k) for k in DATA})
    return data + differences(properties(source), properties(have))


async def remove(calls: PodCalls, task: SyncTask) -> Outcome:
    gone = await calls.call(task.target, "image", "DELETE", f"/v2/images/{segment(task.resource)}")
    if gone.status not in (204, 404):
        return Fail(f"Deleting image {task.resource} in {task.target}: {gone.status} {brief(gone)}")
    return Done()
