"""An image's copy in another pod: same id, same properties, its data piped source -> target.

Shared by the os-sync job (`atoll.sync.image`) and the gateway's copy before a server or
volume create (`atoll.gateway.image.copy`). The data goes from Glance's
`GET /v2/images/{id}/file` in the source straight into `PUT /v2/images/{id}/file` in the
target, chunk by chunk (never the whole image in memory), hashed on the way and checked
against the source's checksum and multihash; a copy whose data does not match is deleted.

Every call is on Atoll's service token (`PodCalls`), so the copy keeps the source's owner
and visibility. A shared image's members (the projects it is shared with, and whether each
accepted it) are copied too: without them its copy is invisible to the very projects a
server or volume create in that pod is made for. Failures are the jobs' `TemporaryError` (pod down, 5xx) and
`PermanentError` (anything waiting will not fix).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from atoll.jobs.outcomes import PermanentError, TemporaryError
from atoll.pods.client import PodStream
from atoll.sync.calls import PodCalls, brief, segment

MANAGED = frozenset(
    {
        "id", "status", "checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size", "created_at",
        "updated_at", "file", "self", "schema", "direct_url", "locations", "stores", "os_hidden",
    }
)  # fmt: skip
"""Attributes Glance keeps itself: never copied, never compared as properties."""
DATA = ("size", "checksum", "os_hash_algo", "os_hash_value", "disk_format", "container_format")
BUSY = ("saving", "importing", "uploading")


async def read(calls: PodCalls, region: str, image_id: str) -> dict[str, Any] | None:
    """The image as Glance shows it to Atoll's service user, or None when the pod has none."""
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


async def create(calls: PodCalls, target: str, source: dict[str, Any]) -> dict[str, Any]:
    """The image's record (status queued) made in `target` under the source's id."""
    body = {k: v for k, v in properties(source).items() if v is not None}
    body["id"] = source["id"]
    made = await calls.call(target, "image", "POST", "/v2/images", json_body=body)
    if made.status == 409:
        raise PermanentError(f"Image id {source['id']} is taken in {target} (Glance keeps the ids of deleted images).")
    if made.status != 201:
        raise PermanentError(f"Creating image {source['id']} in {target}: {made.status} {brief(made)}")
    image: dict[str, Any] = made.json()
    return image


class Hashing:
    """Chunks passing through, hashed on the way: md5 (Glance's `checksum`) and its multihash."""

    def __init__(self, chunks: AsyncIterator[bytes], algo: str | None) -> None:
        self._chunks = chunks
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.multi = hashlib.new(algo) if algo else None
        self.size = 0

    async def chunks(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            self.md5.update(chunk)
            if self.multi is not None:
                self.multi.update(chunk)
            self.size += len(chunk)
            yield chunk

    def wrong(self, expected: dict[str, Any]) -> list[str]:
        """`field seen != expected` for each of size, checksum and multihash that differs."""
        seen: dict[str, Any] = {"size": self.size, "checksum": self.md5.hexdigest()}
        if self.multi is not None:
            seen["os_hash_value"] = self.multi.hexdigest()
        return [
            f"{k} {v} != {expected.get(k)}" for k, v in seen.items() if expected.get(k) is not None and v != expected[k]
        ]


def _hashing(stream: PodStream, source: dict[str, Any]) -> Hashing:
    return Hashing(stream.iter_chunks(), source.get("os_hash_algo"))


async def copy_data(calls: PodCalls, source_region: str, target: str, source: dict[str, Any]) -> None:
    """Pipe the data of `source` (an active image of `source_region`) into its queued copy in `target`."""
    path = f"/v2/images/{segment(source['id'])}/file"
    async with calls.stream(source_region, "image", "GET", path) as down:
        if down.status != 200:
            raise PermanentError(f"Reading the data of image {source['id']} in {source_region}: {down.status}")
        hashing = _hashing(down, source)
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(source["size"])}
        async with calls.stream(target, "image", "PUT", path, headers=headers, body=hashing.chunks()) as up:
            status = up.status
            answer = b"".join([c async for c in up.iter_chunks()])[:300]
    if status != 204:
        raise PermanentError(f"Uploading image {source['id']} to {target}: {status} {answer.decode(errors='replace')}")
    wrong = hashing.wrong(source)
    if wrong:  # never leave a corrupt copy active in the target
        await calls.call(target, "image", "DELETE", f"/v2/images/{segment(source['id'])}")
        raise PermanentError(
            f"The data read from image {source['id']} in {source_region} does not match its checksum "
            f"({'; '.join(wrong)}); the copy in {target} was deleted."
        )


