"""One page of a merged listing: ask every pod from its own position, merge, and say where each pod now stands.

How much to ask. Each pod is first asked for a share of the page
(`sizing.first_ask`: 4 items of a 20-item page across 100 pods, the whole
page + 1 when the page over every pod is small; `hot` pods always the whole
page + 1). The page is merged as if those were all; when
it would use up the items of a pod that said it has more (and the pod's last
item is not the page's last), that pod is asked for its next items, from the
last one it gave (its native marker), as many as the page could still take
from it + 1; every such pod at once, then the page is merged again. Each
round needs one per pod at most unless a pod answers fewer than asked yet
has more; after `max_follow_ups` rounds the merge stops early, before the
first item it cannot be sure of, as it always did. A pod that fails in a
follow-up round is left out of the page like one that fails in the first:
partial, keeping the position it had before the page.

Why pages are exact. Every pod is asked for the items after *its own*
position (its pod-native marker: the last item taken from it), sorted as the
merge sorts; the merge takes a prefix of each pod's answer; the new marker
records, per pod, the last item taken. So an item is shown once and no item
that exists throughout is skipped, at any page size and with any sort, also
when items come and go between pages.

A pod without a native marker (nothing taken yet, the client gave a plain id,
or the pod refused its marker because that item was deleted) is *sought*: it
is listed from its start and what sorts at or before its bound (`Marker.bound`)
is dropped. Seeking costs one request per `pod_max_limit` items passed over;
a pod still seeking after `max_seek_requests` requests is reported partial for
this page, and the marker keeps how far it got, so the next page goes on from
there instead of starting over.

A pod that fails keeps its position: its items come on later pages (merged
in order within each page, though they sort before what was already shown)
instead of being lost. The page says which pods were partial and why.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Container, Mapping, Sequence
from itertools import repeat

from atoll.listing import sizing
from atoll.listing.errors import MarkerNotFound, PodUnavailable
from atoll.listing.fanout import FanOut, fan_out
from atoll.listing.fields import Collection
from atoll.listing.marker import EXHAUSTED, Marker, Position, Values
from atoll.listing.merge import Entry, Item, Merged, Run, merge, wanting
from atoll.listing.ordering import Key
from atoll.listing.spec import SortSpec


@dataclasses.dataclass(frozen=True)
class PodQuery:
    """What to ask one pod for. Send `params()` with the request's filters to the pod's list call."""

    spec: SortSpec
    limit: int
    marker: str | None

    def params(self) -> list[tuple[str, str]]:
        params = [("limit", str(self.limit)), *self.spec.pod_params()]
        return params if self.marker is None else [*params, ("marker", self.marker)]


@dataclasses.dataclass(frozen=True)
class PodAnswer:
    """A pod's list response: its items in order, and whether it said there are more (a next link)."""

    items: Sequence[Item]
    more: bool


Fetch = Callable[[str, PodQuery], Awaitable[PodAnswer]]
"""``fetch(pod, query)``: list from one pod, raising `PodUnavailable` or `MarkerNotFound` as they apply."""


@dataclasses.dataclass(frozen=True)
class Page:
    entries: list[Entry]
    """The page's items, in the order the client sees them, each with its pod."""
    next: Marker | None
    """Where the next page starts (in the walking direction); None when every pod is exhausted."""
    partial: dict[str, str]
    """Pods left out of this page -> why (for logs; the header takes the names)."""

    @property
    def items(self) -> list[Item]:
        return [entry.item for entry in self.entries]


@dataclasses.dataclass(frozen=True)
class _PodResult:
    run: Run | None
    after: str | None
    """The pod-native position just before `run` (after seeking, the last item passed over)."""
    stalled: str | None = None


