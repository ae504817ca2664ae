"""k-way merge of the pods' sorted runs into one page, and de-duplication of items every pod has.

`merge` takes from each pod a *prefix* of what it returned, in key order, so
each pod's position after the page is just "the last item taken from it".
It stops early rather than guess: when it has taken the last item a pod
returned and that pod has more, the pod's next item could sort before
anything left, so the page ends there (it is still at least one item long).
`wanting` says which pods to ask for more first so that it need not: the
pods whose runs the page would use up while they have more.
Memory is the pods' runs, each at most a page (+1) long.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any

from atoll.listing.ordering import Key

Item = Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class Run:
    """What one pod returned for this page: `items` in its sort order; `more` if it has items after them."""

    pod: str
    items: Sequence[Item]
    more: bool


@dataclasses.dataclass(frozen=True)
class Entry:
    """A merged item, the pod it came from, and other pods that listed an item with the same key (the same id)."""

    pod: str
    item: Item
    also: tuple[str, ...] = ()

    @property
    def pods(self) -> tuple[str, ...]:
        return (self.pod, *self.also)


@dataclasses.dataclass(frozen=True)
class Merged:
    entries: list[Entry]
    taken: dict[str, int]
    """How many items of each run the page took (a prefix of the run)."""
    last: Key | None
    """The key of the page's last item."""


def merge(runs: Sequence[Run], limit: int, key: Callable[[Item], Key], *, collapse: bool = True) -> Merged:
    """Up to `limit` items of the runs, in key order.

    With `collapse`, items of several pods that come next to each other with
    the same id (the key's last part: the same resource, e.g. a flavor synced
    to every pod) are one entry, listed under the first pod with the others in
    `also`. Their other sort values may differ (Glance always sorts on
    `created_at`, which is the time of each pod's copy): each pod's position
    still moves past its own copy, so no later page shows it again. Copies that
    other items separate in the sort order stay separate entries.
    """
    if any(run.more and not run.items for run in runs):  # that pod's first item could come first
        return Merged([], {run.pod: 0 for run in runs}, None)
    if len(runs) == 1:
        return _one(runs[0], limit, key)
    heap: list[tuple[Key, int, int]] = [(key(run.items[0]), index, 0) for index, run in enumerate(runs) if run.items]
    heapq.heapify(heap)
    taken = [0] * len(runs)
    entries: list[Entry] = []
    last: Key | None = None
    while heap and len(entries) < limit:
        head, index, position = heapq.heappop(heap)
        same = [(index, position)]
        while collapse and heap and heap[0][0][-1] == head[-1]:
            _, other, at = heapq.heappop(heap)
            same.append((other, at))
        drained = False
        for index_, position_ in same:
            run = runs[index_]
            taken[index_] = position_ + 1
            if position_ + 1 < len(run.items):
                heapq.heappush(heap, (key(run.items[position_ + 1]), index_, position_ + 1))
            elif run.more:
                drained = True
        entries.append(Entry(runs[index].pod, runs[index].items[position], tuple(runs[i].pod for i, _ in same[1:])))
        last = head
        if drained:
            break
    return Merged(entries, {run.pod: count for run, count in zip(runs, taken, strict=True)}, last)


def wanting(
    runs: Sequence[Run], limit: int, key: Callable[[Item], Key], *, collapse: bool = True
) -> tuple[Merged, dict[str, int]]:
    """The page the runs make as if none had more, and the pods it is not exact without.

    A pod that has more after its run is *wanted* when the page uses up its
    run (so its next item could belong on the page) and the run's last item
    is not the page's last entry; each wanted pod maps to how many of its next
    items the page could still take at most (the page's entries after the one
    with its last item). With no pod wanted, the page is the one `merge`
    makes of the same runs, and exact.
    """
    merged = merge([Run(run.pod, run.items, False) for run in runs], limit, key, collapse=collapse)
    used = [run for run in runs if run.more and merged.taken[run.pod] == len(run.items)]
    if not used:
        return merged, {}
    last_entry: dict[str, int] = {}
    for index, entry in enumerate(merged.entries):
        for pod in entry.pods:
            last_entry[pod] = index
    full = len(merged.entries) == limit
    wanted = {}
    for run in used:
        index = last_entry.get(run.pod, -1)
        if not (full and index == limit - 1):
            wanted[run.pod] = limit - 1 - index
    return merged, wanted


def _one(run: Run, limit: int, key: Callable[[Item], Key]) -> Merged:
    """One pod's run is already in key order, and has one item per id: its first `limit` items,
    as the heap would give them, without computing every item's key."""
    items = run.items[:limit]
    entries = [Entry(run.pod, item) for item in items]
    return Merged(entries, {run.pod: len(items)}, key(items[-1]) if items else None)


def dedupe(entries: Iterable[Entry], key: Callable[[Entry], Hashable]) -> list[Entry]:
    """One entry per key, the first seen, with every pod that had one in its `pods`.

    For merged lists of resources that exist in several pods under the same
    id but may differ in their sort values (so `merge` did not collapse them).
    """
    kept: dict[Hashable, Entry] = {}
    for entry in entries:
        name = key(entry)
        first = kept.get(name)
        if first is None:
            kept[name] = entry
            continue
        extra = tuple(pod for pod in entry.pods if pod not in first.pods)
        kept[name] = dataclasses.replace(first, also=first.also + extra)
    return list(kept.values())
