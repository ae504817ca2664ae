"""An os-sync request as one parent job with a child per (source, target, resource).

Pure: the API gives the request's items and the pods' names; every problem is an
`InvalidInput` saying what, raised before anything is written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence

from atoll.core.errors import InvalidInput
from atoll.jobs.declarations import JobTypes
from atoll.jobs.enqueue import NewJob
from atoll.sync.handlers import PARENT, RESOURCE_TYPES, child_type_name

MAX_CHILDREN = 1000
"""Copies one request may ask for at most (resources x targets, over all its items)."""


@dataclasses.dataclass(frozen=True)
class SyncItem:
    """One `resource_set` (or one entry of a template's `Sync` list)."""

    resource_type: str
    resources: Sequence[str]
    source: Sequence[str]
    target: Sequence[str]
    force: bool = False
    user_id: str | None = None


def parse_force(value: bool | str | None) -> bool:
    """Kingbird's clients send `force` as the strings "True"/"False"; JSON booleans work too."""
    if value is None or isinstance(value, bool):
        return bool(value)
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no", ""):
        return False
    raise InvalidInput(f"Invalid value for force: {value!r}; use true or false.")


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _check(item: SyncItem, where: str, regions: Collection[str]) -> None:
    if item.resource_type not in RESOURCE_TYPES:
        raise InvalidInput(f"{where}resource_type {item.resource_type!r} is not one of: {', '.join(RESOURCE_TYPES)}.")
    if not item.resources:
        raise InvalidInput(f"{where}resources is empty: name at least one {item.resource_type}.")
    if not item.source:
        raise InvalidInput(f"{where}source is empty: name the region to copy from.")
    if not item.target:
        raise InvalidInput(f"{where}target is empty: name at least one region to copy to.")
    unknown = [r for r in (*item.source, *item.target) if r not in regions]
    if unknown:
        known = ", ".join(sorted(regions)) or "none"
        raise InvalidInput(f"{where}unknown region(s) {', '.join(_unique(unknown))}; the pods are: {known}.")
    both = sorted(set(item.source) & set(item.target))
    if both:
        raise InvalidInput(f"{where}region(s) {', '.join(both)} are both source and target.")
    if item.user_id is not None and item.resource_type != "keypair":
        raise InvalidInput(f"{where}user_id applies to keypairs only.")


def build(
    types: JobTypes, project_id: str, user_id: str, items: Sequence[SyncItem], regions: Collection[str]
) -> NewJob:
    """The parent job of a request and its children; `regions` are the pods' region names."""
    if not items:
        raise InvalidInput("resource_set.Sync is empty: give at least one resource set.")
    parent_type = types.get(PARENT)
    if parent_type is None:
        raise RuntimeError("the sync job types are not declared in this process")
    children: list[NewJob] = []
    many = len(items) > 1
    for index, item in enumerate(items):
        where = f"resource_set.Sync[{index}]: " if many else "resource_set: "
        _check(item, where, regions)
        child_type = types.get(child_type_name(item.resource_type))
        assert child_type is not None, item.resource_type
        for source in _unique(item.source):
            for target in _unique(item.target):
                for resource in _unique(item.resources):
                    resource_body = {
                        "resource_type": item.resource_type,
                        "resource": resource,
                        "source": source,
                        "target": target,
                        "force": item.force,
                        "user_id": item.user_id or user_id,
                    }
                    children.append(NewJob(child_type, project_id, resource_body))
        if len(children) > MAX_CHILDREN:
            raise InvalidInput(f"The request asks for more than {MAX_CHILDREN} copies; split it.")
    summary = {"items": len(items), "copies": len(children), "user_id": user_id}
    return NewJob(parent_type, project_id, {"request": summary}, children=children)
