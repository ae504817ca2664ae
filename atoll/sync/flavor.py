"""flavor: the same id, sizes, description, extra specs and (for a private one) access list.

Nova's flavors are immutable but for their description and extra specs: a flavor that
differs in a size is replaced (deleted and made again with the same id) under `force`.
Named by id or by name, as Kingbird named them.
"""

from __future__ import annotations

from typing import Any

from atoll.jobs.outcomes import Done, Fail, Outcome, PermanentError, TemporaryError
from atoll.sync.calls import PodCalls, brief, compute_headers, segment
from atoll.sync.task import Subject, SyncTask, differ_reason, differences

HEADERS = compute_headers()
PUBLIC = "os-flavor-access:is_public"
EPHEMERAL = "OS-FLV-EXT-DATA:ephemeral"
FIXED = ("name", "ram", "vcpus", "disk", "swap", EPHEMERAL, "rxtx_factor", PUBLIC)
"""What cannot change on an existing flavor."""


async def _by_id(calls: PodCalls, region: str, flavor_id: str) -> dict[str, Any] | None:
    response = await calls.call(region, "compute", "GET", f"/flavors/{segment(flavor_id)}", headers=HEADERS)
    if response.status == 404:
        return None
    if response.status != 200:
        raise PermanentError(f"Reading flavor {flavor_id} in {region}: {response.status} {brief(response)}")
    flavor: dict[str, Any] = response.json()["flavor"]
    return flavor


async def _by_name(calls: PodCalls, region: str, name: str) -> dict[str, Any] | None:
    found = await calls.json(region, "compute", "/flavors/detail", params=[("is_public", "None")], headers=HEADERS)
    return next((f for f in found["flavors"] if f["name"] == name), None)


def _fixed(flavor: dict[str, Any]) -> dict[str, Any]:
    shape = {k: flavor.get(k) for k in FIXED}
    shape["swap"] = int(flavor.get("swap") or 0)  # "" for none before microversion 2.75
    shape[EPHEMERAL] = int(flavor.get(EPHEMERAL) or 0)
    return shape


async def _extra_specs(calls: PodCalls, region: str, flavor_id: str) -> dict[str, str]:
    found = await calls.json(region, "compute", f"/flavors/{segment(flavor_id)}/os-extra_specs", headers=HEADERS)
    specs: dict[str, str] = found["extra_specs"]
    return specs


async def _access(calls: PodCalls, region: str, flavor: dict[str, Any]) -> set[str]:
    if flavor.get(PUBLIC, True):
        return set()
    found = await calls.json(region, "compute", f"/flavors/{segment(flavor['id'])}/os-flavor-access", headers=HEADERS)
    return {a["tenant_id"] for a in found["flavor_access"]}


async def _expect(calls: PodCalls, region: str, method: str, path: str, ok: tuple[int, ...], **kw: Any) -> None:
    await calls.expect(region, "compute", method, path, ok, headers=HEADERS, **kw)


async def _create(calls: PodCalls, task: SyncTask, source: dict[str, Any]) -> dict[str, Any]:
    """Make the source's flavor in the target; return it as the target answered."""
    body = {**_fixed(source), "id": source["id"], "description": source.get("description")}
    made = await calls.call(task.target, "compute", "POST", "/flavors", json_body={"flavor": body}, headers=HEADERS)
    if made.status == 409:
        clash = await _by_name(calls, task.target, source["name"])
        if clash is None or clash["id"] == source["id"]:
            raise TemporaryError(f"Flavor {source['id']} was created in {task.target} meanwhile.", 1.0)
        if not task.force:
            raise PermanentError(
                f"Flavor {source['name']} exists in {task.target} with another id ({clash['id']} != "
                f"{source['id']}). Sync with force to replace it."
            )
        await _expect(calls, task.target, "DELETE", f"/flavors/{segment(clash['id'])}", (202, 204, 404))
        raise TemporaryError(f"Replaced flavor {clash['id']} of the same name in {task.target}.", 0.0)
    if made.status != 200:
        raise PermanentError(f"Creating flavor {source['id']} in {task.target}: {made.status} {brief(made)}")
    await task.mark_created()
    created: dict[str, Any] = made.json()["flavor"]
    return created


