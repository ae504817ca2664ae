"""image: the project's image with the same id and properties, its data piped source -> target.

The data goes from Glance's `GET /v2/images/{id}/file` in the source straight into
`PUT /v2/images/{id}/file` in the target, chunk by chunk (never the whole image in
memory), hashed on the way and checked against the source's checksum and multihash,
and the target's copy is checked again once Glance has stored it.

Glance never takes new data under an image id (nor a deleted image's id again), so a
copy whose data differs is a failure even with `force`; `force` replaces properties.
"""

from __future__ import annotations

import json
from typing import Any

from atoll.jobs.outcomes import Done, Fail, Outcome, PermanentError, TemporaryError
from atoll.sync import imagedata
from atoll.sync.calls import PodCalls, brief, segment
from atoll.sync.imagedata import BUSY, DATA, properties
from atoll.sync.task import Subject, SyncTask, differ_reason, differences

PATCH = "application/openstack-images-v2.1-json-patch"
MEMBERS = "atoll:members"
"""Where `read_source` puts a shared image's members (project -> status), for `drift`."""

__all__ = ["DATA", "PATCH", "drift", "properties", "read_source", "remove", "sync"]


async def _create(calls: PodCalls, task: SyncTask, source: dict[str, Any]) -> dict[str, Any]:
    image = await imagedata.create(calls, task.target, source)
    await task.mark_created()
    return image


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
    source = await task.source_read(f"image {task.resource}", lambda: imagedata.read(calls, task.source, task.resource))
    if source is None or source.get("owner") != task.project_id:
        return Fail(f"Image {task.resource} of project {task.project_id} does not exist in {task.source}.")
    if source["status"] != "active":
        return Fail(f"Image {task.resource} is {source['status']} in {task.source}; only active images are synced.")
    want = properties(source)
    target = await imagedata.read(calls, task.target, source["id"])
    if target is None:
        target = await _create(calls, task, source)
    status = target["status"]
    if status in BUSY:
        raise TemporaryError(f"Image {source['id']} is {status} in {task.target}; waiting for it.", 10.0)
    if status == "queued":
        if not task.may_change and differences(want, properties(target)):
            return Fail(differ_reason("Image", source["id"], task.target, differences(want, properties(target))))
        await imagedata.copy_data(calls, task.source, task.target, source)
        target = await imagedata.read(calls, task.target, source["id"]) or {}
    if target.get("status") != "active":
        return Fail(f"Image {source['id']} is {target.get('status')} in {task.target}.")
    data = differences({k: source.get(k) for k in DATA}, {k: target.get(k) for k in DATA})
    if data:
        return Fail(f"Image {source['id']} in {task.target} has other data (target != source): {'; '.join(data)}.")
    shared = source.get("visibility") == "shared"
    want_members = await imagedata.members(calls, task.source, source["id"]) if shared else {}
    have_members = await imagedata.members(calls, task.target, source["id"]) if shared else {}
    diffs = differences(want, properties(target)) + imagedata.member_differences(want_members, have_members)
    if not diffs:
        return Done()
    if not task.may_change:
        return Fail(differ_reason("Image", source["id"], task.target, diffs))
    await _patch(calls, task, source["id"], want, properties(target))
    if shared:
        await imagedata.converge_members(calls, task.target, source["id"], want_members, have_members)
    return Done()


async def read_source(calls: PodCalls, subject: Subject) -> dict[str, Any]:
    found = await imagedata.read(calls, subject.source, subject.resource)
    if found is None or found.get("owner") != subject.project_id:
        raise PermanentError(
            f"Image {subject.resource} of project {subject.project_id} does not exist in {subject.source}."
        )
    if found["status"] != "active":
        raise PermanentError(
            f"Image {subject.resource} is {found['status']} in {subject.source}; only active images are kept."
        )
    if found.get("visibility") == "shared":
        return {**found, MEMBERS: await imagedata.members(calls, subject.source, found["id"])}
    return found


async def drift(calls: PodCalls, subject: Subject, source: dict[str, Any], target: str) -> list[str] | None:
    have = await imagedata.read(calls, target, source["id"])
    if have is None:
        return None
    if have["status"] != "active":
        return [f"status: {have['status']!r} != 'active'"]
    data = differences({k: source.get(k) for k in DATA}, {k: have.get(k) for k in DATA})
    image = {k: v for k, v in source.items() if k != MEMBERS}
    found = data + differences(properties(image), properties(have))
    if MEMBERS in source:
        found += imagedata.member_differences(source[MEMBERS], await imagedata.members(calls, target, source["id"]))
    return found


async def remove(calls: PodCalls, task: SyncTask) -> Outcome:
    gone = await calls.call(task.target, "image", "DELETE", f"/v2/images/{segment(task.resource)}")
    if gone.status not in (204, 404):
        return Fail(f"Deleting image {task.resource} in {task.target}: {gone.status} {brief(gone)}")
    return Done()
