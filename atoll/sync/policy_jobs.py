"""The jobs of sync policies, on the same job types and handlers as os-sync.

A repair is one `sync_policy` parent job per (policy, target pod) whose children are
os-sync's own `sync_<type>` jobs with `force` (repair means make it the same); the
policy's removal of its copies (DELETE ...?remove_copies=true) is one `sync_policy`
parent whose children are `sync_remove_<type>` jobs, one per (target, resource). Every
child has os-sync's ordering key, so a removal runs after a repair of the same copy
that is still queued, and neither runs beside an os-sync copy of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from atoll.jobs.declarations import JobType, JobTypes, RetryPolicy
from atoll.jobs.enqueue import NewJob
from atoll.sync import flavor, group_type, image, keypair, metadefs, qos_specs, secgroup, volume_type
from atoll.sync.calls import PodCalls
from atoll.sync.handlers import CHILD_RESOURCE, Sync, child_type_name, handler

PARENT = "sync_policy"
REPAIR, REMOVE = "repair", "remove"
REMOVERS: Mapping[str, Sync] = {
    "keypair": keypair.remove,
    "flavor": flavor.remove,
    "security_group": secgroup.remove,
    "image": image.remove,
    "volume_type": volume_type.remove,
    "qos_specs": qos_specs.remove,
    "group_type": group_type.remove,
    "metadef_namespace": metadefs.remove,
}
"""Deletes of one copy in one pod: a sync policy's removal of its copies, and the gateway's catch-up
of a pod that missed a delete of a global resource (`atoll.gateway.catchup`)."""


class Kept(Protocol):
    """What the jobs need of a policy (its row, or any object with these attributes)."""

    id: str
    project_id: str
    user_id: str
    resource_type: str
    source: str


def remove_type_name(resource_type: str) -> str:
    return f"sync_remove_{resource_type}"


def job_types(calls: PodCalls | None, retry: RetryPolicy | None = None) -> list[JobType]:
    parent = JobType(PARENT, ("policy_id", "action"), description="One repair or removal of a sync policy.")
    removers = [
        JobType(
            remove_type_name(name),
            CHILD_RESOURCE,
            handler(calls, remove),
            key_template="sync:{resource_type}:{target}:{resource}",
            retry=retry,
            description=f"Delete one {name} in one target pod (a sync policy's copy, or a delete the pod missed).",
        )
        for name, remove in REMOVERS.items()
    ]
    return [parent, *removers]


def _child(types: JobTypes, type_name: str, policy: Kept, target: str, resource: str) -> NewJob:
    child_type = types.get(type_name)
    if child_type is None:
        raise RuntimeError(f"job type {type_name} is not declared in this process")
    body = {
        "resource_type": policy.resource_type,
        "resource": resource,
        "source": policy.source,
        "target": target,
        "force": True,
        "user_id": policy.user_id,
        "policy_id": policy.id,
    }
    return NewJob(child_type, policy.project_id, body)


def _parent(types: JobTypes, policy: Kept, action: str, children: list[NewJob], **more: str) -> NewJob:
    parent_type = types.get(PARENT)
    if parent_type is None:
        raise RuntimeError("the sync policy job types are not declared in this process")
    return NewJob(parent_type, policy.project_id, {"policy_id": policy.id, "action": action, **more}, children=children)


def repair(types: JobTypes, policy: Kept, target: str, resources: Sequence[str]) -> NewJob:
    """Make `resources` in `target` the source's (os-sync's copy with force)."""
    kind = child_type_name(policy.resource_type)
    children = [_child(types, kind, policy, target, r) for r in resources]
    return _parent(types, policy, REPAIR, children, target=target)


def removal(types: JobTypes, policy: Kept, targets: Sequence[str], resources: Sequence[str]) -> NewJob | None:
    """Delete the copies of `resources` in `targets` (never the source); None when there are none."""
    kind = remove_type_name(policy.resource_type)
    children = [_child(types, kind, policy, t, r) for t in targets if t != policy.source for r in resources]
    return _parent(types, policy, REMOVE, children) if children else None
