"""volume_type: a volume type of the source, by name, with the same description, visibility, extra
specs and access list in the target (catching up a pod that missed a write through the gateway).

Cinder chooses a type's id itself (its create takes none), so the same type is found in each pod
by its name, which Cinder keeps unique. `force` makes a differing copy the same.
"""

from __future__ import annotations

from typing import Any

from atoll.jobs.outcomes import Done, Fail, Outcome
from atoll.sync.calls import PodCalls, brief, segment
from atoll.sync.task import SyncTask, differ_reason, differences

HEADERS = {"OpenStack-API-Version": "volume 3.0"}


async def by_name(calls: PodCalls, region: str, name: str) -> dict[str, Any] | None:
    listed = await calls.json(region, "volume", "/types", params=[("is_public", "None")])
    found = [t for t in listed.get("volume_types", []) if isinstance(t, dict) and t.get("name") == name]
    return found[0] if found else None


async def _access(calls: PodCalls, region: str, volume_type: dict[str, Any]) -> list[str]:
    if volume_type.get("os-volume-type-access:is_public", True):
        return []
    path = f"/types/{segment(volume_type['id'])}/os-volume-type-access"
    listed = await calls.json(region, "volume", path)
    return sorted(a["project_id"] for a in listed.get("volume_type_access", []))


def _shape(volume_type: dict[str, Any], access: list[str]) -> dict[str, Any]:
    return {
        "description": volume_type.get("description"),
        "is_public": volume_type.get("os-volume-type-access:is_public", True),
        "extra_specs": dict(volume_type.get("extra_specs") or {}),
        "access": access,
    }


async def _expect(calls: PodCalls, region: str, method: str, path: str, body: Any, ok: tuple[int, ...]) -> Any:
    return await calls.expect(region, "volume", method, path, ok, json_body=body, headers=HEADERS)


async def sync(calls: PodCalls, task: SyncTask) -> Outcome:
    name = task.resource
    source = await by_name(calls, task.source, name)
    if source is None:
        return Fail(f"Volume type {name} does not exist in {task.source}.")
    want = _shape(source, await _access(calls, task.source, source))
    target = await by_name(calls, task.target, name)
    if target is None:
        body = {
            "volume_type": {
                "name": name,
                "description": want["description"],
                "os-volume-type-access:is_public": want["is_public"],
                "extra_specs": want["extra_specs"],
            }
        }
        made = await _expect(calls, task.target, "POST", "/types", body, (200, 202))
        target = made["volume_type"]
        await task.mark_created()
    have = _shape(target, await _access(calls, task.target, target))
    diffs = differences(want, have)
    if not diffs:
        return Done()
    if not task.may_change:
        return Fail(differ_reason("Volume type", name, task.target, diffs))
    await _converge(calls, task.target, str(target["id"]), want, have)
    return Done()


async def _converge(calls: PodCalls, region: str, type_id: str, want: dict[str, Any], have: dict[str, Any]) -> None:
    base = f"/types/{segment(type_id)}"
    if want["description"] != have["description"] or want["is_public"] != have["is_public"]:
        body = {"volume_type": {"description": want["description"], "is_public": want["is_public"]}}
        await _expect(calls, region, "PUT", base, body, (200,))
    if want["extra_specs"] and want["extra_specs"] != have["extra_specs"]:
        await _expect(calls, region, "POST", base + "/extra_specs", {"extra_specs": want["extra_specs"]}, (200,))
    for key in have["extra_specs"].keys() - want["extra_specs"].keys():
        await _expect(calls, region, "DELETE", f"{base}/extra_specs/{segment(key)}", None, (200, 202, 404))
    for project in sorted(set(want["access"]) - set(have["access"])):
        await _expect(calls, region, "POST", base + "/action", {"addProjectAccess": {"project": project}}, (202,))
    for project in sorted(set(have["access"]) - set(want["access"])):
        body = {"removeProjectAccess": {"project": project}}
        await _expect(calls, region, "POST", base + "/action", body, (202, 404))


async def remove(calls: PodCalls, task: SyncTask) -> Outcome:
    found = await by_name(calls, task.target, task.resource)
    return await delete_found(calls, task, "volume type", "/types", found, headers=HEADERS)


async def delete_found(
    calls: PodCalls, task: SyncTask, kind: str, collection: str, found: dict[str, Any] | None, **kw: Any
) -> Outcome:
    """Delete `found`, the target's Cinder item of the task's name, under its own id (Done when the
    target has none): a removal job of a name-matched type (volume type, QoS spec, group type)."""
    if found is None:
        return Done()
    path = f"{collection}/{segment(str(found['id']))}"
    gone = await calls.call(task.target, "volume", "DELETE", path, **kw)
    if gone.status in (202, 204, 404):
        return Done()
    return Fail(f"Deleting {kind} {task.resource} in {task.target}: {gone.status} {brief(gone)}")
