"""Declarations of the OpenStack resources Atoll handles (see `spec.Resource`).

One module per service; `ALL` lists every declaration, and a test checks each.
The volume, image and network parts add `volume.py`, `image.py`, `network.py`.
"""

from __future__ import annotations

from atoll.resources.compute import COMPUTE_RESOURCES
from atoll.resources.spec import Placement, Resource
from atoll.resources.volume import VOLUME_RESOURCES

ALL: tuple[Resource, ...] = COMPUTE_RESOURCES + VOLUME_RESOURCES


def by_name(name: str) -> Resource:
    for resource in ALL:
        if resource.name == name:
            return resource
    raise KeyError(name)


__all__ = ["ALL", "Placement", "Resource", "by_name"]
