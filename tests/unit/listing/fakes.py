"""A pod's list API in memory, sorting and paging as the real services do, written independently of atoll.listing.

`FakePod` sorts by the sort keys it is asked for (``sort_key``/``sort_dir``
pairs or ``sort=k:dir,...``) with its own comparison (binary strings, NULL
smallest: SQLite's order, `ordering.SQLITE`), answers the items strictly
after ``marker`` (refusing a marker it does not have, like Nova's 400 and
Cinder's 404), at most ``limit`` of them, and says there is more on every
full page (Nova, Cinder). With `hidden`, items are dropped after paging, as
Glance's policy filter does, so a page may be short yet have more.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from atoll.listing.errors import MarkerNotFound, PodUnavailable
from atoll.listing.fields import Collection, Field, Kind
from atoll.listing.pager import PodAnswer, PodQuery
from atoll.types import ServiceType

THINGS = Collection(
    ServiceType.COMPUTE,
    "things",
    {
        "id": Field("id", ("id",)),
        "name": Field("name", ("name",)),
        "size": Field("size", ("size",), Kind.NUMBER),
        "created": Field("created", ("created",), Kind.TIMESTAMP),
    },
    tiebreaker="id",
)

FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S+00:00")


def _compare(a: Any, b: Any) -> int:
    if a == b:
        return 0
    if a is None:
        return -1
    if b is None:
        return 1
    return -1 if a < b else 1


def reference_key(keys: list[tuple[str, bool]]) -> Callable[[dict[str, Any]], Any]:
    """A sort key for stored items (timestamps as datetimes) by (key, ascending) pairs."""

    def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
        for key, ascending in keys:
            result = _compare(a.get(key), b.get(key))
            if result:
                return result if ascending else -result
        return 0

    return functools.cmp_to_key(compare)


def requested_sort(params: list[tuple[str, str]]) -> list[tuple[str, bool]]:
    keys = [v for k, v in params if k == "sort_key"]
    dirs = [v for k, v in params if k == "sort_dir"]
    for k, v in params:
        if k == "sort":
            for part in v.split(","):
                key, _, direction = part.partition(":")
                keys.append(key)
                dirs.append(direction)
    assert len(keys) == len(dirs), "Atoll always sends a direction with every key"
    return [(key, direction == "asc") for key, direction in zip(keys, dirs, strict=True)]


class FakePod:
    def __init__(self, name: str, items: list[dict[str, Any]], *, time_format: str = FORMATS[0]) -> None:
        self.name = name
        self.items = {item["id"]: item for item in items}
        self.time_format = time_format
        self.hidden: set[str] = set()
        self.fail: Callable[[PodQuery], str | None] = lambda query: None
        self.hang = False
        self.calls: list[PodQuery] = []

    def show(self, item: dict[str, Any]) -> dict[str, Any]:
        shown = dict(item)
        if isinstance(item.get("created"), dt.datetime):
            shown["created"] = item["created"].strftime(self.time_format)
        return shown

    async def __call__(self, query: PodQuery) -> PodAnswer:
        self.calls.append(query)
        if self.hang:
            await asyncio.Event().wait()
        why = self.fail(query)
        if why:
            raise PodUnavailable(why)
        params = query.params()
        ordered = sorted(self.items.values(), key=reference_key(requested_sort(params)))
        start = 0
        if query.marker is not None:
            ids = [item.get("id") for item in ordered]
            if query.marker not in ids:
                raise MarkerNotFound(query.marker)
            start = ids.index(query.marker) + 1
        page = ordered[start : start + query.limit]
        more = len(page) == query.limit
        return PodAnswer([self.show(item) for item in page if item.get("id") not in self.hidden], more)


class FakePods:
    """Pods by name, and the ``fetch`` function the pager calls."""

    def __init__(self, pods: list[FakePod]) -> None:
        self.pods = {pod.name: pod for pod in pods}

    async def fetch(self, pod: str, query: PodQuery) -> PodAnswer:
        return await self.pods[pod](query)

    def __repr__(self) -> str:
        return repr({name: list(pod.items.values()) for name, pod in self.pods.items()})

    def union(self) -> list[dict[str, Any]]:
        return [item for pod in self.pods.values() for item in pod.items.values()]
