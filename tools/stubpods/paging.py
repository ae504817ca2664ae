"""Sorting, markers and limits over in-memory resources, as SQL-backed services do them.

A page is the items after the marker in the requested order, compared on the
sort keys as the services' `paginate_query` does (keyset pagination: the
marker's own values, not its position, so a marker outside the filter still
works). The services differ only in how they parse the query and name their
errors; each service module does that and calls `page`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

Item = Mapping[str, Any]
T = TypeVar("T", bound=Item)


@dataclasses.dataclass(frozen=True)
class SortKey:
    key: str
    desc: bool


def _compare(a: Any, b: Any) -> int:
    # NULLs first in ascending order, as MySQL sorts them.
    if a == b:
        return 0
    if a is None:
        return -1
    if b is None:
        return 1
    return -1 if a < b else 1


def compare(a: Item, b: Item, keys: Sequence[SortKey]) -> int:
    for key in keys:
        result = _compare(a.get(key.key), b.get(key.key))
        if result:
            return -result if key.desc else result
    return 0


def sort(items: Iterable[T], keys: Sequence[SortKey]) -> list[T]:
    def cmp(a: T, b: T) -> int:
        return compare(a, b, keys)

    return sorted(items, key=functools.cmp_to_key(cmp))


def page(
    items: Iterable[T],
    keys: Sequence[SortKey],
    *,
    limit: int | None,
    marker: Item | None,
) -> list[T]:
    """The items after `marker` (None: from the start) in `keys` order, at most `limit` of them."""
    ordered = sort(items, keys)
    if marker is not None:
        ordered = [item for item in ordered if compare(item, marker, keys) > 0]
    return ordered if limit is None else ordered[:limit]


def with_defaults(keys: list[str], dirs: list[str], defaults: Sequence[str], default_dir: str) -> list[SortKey]:
    """Nova's and Cinder's `process_sort_params`: missing directions take the first given one (else
    `default_dir`); the default keys are appended (in that direction) when absent.
    Raises ValueError for more directions than keys or an unknown direction."""
    first = dirs[0] if dirs else default_dir
    for direction in dirs:
        if direction not in ("asc", "desc"):
            raise ValueError("Unknown sort direction, must be 'desc' or 'asc'")
    if len(dirs) > len(keys):
        raise ValueError("Sort direction size exceeds sort key size")
    result_dirs = list(dirs) + [first] * (len(keys) - len(dirs))
    result = [SortKey(k, d == "desc") for k, d in zip(keys, result_dirs, strict=True)]
    result += [SortKey(k, first == "desc") for k in defaults if k not in keys]
    return result


def matcher(filters: Mapping[str, Callable[[Any], bool]]) -> Callable[[Item], bool]:
    def matches(item: Item) -> bool:
        return all(test(item.get(field)) for field, test in filters.items())

    return matches
