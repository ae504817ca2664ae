"""metadef_namespace: one namespace of Glance's metadata definitions catalog, whole, from the source pod
to the target (catching up a pod that missed a write through the gateway).

The catalog is global: the gateway writes every change to every up pod. A pod that missed one gets the
namespace it touched copied whole: its fields, resource type associations, properties, objects and
tags, all of which Glance takes in one `POST /v2/metadefs/namespaces`. A target whose namespace
differs has it deleted (unprotected first) and made again; a delete the pod missed is `remove`.
"""

from __future__ import annotations

from typing import Any

from atoll.jobs.outcomes import Done, Fail, Outcome, PermanentError
from atoll.sync.calls import PodCalls, brief, segment
from atoll.sync.task import SyncTask, differ_reason, differences

COLLECTION = "/v2/metadefs/namespaces"
FIELDS = ("namespace", "display_name", "description", "visibility", "protected", "owner")
ASSOCIATION = ("name", "prefix", "properties_target")
OBJECT = ("name", "description", "required", "properties")


async def read(calls: PodCalls, region: str, name: str) -> dict[str, Any] | None:
    """The namespace with everything in it, or None when the pod has none of that name."""
    path = f"{COLLECTION}/{segment(name)}"
    response = await calls.call(region, "image", "GET", path)
    if response.status == 404:
        return None
    if response.status != 200:
        raise PermanentError(f"GET {path} in {region}: {response.status} {brief(response)}")
    document = response.json()
    return document if isinstance(document, dict) else None


def shape(namespace: dict[str, Any]) -> dict[str, Any]:
    """What a copy must have the same: what Glance takes on create, without its own read-only fields
    (ids, links, schemas, timestamps)."""
    shaped = {field: namespace.get(field) for field in FIELDS}
    shaped["protected"] = bool(namespace.get("protected", False))
    shaped["visibility"] = namespace.get("visibility") or "private"
    associations = namespace.get("resource_type_associations") or []
    shaped["resource_type_associations"] = sorted(
        ({k: a.get(k) for k in ASSOCIATION if a.get(k) is not None} for a in associations),
        key=lambda a: str(a.get("name")),
    )
    shaped["properties"] = dict(namespace.get("properties") or {})
    shaped["objects"] = sorted(
        ({k: o.get(k) for k in OBJECT if o.get(k) is not None} for o in namespace.get("objects") or []),
        key=lambda o: str(o.get("name")),
    )
    shaped["tags"] = [
        {"name": n} for n in sorted(str(t["name"]) for t in namespace.get("tags") or [] if isinstance(t, dict))
    ]
    return shaped


def _create_body(shaped: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in shaped.items() if v not in (None, [], {})}
    body["protected"] = shaped["protected"]
    return body


async def _delete(calls: PodCalls, region: str, found: dict[str, Any]) -> None:
    path = f"{COLLECTION}/{segment(str(found['namespace']))}"
    if found.get("protected"):
        # Glance refuses to delete a protected namespace; its update takes the whole namespace.
        unprotected = {k: v for k, v in shape(found).items() if k in FIELDS and v is not None}
        await calls.expect(region, "image", "PUT", path, (200,), json_body={**unprotected, "protected": False})
    await calls.expect(region, "image", "DELETE", path, (204, 404))


async def sync(calls: PodCalls, task: SyncTask) -> Outcome:
    name = task.resource
    source = await read(calls, task.source, name)
    if source is None:
        return Fail(f"Metadata definitions namespace {name} does not exist in {task.source}.")
    want = shape(source)
    target = await read(calls, task.target, name)
    if target is not None:
        diffs = differences(want, shape(target))
        if not diffs:
            return Done()
        if not task.may_change:
            return Fail(differ_reason("Metadata definitions namespace", name, task.target, diffs))
        await _delete(calls, task.target, target)
    await calls.expect(task.target, "image", "POST", COLLECTION, (200, 201), json_body=_create_body(want))
    if target is None:
        await task.mark_created()
    return Done()


async def remove(calls: PodCalls, task: SyncTask) -> Outcome:
    found = await read(calls, task.target, task.resource)
    if found is not None:
        await _delete(calls, task.target, found)
    return Done()
