"""qos_specs: a Cinder QoS spec of the source, by name, with the same consumer, keys and volume type
associations in the target (catching up a pod that missed a write through the gateway).

Cinder chooses ids itself, so the QoS spec and the volume types it is associated with are matched
in each pod by name. An associated type the target lacks is waited for (its own catch-up job may
be making it). `force` makes a differing copy the same.
"""

from __future__ import annotations

from typing import Any

from atoll.jobs.outcomes import Done, Fail, Outcome, TemporaryError
from atoll.sync import volume_type
from atoll.sync.calls import PodCalls, segment
from atoll.sync.task import SyncTask, differ_reason, differences

HEADERS = {"OpenStack-API-Version": "volume 3.0"}


async def by_name(calls: PodCalls, region: str, name: str) -> dict[str, Any] | None:
    listed = await calls.json(region, "volume", "/qos-specs", headers=HEADERS)
    found = [q for q in listed.get("qos_specs", []) if isinstance(q, dict) and q.get("name") == name]
    return found[0] if found else None


async def _associations(calls: PodCalls, region: str, qos_id: str) -> dict[str, str]:
    """The volume types (name -> id) the QoS spec is associated with in `region`."""
    listed = await calls.json(region, "volume", f"/qos-specs/{segment(qos_id)}/associations", headers=HEADERS)
    return {
        str(a["name"]): str(a["id"])
        for a in listed.get("qos_associations", [])
        if isinstance(a, dict) and a.get("association_type", "volume_type") == "volume_type"
    }


async def _shape(calls: PodCalls, region: str, qos: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    associated = await _associations(calls, region, str(qos["id"]))
    shape = {"consumer": qos.get("consumer"), "specs": dict(qos.get("specs") or {}), "volume_types": sorted(associated)}
    return shape, associated


async def _expect(calls: PodCalls, region: str, method: str, path: str, ok: tuple[int, ...], **kw: Any) -> Any:
    return await calls.expect(region, "volume", method, path, ok, headers=HEADERS, **kw)


async def sync(calls: PodCalls, task: SyncTask) -> Outcome:
    name = task.resource
    source = await by_name(calls, task.source, name)
    if source is None:
        return Fail(f"QoS spec {name} does not exist in {task.source}.")
    want, _ = await _shape(calls, task.source, source)
    target = await by_name(calls, task.target, name)
    if target is None:
        body = {"qos_specs": {"name": name, "consumer": want["consumer"], **want["specs"]}}
        made = await _expect(calls, task.target, "POST", "/qos-specs", (200, 202), json_body=body)
        target = made["qos_specs"]
        await task.mark_created()
    have, associated = await _shape(calls, task.target, target)
    diffs = differences(want, have)
    if not diffs:
        return Done()
    if not task.may_change:
        return Fail(differ_reason("QoS spec", name, task.target, diffs))
    base = f"/qos-specs/{segment(str(target['id']))}"
    if want["consumer"] != have["consumer"] or any(have["specs"].get(k) != v for k, v in want["specs"].items()):
        body = {"qos_specs": {**want["specs"], "consumer": want["consumer"]}}
        await _expect(calls, task.target, "PUT", base, (200,), json_body=body)
    extra = sorted(have["specs"].keys() - want["specs"].keys())
    if extra:
        await _expect(calls, task.target, "PUT", base + "/delete_keys", (200, 202), json_body={"keys": extra})
    for type_name in sorted(set(want["volume_types"]) - set(associated)):
        found = await volume_type.by_name(calls, task.target, type_name)
        if found is None:
            raise TemporaryError(f"Volume type {type_name} is not in {task.target} yet; QoS spec {name} waits for it.")
        params = [("vol_type_id", str(found["id"]))]
        await _expect(calls, task.target, "GET", base + "/associate", (200, 202), params=params)
    for type_name in sorted(set(associated) - set(want["volume_types"])):
        params = [("vol_type_id", associated[type_name])]
        await _expect(calls, task.target, "GET", base + "/disassociate", (200, 202), params=params)
    return Done()


async def remove(calls: PodCalls, task: SyncTask) -> Outcome:
    found = await by_name(calls, task.target, task.resource)
    params = [("force", "True")]
    return await volume_type.delete_found(calls, task, "QoS spec", "/qos-specs", found, params=params, headers=HEADERS)
