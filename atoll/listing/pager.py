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

Copies (`Pager.copies`, for Glance's images: one image, the same id, in
several pods, each copy with its own `created_at`, so copies sort apart). An
item is shown from the first pod, in the order the pods are given, that lists
it; a later pod's copy is passed over. Only the items a page would show are
looked at: an item is known to be a copy when an earlier pod's answer holds
its id, otherwise each earlier pod is asked once per round which of the
page's ids it lists (`Lists`). So a page costs at most one question per pod
and round, not one per pair of pods. Then the page is merged again without
the copies, which may need more items (a follow-up) and more questions; after
`max_copy_rounds` rounds the page stops before the first item not yet asked
about. Each pod's position moves past the copies it passed over, so every
page makes progress: a pod whose whole answer was copies, when the page can
go back to it no more, is left out of the page (partial) with its position
past them.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Container, Iterable, Mapping, Sequence
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

Lists = Callable[[str, list[str]], Awaitable[Iterable[str]]]
"""``lists(pod, ids)``: which of `ids` the pod lists with the list's filters (none when it cannot tell:
its copies are shown, a duplicate rather than a hole)."""


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
    copies: Lists | None = None
    """With it, one item per id across the pods: a later pod's copy of an earlier pod's item is passed over."""
    max_copy_rounds: int = 8
    """Rounds of asking pods which of the page's items they list, before the page stops before the first
    item not asked about."""
    copies_ahead: int = 40
    """Items looked at in one round, the page's and those that would follow them (a pod is asked about
    at most this many ids at once)."""

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
        copies = None if self.copies is None else _Copies(self.copies, list(pods), spec.collection.item_id)
        merged = await self._merge(live, spec, key, limit, results, partial, copies)
        beyond = {} if copies is None else {pod: spec.values(item) for pod, item in copies.beyond.items()}
        following = _advance(spec, marker, pods, results, merged, beyond)
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
        copies: _Copies | None = None,
    ) -> Merged:
        """The page, after asking the pods it would use up for more (`results` and `partial` updated),
        and, with `copies`, without the copies of earlier pods' items (its `taken` counts them).

        Every follow-up round of a page shares one `timeout` (so a page takes at most twice it): a
        pod that does not answer within what is left is left out of the page like one that failed,
        and once it has run out the page stops early, as after `max_follow_ups` rounds."""
        clock = asyncio.get_running_loop().time
        deadline = clock() + self.timeout
        follow_ups = copy_rounds = 0
        while True:
            runs = _runs(live, results)
            merged, wanted = wanting(copies.shown(runs) if copies else runs, limit, key, collapse=self.collapse)
            if copies is not None and copy_rounds < self.max_copy_rounds and copies.unsettled(merged.entries):
                copy_rounds += 1
                left = deadline - clock()
                ahead = max(limit, self.copies_ahead)
                candidates = merge([Run(r.pod, r.items, False) for r in copies.shown(runs)], ahead, key)
                if left > 0 and await copies.settle(candidates.entries, runs, left):
                    continue  # the page lost copies: merged again, it may want more items
            if not wanted:
                if copies is None:
                    return merged
                break
            left = deadline - clock()
            if follow_ups >= self.max_follow_ups or left <= 0:
                break  # the page stops early, before the first item it cannot be sure of
            follow_ups += 1
            follow = {run.pod: run for run in runs if run.pod in wanted}
            answers = await self._follow_up(spec, follow, wanted, left)
            for pod, why in answers.failed.items():
                del results[pod]  # left out of this page, as if it had failed at first: it keeps its position
                partial[pod] = why
            for pod, run in answers.results.items():
                results[pod] = dataclasses.replace(results[pod], run=run)
        runs = _runs(live, results)
        if copies is None:
            return merge(runs, limit, key, collapse=self.collapse)
        return copies.final(runs, limit, key, self.collapse, partial)

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


