"""Read-only comparison of a policy's resources: what differs in a target, without changing it.

Each resource type's module reads its source once (`read_source`, PermanentError when the
source lacks it) and compares one target against it (`drift`): None when the target has
no copy, else the differences (target != source), [] when identical. Sync's own handlers
repair what this finds (with force).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from atoll.sync import flavor, image, keypair, secgroup
from atoll.sync.calls import PodCalls
from atoll.sync.task import Subject

ReadSource = Callable[[PodCalls, Subject], Awaitable[Any]]
Drift = Callable[[PodCalls, Subject, Any, str], Awaitable[list[str] | None]]

COMPARERS: Mapping[str, tuple[ReadSource, Drift]] = {
    "keypair": (keypair.read_source, keypair.drift),
    "flavor": (flavor.read_source, flavor.drift),
    "security_group": (secgroup.read_source, secgroup.drift),
    "image": (image.read_source, image.drift),
}


async def read_source(calls: PodCalls, subject: Subject) -> Any:
    return await COMPARERS[subject.resource_type][0](calls, subject)


async def drift(calls: PodCalls, subject: Subject, source: Any, target: str) -> list[str] | None:
    return await COMPARERS[subject.resource_type][1](calls, subject, source, target)
