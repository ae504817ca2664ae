"""keypair: the user's keypair of the source, by name, with the same public key in the target.

Nova's `user_id` on a keypair (read, create, delete for another user than the caller)
needs compute microversion 2.10; Atoll's service user acts for the requesting user.
"""

from __future__ import annotations

from typing import Any

from atoll.jobs.outcomes import Done, Fail, Outcome, PermanentError, TemporaryError
from atoll.sync.calls import PodCalls, brief, compute_headers, segment
from atoll.sync.task import Subject, SyncTask, differ_reason, differences

HEADERS = compute_headers("2.10")


async def _get(calls: PodCalls, region: str, name: str, user_id: str) -> dict[str, Any] | None:
    path = f"/os-keypairs/{segment(name)}"
    response = await calls.call(region, "compute", "GET", path, params=[("user_id", user_id)], headers=HEADERS)
    if response.status == 404:
        return None
    if response.status != 200:
        raise PermanentError(f"Reading keypair {name} in {region}: {response.status} {brief(response)}")
    keypair: dict[str, Any] = response.json()["keypair"]
    return keypair


def _shape(keypair: dict[str, Any]) -> dict[str, Any]:
    return {"public_key": keypair.get("public_key", "").strip(), "type": keypair.get("type", "ssh")}


async def sync(calls: PodCalls, task: SyncTask) -> Outcome:
    name = task.resource
    source = await task.source_read(
        f"keypair {task.user_id} {name}", lambda: _get(calls, task.source, name, task.user_id)
    )
    if source is None:
        return Fail(f"Keypair {name} of user {task.user_id} does not exist in {task.source}.")
    want = _shape(source)
    target = await _get(calls, task.target, name, task.user_id)
    if target is not None:
        diffs = differences(want, _shape(target))
        if not diffs:
            return Done()
        if not task.may_change:
            return Fail(differ_reason("Keypair", name, task.target, diffs))
        path = f"/os-keypairs/{segment(name)}"
        gone = await calls.call(
            task.target, "compute", "DELETE", path, params=[("user_id", task.user_id)], headers=HEADERS
        )
        if gone.status not in (202, 204, 404):
            return Fail(f"Deleting the differing keypair {name} in {task.target}: {gone.status} {brief(gone)}")
    body = {
        "keypair": {"name": name, "public_key": source["public_key"], "type": want["type"], "user_id": task.user_id}
    }
    made = await calls.call(task.target, "compute", "POST", "/os-keypairs", json_body=body, headers=HEADERS)
    if made.status == 409:  # made meanwhile by another request: compare again on the next attempt
        raise TemporaryError(f"Keypair {name} was created in {task.target} meanwhile; comparing again.", 1.0)
    if made.status not in (200, 201):
        return Fail(f"Creating keypair {name} in {task.target}: {made.status} {brief(made)}")
    return Done({"created": True})


async def read_source(calls: PodCalls, subject: Subject) -> dict[str, Any]:
    found = await _get(calls, subject.source, subject.resource, subject.user_id)
    if found is None:
        raise PermanentError(
            f"Keypair {subject.resource} of user {subject.user_id} does not exist in {subject.source}."
        )
    return _shape(found)


async def drift(calls: PodCalls, subject: Subject, source: dict[str, Any], target: str) -> list[str] | None:
    have = await _get(calls, target, subject.resource, subject.user_id)
    return None if have is None else differences(source, _shape(have))


async def remove(calls: PodCalls, task: SyncTask) -> Outcome:
    path = f"/os-keypairs/{segment(task.resource)}"
    gone = await calls.call(task.target, "compute", "DELETE", path, params=[("user_id", task.user_id)], headers=HEADERS)
    if gone.status not in (202, 204, 404):
        return Fail(f"Deleting keypair {task.resource} in {task.target}: {gone.status} {brief(gone)}")
    return Done()
