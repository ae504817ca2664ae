"""Sync policies, the pure part: which pods a policy targets and what state each one is in.

A policy keeps some resources of one type from a source pod present and identical in a
target set: named pods ({"pods": [...]}), the pods of an AZ ({"az": "az1"}) or every pod
({"all": true}); the source pod is never a target. The set is resolved again at every
check, so a pod registered after the policy was made (or moved into its AZ) is a target
from the next check on.

Each target pod is in one state; a policy's own state is its worst pod's:

    error        a check of this pod failed for a reason waiting will not cure
    unreachable  the pod is down (health probe) or did not answer; since when is kept
    drifted      a resource differs (the differences are shown per resource)
    missing      a resource is absent
    syncing      a repair job for this pod is queued or running
    pending      not checked yet
    in_sync      every resource is present and identical
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

IN_SYNC, DRIFTED, MISSING, SYNCING = "in_sync", "drifted", "missing", "syncing"
UNREACHABLE, ERROR, PENDING = "unreachable", "error", "pending"
WORST_FIRST = (ERROR, UNREACHABLE, DRIFTED, MISSING, SYNCING, PENDING, IN_SYNC)
STATES = frozenset(WORST_FIRST)

MEMBER_TYPES = ("keypair", "security_group")
"""Resource types whose policies a project member may make for its own project (by default)."""


class PodLike(Protocol):
    @property
    def region_name(self) -> str: ...

    @property
    def az_name(self) -> str: ...

    @property
    def is_top(self) -> bool | None: ...


def target_kind(target: Mapping[str, Any]) -> str:
    """ "pods", "az" or "all"."""
    (kind,) = target
    return str(kind)


def targets(target: Mapping[str, Any], source: str, pods: Iterable[PodLike]) -> list[str]:
    """The region names of the pods `target` names now, in registration order, never the source.

    A named pod that is no longer registered is left out (its state is no longer shown)."""
    bottoms = [p for p in pods if not p.is_top and p.region_name != source]
    kind = target_kind(target)
    if kind == "pods":
        wanted = set(target["pods"])
        return [p.region_name for p in bottoms if p.region_name in wanted]
    if kind == "az":
        return [p.region_name for p in bottoms if p.az_name == target["az"]]
    return [p.region_name for p in bottoms]


def pod_state(resources: Mapping[str, Mapping[str, Any]]) -> str:
    """A pod's state from its resources' states (each in_sync, drifted, missing or error)."""
    return worst(r["state"] for r in resources.values()) if resources else IN_SYNC


def worst(states: Iterable[str]) -> str:
    found = set(states)
    return next((s for s in WORST_FIRST if s in found), IN_SYNC)


def needs_repair(resources: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The resources a repair job must copy: the drifted and the missing ones, in order."""
    return [name for name, r in resources.items() if r["state"] in (DRIFTED, MISSING)]


def repair_delay(interval: float, failures: int, cap: float = 3600.0) -> float:
    """Seconds to wait after the `failures`-th failed repair in a row before the next one: two
    check intervals after the first, doubling with each failure, at most `cap`."""
    if failures <= 0:
        return 0.0
    return float(min(cap, interval * 2.0 ** min(failures, 30)))


def unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))