async def members(calls: PodCalls, region: str, image_id: str) -> dict[str, str]:
    """The projects a shared image is shared with in `region`, each with its member status."""
    response = await calls.call(region, "image", "GET", f"/v2/images/{segment(image_id)}/members")
    if response.status in (403, 404):  # not a shared image (Glance refuses), or none there
        return {}
    if response.status != 200:
        raise PermanentError(
            f"Reading the members of image {image_id} in {region}: {response.status} {brief(response)}"
        )
    return {str(m["member_id"]): str(m.get("status", "pending")) for m in response.json().get("members", [])}


def member_differences(want: dict[str, str], have: dict[str, str]) -> list[str]:
    return [f"member {m}: {have.get(m)!r} != {s!r}" for m, s in sorted(want.items()) if have.get(m) != s] + [
        f"member {m}: {s!r} != None" for m, s in sorted(have.items()) if m not in want
    ]


async def converge_members(
    calls: PodCalls, target: str, image_id: str, want: dict[str, str], have: dict[str, str] | None = None
) -> None:
    """Make the members of the image in `target` `want`: added, their status set, the others removed.
    `have` is what the caller has just read there (read here when not given)."""
    have = dict(await members(calls, target, image_id) if have is None else have)
    base = f"/v2/images/{segment(image_id)}/members"
    for member, status in sorted(want.items()):
        if member not in have:
            await calls.expect(target, "image", "POST", base, (200, 409), json_body={"member": member})
            have[member] = "pending"
        if have[member] != status:
            await calls.expect(
                target, "image", "PUT", f"{base}/{segment(member)}", (200,), json_body={"status": status}
            )
    for member in sorted(set(have) - set(want)):
        await calls.expect(target, "image", "DELETE", f"{base}/{segment(member)}", (204, 404))


def data_differences(source: dict[str, Any], target: dict[str, Any]) -> list[str]:
    return [f"{k}: {target.get(k)!r} != {source.get(k)!r}" for k in DATA if target.get(k) != source.get(k)]


Sleep = Callable[[float], Awaitable[None]]


async def ensure_copy(
    calls: PodCalls,
    source_region: str,
    target: str,
    source: dict[str, Any],
    *,
    wait: float = 300.0,
    poll: float = 1.0,
    sleep: Sleep = asyncio.sleep,
) -> dict[str, Any]:
    """The image active in `target` with the source's data: made and filled if missing, waited
    for (up to `wait` seconds) while another copy of it is being stored there. Properties that
    differ in an existing copy are left as they are (the os-sync job with force fixes those)."""
    waited = 0.0
    while True:
        copy = await read(calls, target, source["id"])
        if copy is None:
            copy = await create(calls, target, source)
        status = copy.get("status")
        if status == "queued":
            await copy_data(calls, source_region, target, source)
            copy = await read(calls, target, source["id"]) or {}
            status = copy.get("status")
        if status not in BUSY:
            break
        if waited >= wait:
            raise TemporaryError(f"Image {source['id']} is still {status} in {target} after {wait:g} s.")
        await sleep(poll)
        waited += poll
    if status != "active":
        raise PermanentError(f"Image {source['id']} is {status} in {target}.")
    differ = data_differences(source, copy)
    if differ:
        raise PermanentError(
            f"Image {source['id']} in {target} has other data (target != source): {'; '.join(differ)}."
        )
    if source.get("visibility") == "shared":
        await converge_members(calls, target, source["id"], await members(calls, source_region, source["id"]))
    return copy