@dataclasses.dataclass(frozen=True)
class Pager:
    """How to ask the pods: the fetch function and its limits."""

    fetch: Fetch
    timeout: float
    pod_max_limit: int = 1000
    max_seek_requests: int = 5
    collapse: bool = True
    first_ask: Callable[[int, int], int] = sizing.first_ask
    """``first_ask(limit, pods)``: how many items to ask each pod for first (at most `limit` + 1 is used)."""
    max_follow_ups: int = 3
    """Rounds of asking pods whose items the page used up for more, before the page stops early instead."""

    async def page(
        self,
        pods: Sequence[str],
        spec: SortSpec,
        limit: int,
        marker: Marker | None = None,
        hot: Container[str] = (),
    ) -> Page:
        """The page of `limit` items after `marker` (from the start without one) across `pods`;
        the `hot` pods (likely to hold many of the items) are asked for the whole page at once."""
        marker = marker or Marker.start(spec)
        live = [pod for pod in pods if not marker.position(pod).exhausted]
        if limit <= 0 or not live:
            return Page([], None, {})
        full = min(limit + 1, self.pod_max_limit)
        ask = max(1, min(self.first_ask(limit, len(live)), full))
        key = spec.item_key()

        async def call(pod: str) -> _PodResult:
            return await self._pod(pod, spec, key, marker, full if pod in hot else ask, full)

        answers = await fan_out(live, call, self.timeout)
        partial = dict(answers.failed)
        results = dict(answers.results)
        partial |= {pod: result.stalled for pod, result in results.items() if result.stalled}
        merged = await self._merge(live, spec, key, limit, results, partial)
        following = _advance(spec, marker, pods, results, merged)
        entries = merged.entries[::-1] if spec.reverse else merged.entries
        return Page(entries, following, {pod: partial[pod] for pod in live if pod in partial})

    async def _merge(
        self,
        live: Sequence[str],
        spec: SortSpec,
        key: Callable[[Item], Key],
        limit: int,
        results: dict[str, _PodResult],
        partial: dict[str, str],
    ) -> Merged:
        """The page, after asking the pods it would use up for more (`results` and `partial` updated).

        Every follow-up round of a page shares one `timeout` (so a page takes at most twice it): a
        pod that does not answer within what is left is left out of the page like one that failed,
        and once it has run out the page stops early, as after `max_follow_ups` rounds."""
        clock = asyncio.get_running_loop().time
        deadline = clock() + self.timeout
        for _ in range(self.max_follow_ups):
            runs = _runs(live, results)
            merged, wanted = wanting(runs, limit, key, collapse=self.collapse)
            if not wanted:
                return merged
            left = deadline - clock()
            if left <= 0:
                break  # the page stops early, before the first item it cannot be sure of
            follow = {run.pod: run for run in runs if run.pod in wanted}
            answers = await self._follow_up(spec, follow, wanted, left)
            for pod, why in answers.failed.items():
                del results[pod]  # left out of this page, as if it had failed at first: it keeps its position
                partial[pod] = why
            for pod, run in answers.results.items():
                results[pod] = dataclasses.replace(results[pod], run=run)
        return merge(_runs(live, results), limit, key, collapse=self.collapse)

    async def _follow_up(
        self, spec: SortSpec, runs: Mapping[str, Run], wanted: Mapping[str, int], timeout: float
    ) -> FanOut[Run]:
        async def more(pod: str) -> Run:
            return await self._more(pod, spec, runs[pod], wanted[pod])

        return await fan_out(list(runs), more, timeout)

    async def _more(self, pod: str, spec: SortSpec, run: Run, wanted: int) -> Run:
        """`run` with the pod's next items after it: as many as the page could still take from it, + 1."""
        size = min(wanted + 1, self.pod_max_limit)
        after = spec.collection.item_id(run.items[-1])
        try:
            answer = await self.fetch(pod, PodQuery(spec, size, after))
        except MarkerNotFound:
            raise PodUnavailable("refused the marker of an item it had just listed") from None
        items, more = _checked(spec, answer, size)
        return Run(pod, [*run.items, *items], more)

    async def _pod(
        self, pod: str, spec: SortSpec, key: Callable[[Item], Key], marker: Marker, ask: int, full: int
    ) -> _PodResult:
        position = marker.position(pod)
        after = position.after
        bound_values = marker.bound(pod)
        bound = None if bound_values is None else spec.values_key(bound_values)
        seeking = bound is not None and (after is None or position.seeking)
        size, requests = ask, 0
        while True:
            requests += 1
            try:
                answer = await self.fetch(pod, PodQuery(spec, size, after))
            except MarkerNotFound:
                if after is None or bound is None:
                    raise PodUnavailable("refused a list without a usable marker") from None
                after, seeking = None, True  # that item is gone: seek the pod from its start by the bound
                continue
            items, more = _checked(spec, answer, size)
            if seeking and bound is not None:
                passed = _passed(items, key, bound)
                if passed:
                    after = spec.collection.item_id(items[passed - 1])
                    items = items[passed:]
                if not items and more:
                    if requests >= self.max_seek_requests:
                        return _PodResult(None, after, f"still seeking its position after {requests} requests")
                    size = self.pod_max_limit
                    continue
            if len(items) > full:  # passed over with a larger size: keep what a page can use
                items, more = items[:full], True
            return _PodResult(Run(pod, items, more), after)


