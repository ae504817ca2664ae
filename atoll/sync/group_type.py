"""group_type: a Cinder group type of the source, by name, with the same description, visibility and
group specs in the target (catching up a pod that missed a write through the gateway).

Like volume types, Cinder chooses a group type's id itself, so the type is found in each pod by its
name. Group types need volume API 3.11. `force` makes a differing copy the same.
"""

from __future__ import annotations

from typing import Any

from atoll.jobs.outcomes import Done, Fail, Outcome
from atoll.sync import volume_type
from atoll.sync.calls import PodCalls, segment
from atoll.sync.task import SyncTask, differ_reason, differences

HEADERS = {"OpenStack-API-Version": "volume 3.11"}


async def by_name(calls: PodCalls, region: str, name: str) -> dict[str, Any] | None:
    listed = await calls.json(region, "volume", "/group_types", params=[("is_public", "None")], headers=HEADERS)
    found = [t for t in listed.get("group_types", []) if isinstance(t, dict) and t.get("name") == name]
    return found[0] if found else None


def _shape(group_type: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": group_type.get("description"),
        "is_public": group_type.get("is_public", True),
        "group_specs": dict(group_type.get("group_specs") or {}),
    }


async def _expect(calls: PodCalls, region: str, method: str, path: str, body: Any, ok: tuple[int, ...]) -> Any:
    return await calls.expect(region, "volume", method, path, ok, json_body=body, headers=HEADERS)


async def sync(calls: PodCalls, task: SyncTask) -> Outcome:
    name = task.resource
    source = await by_name(calls, task.source, name)
    if source is None:
        return Fail(f"Group type {name} does not exist in {task.source}.")
    want = _shape(source)
    target = await by_name(calls, task.target, name)
    if target is None:
        body = {"group_type": {"name": name, **want}}
        made = await _expect(calls, task.target, "POST", "/group_types", body, (200, 202))
        target = made["group_type"]
        await task.mark_created()
    have = _shape(target)
    diffs = differences(want, have)
    if not diffs:
        return Done()
    if not task.may_change:
        return Fail(differ_reason("Group type", name, task.target, diffs))
    base = f"/group_types/{segment(str(target['id']))}"
    if want["description"] != have["description"] or want["is_public"] != have["is_public"]:
        body = {"group_type": {"description": want["description"], "is_public": want["is_public"]}}
        await _expect(calls, task.target, "PUT", base, body, (200,))
    if want["group_specs"] and want["group_specs"] != have["group_specs"]:
        body = {"group_specs": want["group_specs"]}
        await _expect(calls, task.target, "POST", base + "/group_specs", body, (200, 202))
    for key in sorted(have["group_specs"].keys() - want["group_specs"].keys()):
        await _expect(calls, task.target, "DELETE", f"{base}/group_specs/{segment(key)}", None, (200, 202, 404))
    return Done()


async def remove(calls: PodCalls, task: SyncTask) -> Outcome:
    found = await by_name(calls, task.target, task.resource)
    return await volume_type.delete_found(calls, task, "group type", "/group_types", found, headers=HEADERS)
