"""A sync policy as the API shows it: its row, and each target pod's state from the last check.

The target set is resolved from the pods registered now, so a pod registered after the
last check shows as `pending`, and a pod no longer targeted is not shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from atoll.api.schemas import sync_policies as schemas
from atoll.core.errors import InvalidInput
from atoll.db.models import Pod, SyncPolicy, SyncPolicyPod
from atoll.sync.policy import PENDING, target_kind, targets, worst


def _resource(name: str, found: Mapping[str, Any] | None) -> schemas.ResourceState:
    if found is None:
        return schemas.ResourceState(resource=name, state=PENDING, differences=[], reason="")
    return schemas.ResourceState(
        resource=name,
        state=str(found.get("state", PENDING)),
        differences=list(found.get("differences") or []),
        reason=str(found.get("reason") or ""),
    )


def _pod(policy: SyncPolicy, name: str, row: SyncPolicyPod | None) -> schemas.PodState:
    known: Mapping[str, Any] = row.resources if row is not None else {}
    resources = [_resource(r, known.get(r)) for r in policy.resources]
    if row is None:
        return schemas.PodState(
            pod=name,
            state=PENDING,
            resources=resources,
            reason="",
            unreachable_since=None,
            checked_at=None,
            job_id=None,
        )
    # A state that compared nothing (unreachable, syncing) keeps the resources of an earlier check.
    unseen = [r for r in policy.resources if r not in known]
    state = worst([row.state, PENDING]) if unseen else row.state
    return schemas.PodState(
        pod=name,
        state=state,
        resources=resources,
        reason=row.reason,
        unreachable_since=row.unreachable_since,
        checked_at=row.checked_at,
        job_id=row.job_id,
    )


def pod_states(policy: SyncPolicy, rows: Sequence[SyncPolicyPod], pods: Sequence[Pod]) -> list[schemas.PodState]:
    by_pod = {r.pod: r for r in rows}
    return [_pod(policy, name, by_pod.get(name)) for name in targets(policy.target, policy.source, pods)]


def _fields(policy: SyncPolicy, states: Sequence[schemas.PodState]) -> dict[str, Any]:
    return {
        "id": policy.id,
        "name": policy.name,
        "project_id": policy.project_id,
        "user_id": policy.user_id,
        "resource_type": policy.resource_type,
        "resources": list(policy.resources),
        "source": policy.source,
        "target": dict(policy.target),
        "state": worst(s.state for s in states),
        "source_error": policy.source_error,
        "checked_at": policy.checked_at,
        "created_at": policy.created_at,
        "updated_at": policy.updated_at,
    }


def summary(policy: SyncPolicy, rows: Sequence[SyncPolicyPod], pods: Sequence[Pod]) -> schemas.SyncPolicy:
    return schemas.SyncPolicy(**_fields(policy, pod_states(policy, rows, pods)))


def detail(policy: SyncPolicy, rows: Sequence[SyncPolicyPod], pods: Sequence[Pod]) -> schemas.SyncPolicyDetail:
    states = pod_states(policy, rows, pods)
    return schemas.SyncPolicyDetail(**_fields(policy, states), pods=states)


def check_pods(source: str, target: Mapping[str, Any], pods: Sequence[Pod]) -> None:
    """A 400 naming what is wrong when the source or a named target is not a pod of Atoll."""
    bottoms = {p.region_name: p for p in pods if not p.is_top}
    known = ", ".join(sorted(bottoms)) or "none"
    if source not in bottoms:
        raise InvalidInput(f"Unknown source pod {source}; the pods are: {known}.")
    kind = target_kind(target)
    if kind == "pods":
        unknown = [p for p in target["pods"] if p not in bottoms]
        if unknown:
            raise InvalidInput(f"Unknown target pod(s) {', '.join(unknown)}; the pods are: {known}.")
        if source in target["pods"]:
            raise InvalidInput(f"Pod {source} is the source; it cannot be a target too.")
    elif kind == "az":
        zones = sorted({p.az_name for p in bottoms.values()})
        if target["az"] not in zones:
            raise InvalidInput(f"No pod is in availability zone {target['az']}; the zones are: {', '.join(zones)}.")