async def _converge(calls: PodCalls, task: SyncTask, fid: str, want: dict[str, Any], have: dict[str, Any]) -> None:
    """Make the target's description, extra specs and access list the source's."""
    if want["description"] != have["description"]:
        await _expect(
            calls,
            task.target,
            "PUT",
            f"/flavors/{segment(fid)}",
            (200,),
            json_body={"flavor": {"description": want["description"]}},
        )
    specs, old = want["extra_specs"], have["extra_specs"]
    if specs and any(old.get(k) != v for k, v in specs.items()):
        await _expect(
            calls,
            task.target,
            "POST",
            f"/flavors/{segment(fid)}/os-extra_specs",
            (200,),
            json_body={"extra_specs": specs},
        )
    for key in sorted(set(old) - set(specs)):
        await _expect(
            calls, task.target, "DELETE", f"/flavors/{segment(fid)}/os-extra_specs/{segment(key)}", (200, 202, 204, 404)
        )
    for tenant in sorted(set(want["access"]) - set(have["access"])):
        await _expect(
            calls,
            task.target,
            "POST",
            f"/flavors/{segment(fid)}/action",
            (200, 409),
            json_body={"addTenantAccess": {"tenant": tenant}},
        )
    for tenant in sorted(set(have["access"]) - set(want["access"])):
        await _expect(
            calls,
            task.target,
            "POST",
            f"/flavors/{segment(fid)}/action",
            (200, 404),
            json_body={"removeTenantAccess": {"tenant": tenant}},
        )


async def _mutable(calls: PodCalls, region: str, flavor: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": flavor.get("description"),
        "extra_specs": await _extra_specs(calls, region, flavor["id"]),
        "access": sorted(await _access(calls, region, flavor)),
    }


async def _read_source(calls: PodCalls, region: str, resource: str) -> dict[str, Any] | None:
    found = await _by_id(calls, region, resource) or await _by_name(calls, region, resource)
    if found is None:
        return None
    return {"flavor": found, "mutable": await _mutable(calls, region, found)}


async def sync(calls: PodCalls, task: SyncTask) -> Outcome:
    read = await task.source_read("flavor", lambda: _read_source(calls, task.source, task.resource))
    if read is None:
        return Fail(f"Flavor {task.resource} does not exist in {task.source}.")
    source, want = read["flavor"], read["mutable"]
    fid = source["id"]
    target = await _by_id(calls, task.target, fid)
    if target is not None and _fixed(target) != _fixed(source):
        if not task.may_change:
            return Fail(differ_reason("Flavor", fid, task.target, differences(_fixed(source), _fixed(target))))
        await _expect(calls, task.target, "DELETE", f"/flavors/{segment(fid)}", (202, 204, 404))
        target = None
    if target is None:
        made = await _create(calls, task, source)
        # Nothing else has a new flavor's id yet: it has no extra specs (Nova's create takes none)
        # and the description it was made with; only a private one's access list is read back.
        have: dict[str, Any] = {
            "description": made.get("description"),
            "extra_specs": {},
            "access": sorted(await _access(calls, task.target, made)),
        }
    else:
        have = await _mutable(calls, task.target, target)
    diffs = differences(want, have)
    if not diffs:
        return Done()
    if not task.may_change:
        return Fail(differ_reason("Flavor", fid, task.target, diffs))
    await _converge(calls, task, fid, want, have)
    return Done()


async def read_source(calls: PodCalls, subject: Subject) -> dict[str, Any]:
    """The source's flavor and what can change on it, for `drift` in each target."""
    found = await _by_id(calls, subject.source, subject.resource) or await _by_name(
        calls, subject.source, subject.resource
    )
    if found is None:
        raise PermanentError(f"Flavor {subject.resource} does not exist in {subject.source}.")
    return {"flavor": found, "mutable": await _mutable(calls, subject.source, found)}


async def drift(calls: PodCalls, subject: Subject, source: dict[str, Any], target: str) -> list[str] | None:
    """What differs in `target` (target != source); None when it has no flavor of the source's id."""
    flavor = source["flavor"]
    have = await _by_id(calls, target, flavor["id"])
    if have is None:
        return None
    return differences(_fixed(flavor), _fixed(have)) + differences(
        source["mutable"], await _mutable(calls, target, have)
    )


async def remove(calls: PodCalls, task: SyncTask) -> Outcome:
    """Delete the target's copy (by id, else by name); the source is never touched."""
    found = await _by_id(calls, task.target, task.resource) or await _by_name(calls, task.target, task.resource)
    if found is not None:
        await _expect(calls, task.target, "DELETE", f"/flavors/{segment(found['id'])}", (202, 204, 404))
    return Done()