def _checked(spec: SortSpec, answer: PodAnswer, size: int) -> tuple[list[Item], bool]:
    """The answer's items (at most `size`: a pod may ignore the limit) and whether more follow them."""
    items = list(answer.items)
    more = answer.more and bool(items)  # no item to continue from: nothing more can be had
    if len(items) > size:
        items, more = items[:size], True
    problem = _problem(items, spec.collection)
    if problem:
        raise PodUnavailable(problem)
    return items, more


def _runs(live: Sequence[str], results: Mapping[str, _PodResult]) -> list[Run]:
    """The runs of the pods that answered, in `live` order."""
    return [result.run for pod in live if (result := results.get(pod)) and result.run is not None]


def _problem(items: list[Item], collection: Collection) -> str | None:
    """What is wrong with a pod's list, if anything (for every item: all must be usable)."""
    path = collection.id.path
    ids: list[object]
    if set(map(type, items)) <= {dict} and len(path) == 1:  # JSON objects: checked in C loops
        ids = list(map(dict.get, items, repeat(path[0])))  # type: ignore[arg-type]
    elif all(isinstance(item, Mapping) for item in items):
        ids = [collection.id.value(item) for item in items]
    else:
        return f"answered a malformed list of {collection.name}"
    if set(map(type, ids)) <= {str} and "" not in ids:
        return None
    return f"listed {collection.name} without an id"


def _passed(items: Sequence[Item], key: Callable[[Item], Key], bound: Key) -> int:
    """How many leading items sort at or before `bound`."""
    count = 0
    while count < len(items) and key(items[count]) <= bound:
        count += 1
    return count


def _advance(
    spec: SortSpec, marker: Marker, pods: Sequence[str], results: Mapping[str, _PodResult], merged: Merged
) -> Marker | None:
    """The marker after this page: each pod's new position, and the new high mark."""
    high = marker.high
    if merged.entries:
        last = spec.values(merged.entries[-1].item)
        if high is None or spec.values_key(last) > spec.values_key(high):
            high = last
    positions: dict[str, Position] = {}
    for pod in pods:
        old = marker.position(pod)
        result = results.get(pod)
        if old.exhausted:
            positions[pod] = EXHAUSTED
            continue
        after, bound, seeking = old.after, marker.bound(pod), old.seeking
        if result is not None:
            seeking = result.stalled is not None
            run, taken = result.run, merged.taken.get(pod, 0)
            after = result.after
            if run is not None and taken:
                after = spec.collection.item_id(run.items[taken - 1])
            if run is not None and not run.more and taken == len(run.items):
                positions[pod] = EXHAUSTED
                continue
            if run is not None and merged.entries:
                bound = _highest(spec, bound, spec.values(merged.entries[-1].item))
        positions[pod] = _position(spec, after, bound, high, seeking and after is not None)
    if all(position.exhausted for position in positions.values()):
        return None
    return Marker(marker.fingerprint, high, {pod: p for pod, p in positions.items() if p != Position()})


def _highest(spec: SortSpec, a: Values | None, b: Values) -> Values:
    return b if a is None or spec.values_key(b) > spec.values_key(a) else a


def _position(spec: SortSpec, after: str | None, bound: Values | None, high: Values | None, seeking: bool) -> Position:
    in_step = bound == high or (
        bound is not None and high is not None and spec.values_key(bound) == spec.values_key(high)
    )
    if in_step:
        return Position(after=after, seeking=seeking)
    return Position(after=after, bound=bound, lagging=True, seeking=seeking)