class _Copies:
    """One page's copies: which of its pods' items an earlier pod lists too (see the module's doc)."""

    def __init__(self, lists: Lists, pods: list[str], item_id: Callable[[Item], str]) -> None:
        self.lists = lists
        self.earlier = {pod: pods[:index] for index, pod in enumerate(pods)}
        self.item_id = item_id
        self.known: dict[str, set[str]] = {pod: set() for pod in pods}
        """Ids each pod is known to list: from its answers, and from what it was asked."""
        self.asked: dict[str, set[str]] = {pod: set() for pod in pods}
        self.settled: set[tuple[str, str]] = set()
        """(pod, id) of the items looked at: shown, or `hidden`."""
        self.hidden: set[tuple[str, str]] = set()
        self.beyond: dict[str, Item] = {}
        """Pods whose position `final` moved past copies after their last shown item: the last copy passed."""

    def unsettled(self, entries: Sequence[Entry]) -> bool:
        return any((entry.pod, self.item_id(entry.item)) not in self.settled for entry in entries)

    async def settle(self, entries: Sequence[Entry], runs: Sequence[Run], timeout: float) -> bool:
        """Look at the entries not looked at yet (asking earlier pods at once, each once); True when
        any item is now hidden. Copies the pods' answers show (an id in two runs) are hidden first,
        without asking."""
        before = len(self.hidden)
        holder: dict[str, str] = {}
        for run in runs:  # in the pods' order
            known = self.known[run.pod]
            for item in run.items:
                id_ = self.item_id(item)
                known.add(id_)
                if holder.setdefault(id_, run.pod) != run.pod:
                    self.hidden.add((run.pod, id_))
                    self.settled.add((run.pod, id_))
        pending = [(pod, self.item_id(entry.item)) for entry in entries for pod in entry.pods]
        pending = [seen for seen in pending if seen not in self.settled]
        questions: dict[str, list[str]] = {}
        for pod, id_ in pending:
            earlier = self.earlier.get(pod, [])
            if any(id_ in self.known[other] for other in earlier):
                continue
            for other in earlier:
                if id_ not in self.asked[other]:
                    self.asked[other].add(id_)
                    questions.setdefault(other, []).append(id_)

        async def ask(pod: str) -> Iterable[str]:
            return await self.lists(pod, questions[pod])

        answers = await fan_out(list(questions), ask, timeout)  # one that cannot tell lists none of them
        for pod, listed in answers.results.items():
            self.known[pod].update(set(listed).intersection(questions[pod]))
        self.hidden |= {
            (pod, id_) for pod, id_ in pending if any(id_ in self.known[o] for o in self.earlier.get(pod, []))
        }
        self.settled.update(pending)
        return len(self.hidden) > before

    def shown(self, runs: Sequence[Run]) -> list[Run]:
        """The runs without the hidden copies."""
        if not self.hidden:
            return list(runs)
        hidden, item_id = self.hidden, self.item_id
        return [Run(run.pod, [i for i in run.items if (run.pod, item_id(i)) not in hidden], run.more) for run in runs]

    def final(
        self, runs: Sequence[Run], limit: int, key: Callable[[Item], Key], collapse: bool, partial: dict[str, str]
    ) -> Merged:
        """The page of the runs without their copies, up to its first item not looked at; `taken`
        counts each run's items, the copies it passed over included."""
        shown = self.shown(runs)
        stuck = {run.pod for run in shown if run.more and not run.items}
        for pod in stuck:  # every item it gave is a copy, and its next could sort first: its rest comes later
            partial[pod] = "listed only copies of items earlier pods show; its next items come on later pages"
        kept = [run for run in shown if run.pod not in stuck]
        merged = merge(kept, limit, key, collapse=collapse)
        looked = 0
        for entry in merged.entries:
            if (entry.pod, self.item_id(entry.item)) not in self.settled:
                break
            looked += 1
        if looked < len(merged.entries):
            merged = merge(kept, looked, key, collapse=collapse)
        taken = {run.pod: self._taken(run, merged.taken.get(run.pod, 0)) for run in runs}
        for run in runs:
            last = run.items[taken[run.pod] - 1] if taken[run.pod] else None
            if last is not None and (run.pod, self.item_id(last)) in self.hidden:
                self.beyond[run.pod] = last
        return dataclasses.replace(merged, taken=taken)

    def _taken(self, run: Run, shown: int) -> int:
        """How many of the run's items come up to its `shown`-th shown item and the copies right after it."""
        taken = 0
        for item in run.items:
            hidden = (run.pod, self.item_id(item)) in self.hidden
            if not hidden:
                if not shown:
                    break
                shown -= 1
            taken += 1
        return taken


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
    spec: SortSpec,
    marker: Marker,
    pods: Sequence[str],
    results: Mapping[str, _PodResult],
    merged: Merged,
    beyond: Mapping[str, Values] | None = None,
) -> Marker | None:
    """The marker after this page: each pod's new position, and the new high mark. A pod in `beyond`
    passed over copies up to those values, which may sort after the page's last item."""
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
            if beyond and pod in beyond:
                bound = _highest(spec, bound, beyond[pod])
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
