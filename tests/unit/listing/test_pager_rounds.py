"""Asking each pod for a few items first and going back to the pods a page used up: still exact pages.

The pager's first round is made small here (`first_ask` returns 1 to 3
whatever the page size), and the data skewed: one pod holds every newest
item, names and sizes tie, pods fail in the follow-up rounds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atoll.listing.marker import Marker, decode
from atoll.listing.pager import Page, Pager, PodAnswer, PodQuery
from atoll.listing.sizing import first_ask
from tests.unit.listing.fakes import FORMATS, FakePod, FakePods, reference_key
from tests.unit.listing.test_pager import SPECS, expected, shown, spec_of, walk

EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TIED_NAMES = st.sampled_from(["a", "b", None])
TIED_SIZES = st.one_of(st.none(), st.integers(0, 1))
NEWEST_FIRST = [("created", False)]  # Nova's default order: created_at desc (then id)


def small(k: int) -> Callable[[int, int], int]:
    """A first round of `k` items whatever the page size and the number of pods."""
    return lambda _limit, _pods: k


@st.composite
def skewed_pods(draw: st.DrawFn, min_pods: int = 1) -> FakePods:
    """Pods whose sort values tie a lot, one of them ("hot") created after everything in the others."""
    count = draw(st.integers(min_pods, 5))
    hot = draw(st.integers(0, count - 1))
    rows = [draw(st.lists(st.tuples(TIED_NAMES, TIED_SIZES, st.integers(0, 3)), max_size=14)) for _ in range(count)]
    total = sum(map(len, rows))
    ids = iter(draw(st.lists(st.uuids(), min_size=total, max_size=total, unique=True)))  # unique across pods
    made = []
    for index in range(count):
        day = 2 if index == hot else 1
        items = [
            {"id": str(next(ids)), "name": n, "size": s, "created": dt.datetime(2026, 1, day, 0, 0, c)}
            for n, s, c in rows[index]
        ]
        made.append(FakePod(f"Pod{index + 1}", items, time_format=draw(st.sampled_from(FORMATS))))
    return FakePods(made)


SKEWED_SPECS = st.one_of(st.just(NEWEST_FIRST), SPECS)


@EXAMPLES
@given(skewed_pods(), SKEWED_SPECS, st.integers(1, 3), st.integers(1, 8), st.integers(2, 12))
def test_a_small_first_round_gives_exactly_the_sorted_union(
    fakes: FakePods, pairs: list[tuple[str, bool]], k: int, limit: int, pod_max: int
) -> None:
    spec = spec_of(pairs)
    pager = Pager(fakes.fetch, timeout=5, pod_max_limit=pod_max, first_ask=small(k))
    names = list(fakes.pods)
    pages: list[Page] = []
    marker = None
    while len(pages) < 500:
        before = {name: len(pod.calls) for name, pod in fakes.pods.items()}
        page = asyncio.run(pager.page(names, spec, limit, marker))
        pages.append(page)
        asked = [len(pod.calls) - before[name] for name, pod in fakes.pods.items()]
        if limit < pod_max:  # one follow-up is enough for each pod: it is asked for all the page can take
            assert max(asked) <= 2
            assert page.next is None or len(page.entries) == limit
        if page.next is None:
            break
        marker = decode(page.next.encode(), spec)
    assert shown(pages) == expected(fakes, spec)
    assert all(not page.partial for page in pages)
    assert all(len(page.entries) <= limit for page in pages)


@EXAMPLES
@given(skewed_pods(min_pods=2), SKEWED_SPECS, st.integers(1, 3), st.integers(1, 6), st.data())
def test_a_pod_failing_in_a_follow_up_round_is_partial_keeps_its_place_and_loses_nothing(
    fakes: FakePods, pairs: list[tuple[str, bool]], k: int, limit: int, data: st.DataObject
) -> None:
    spec = spec_of(pairs)
    names = list(fakes.pods)
    failures = data.draw(st.sets(st.tuples(st.integers(0, 4), st.integers(0, 6), st.integers(0, 2))))
    page_number = 0
    start: dict[str, int] = {}
    for index, pod in enumerate(fakes.pods.values()):

        def fail(query: PodQuery, index: int = index, pod: FakePod = pod) -> str | None:
            call = len(pod.calls) - 1 - start[pod.name]  # 0: the first round; 1, 2: follow-ups
            return "HTTP 503" if (index, page_number, call) in failures else None

        pod.fail = fail
    pager = Pager(fakes.fetch, timeout=5, pod_max_limit=data.draw(st.integers(2, 8)), first_ask=small(k))

    async def run() -> list[Page]:
        nonlocal page_number
        pages: list[Page] = []
        marker = None
        while len(pages) < 300:
            start.update({name: len(pod.calls) for name, pod in fakes.pods.items()})
            page = await pager.page(names, spec, limit, marker)
            pages.append(page)
            for pod in page.partial:
                assert page.partial[pod] == "HTTP 503"
                assert any(failure[:2] == (names.index(pod), page_number) for failure in failures)
            page_number += 1
            if page.next is None:
                return pages
            marker = decode(page.next.encode(), spec)
        raise AssertionError("the listing did not end")

    pages = asyncio.run(run())
    order = expected(fakes, spec)
    assert sorted(shown(pages)) == sorted(order)  # nothing lost, nothing shown twice
    if not any(page.partial for page in pages):
        assert shown(pages) == order
    for page in pages:  # each page is in order, partial or not
        ids = [item["id"] for item in page.items]
        assert ids == sorted(ids, key=order.index)


@EXAMPLES
@given(skewed_pods(), SKEWED_SPECS, st.integers(1, 3), st.integers(1, 6), st.integers(2, 6), st.data())
def test_a_plain_id_marker_with_a_small_first_round_continues_right_after_that_item(
    fakes: FakePods, pairs: list[tuple[str, bool]], k: int, limit: int, pod_max: int, data: st.DataObject
) -> None:
    spec = spec_of(pairs)
    everything = expected(fakes, spec)
    if not everything:
        return
    target = data.draw(st.sampled_from(everything))
    holder = next(pod for pod in fakes.pods.values() if target in pod.items)
    marker = Marker.after_item(spec, holder.show(holder.items[target]), {holder.name: target})
    pager = Pager(fakes.fetch, timeout=5, pod_max_limit=pod_max, max_seek_requests=2, first_ask=small(k))
    pages = asyncio.run(walk(pager, list(fakes.pods), spec, limit, marker))
    after = everything[everything.index(target) + 1 :]
    assert sorted(shown(pages)) == sorted(after)
    stalled = [reason for page in pages for reason in page.partial.values()]
    assert all(reason.startswith("still seeking its position after") for reason in stalled)
    if not stalled:
        assert shown(pages) == after


@EXAMPLES
@given(skewed_pods(), SKEWED_SPECS, st.integers(2, 3), st.integers(1, 6), st.integers(0, 3))
def test_short_answers_with_more_are_followed_up_glance_style(
    fakes: FakePods, pairs: list[tuple[str, bool]], k: int, limit: int, follow_ups: int
) -> None:
    spec = spec_of(pairs)
    keys = [(field.key, ascending) for field, ascending in spec.walk]
    for pod in fakes.pods.values():  # every other item is hidden, so any 2 in a row show one
        pod.hidden = {item["id"] for item in sorted(pod.items.values(), key=reference_key(keys))[::2]}
    hidden = set().union(*(pod.hidden for pod in fakes.pods.values()))
    pager = Pager(fakes.fetch, timeout=5, pod_max_limit=20, first_ask=small(k), max_follow_ups=follow_ups)
    pages = asyncio.run(walk(pager, list(fakes.pods), spec, limit))
    assert shown(pages) == [key for key in expected(fakes, spec) if key not in hidden]


def newest_in_one_pod(pods: int, per_pod: int) -> FakePods:
    made = []
    for index in range(pods):
        day = 2 if index == pods - 1 else 1  # the last pod's servers are all newer than the others'
        created = [dt.datetime(2026, 1, day, 0, minute, index % 60) for minute in range(per_pod)]
        made.append(FakePod(f"Pod{index + 1}", [{"id": str(uuid.uuid4()), "created": c} for c in created]))
    return FakePods(made)


async def test_a_hundred_pods_are_asked_for_four_items_each_and_the_hot_pod_again_for_the_rest() -> None:
    fakes = newest_in_one_pod(100, 20)
    spec = spec_of(NEWEST_FIRST)
    page = await Pager(fakes.fetch, timeout=5).page(list(fakes.pods), spec, 20)
    hot = fakes.pods["Pod100"]
    assert [item["id"] for item in page.items] == expected(fakes, spec)[:20]
    assert [(query.limit, query.marker) for query in hot.calls] == [(4, None), (17, _nth_newest(hot, 4))]
    assert {len(pod.calls) for name, pod in fakes.pods.items() if name != "Pod100"} == {1}
    assert {pod.calls[0].limit for pod in fakes.pods.values()} == {4}
    assert page.next is not None
    rest = await walk(Pager(fakes.fetch, timeout=5), list(fakes.pods), spec, 20, page.next)
    assert shown([page, *rest]) == expected(fakes, spec)


def _nth_newest(pod: FakePod, n: int) -> str:
    return str(sorted(pod.items.values(), key=lambda item: item["created"], reverse=True)[n - 1]["id"])


async def test_a_pod_that_deleted_its_last_listed_item_before_the_follow_up_is_partial() -> None:
    fakes = newest_in_one_pod(3, 5)
    hot = fakes.pods["Pod3"]
    spec = spec_of(NEWEST_FIRST)
    second = _nth_newest(hot, 2)

    async def fetch(pod: str, query: PodQuery) -> Any:
        answer = await fakes.fetch(pod, query)
        if pod == "Pod3" and query.marker is None:
            hot.items.pop(second, None)  # gone between its first answer and the follow-up from it
        return answer

    pager = Pager(fetch, timeout=5, first_ask=small(2))
    page = await pager.page(list(fakes.pods), spec, 4)
    assert page.partial == {"Pod3": "refused the marker of an item it had just listed"}
    assert [item["id"] for item in page.items] == expected(FakePods([fakes.pods["Pod1"], fakes.pods["Pod2"]]), spec)[:4]
    assert page.next is not None
    assert page.next.position("Pod3").lagging
    rest = await walk(pager, list(fakes.pods), spec, 4, page.next)
    assert sorted(shown([page, *rest])) == sorted(expected(fakes, spec))


async def test_a_hot_pod_is_asked_for_the_whole_page_at_once_and_never_again() -> None:
    fakes = newest_in_one_pod(100, 20)
    spec = spec_of(NEWEST_FIRST)
    page = await Pager(fakes.fetch, timeout=5).page(list(fakes.pods), spec, 20, hot={"Pod100"})
    hot = fakes.pods["Pod100"]
    assert [item["id"] for item in page.items] == expected(fakes, spec)[:20]
    assert [(query.limit, query.marker) for query in hot.calls] == [(21, None)]
    assert {(len(pod.calls), pod.calls[0].limit) for name, pod in fakes.pods.items() if name != "Pod100"} == {(1, 4)}
    rest = await walk(Pager(fakes.fetch, timeout=5), list(fakes.pods), spec, 20, page.next)
    assert shown([page, *rest]) == expected(fakes, spec)


def test_the_first_ask_is_the_whole_page_for_few_documents_and_a_share_for_many() -> None:
    assert [first_ask(20, pods) for pods in (1, 2, 3, 10, 47, 48, 100, 300)] == [21, 21, 21, 21, 21, 5, 4, 3]
    assert first_ask(1, 100) == 2
    assert first_ask(1000, 100) == 22
    for limit in (1, 2, 5, 20, 100, 1000):
        for pods in (0, 1, 2, 7, 50, 1000):
            assert 1 <= first_ask(limit, pods) <= limit + 1


@EXAMPLES
@given(st.integers(2, 4), st.data(), SKEWED_SPECS, st.integers(1, 3), st.integers(1, 6))
def test_copies_of_one_item_in_several_pods_are_one_entry_naming_every_pod_with_a_small_first_round(
    count: int, data: st.DataObject, pairs: list[tuple[str, bool]], k: int, limit: int
) -> None:
    row = st.tuples(TIED_NAMES, TIED_SIZES, st.integers(0, 3))
    shared = [
        {"id": f"shared-{i}", "name": n, "size": s, "created": dt.datetime(2026, 1, 1, 0, 0, c)}
        for i, (n, s, c) in enumerate(data.draw(st.lists(row, max_size=6)))
    ]
    made: list[FakePod] = []
    holders: dict[str, set[str]] = {}
    for index in range(count):
        name = f"Pod{index + 1}"
        copies = [item for item in shared if data.draw(st.booleans())]
        own = [
            {"id": f"{name}-{i}", "name": n, "size": s, "created": dt.datetime(2026, 1, 1, 0, 0, c)}
            for i, (n, s, c) in enumerate(data.draw(st.lists(row, max_size=8)))
        ]
        made.append(FakePod(name, [dict(item) for item in copies + own]))
        for item in copies + own:
            holders.setdefault(str(item["id"]), set()).add(name)
    fakes = FakePods(made)
    spec = spec_of(pairs)
    pager = Pager(fakes.fetch, timeout=5, pod_max_limit=limit + 1, first_ask=small(k))
    pages = asyncio.run(walk(pager, list(fakes.pods), spec, limit))
    entries = [entry for page in pages for entry in page.entries]
    keys = [(field.key, ascending) for field, ascending in spec.walk]
    distinct = {item["id"]: item for item in fakes.union()}
    assert [entry.item["id"] for entry in entries] == [
        item["id"] for item in sorted(distinct.values(), key=reference_key(keys))
    ]
    assert all(set(entry.pods) == holders[entry.item["id"]] for entry in entries)


async def test_the_follow_up_rounds_of_a_page_share_one_timeout() -> None:
    fakes = newest_in_one_pod(3, 10)
    spec = spec_of(NEWEST_FIRST)
    follow_ups: list[PodQuery] = []

    async def fetch(pod: str, query: PodQuery) -> PodAnswer:
        answer = await fakes.fetch(pod, query)
        if pod != "Pod3" or query.marker is None:
            return answer
        follow_ups.append(query)
        await asyncio.sleep(0.3)  # slow, and one item at a time (Glance-style short answers)
        return PodAnswer(answer.items[:1], True)

    pager = Pager(fetch, timeout=0.5, first_ask=small(2), max_follow_ups=5)
    page = await pager.page(list(fakes.pods), spec, 6)
    # Each round alone would fit in 0.5 s; the second had 0.2 s left and Pod3 is left out of the page.
    assert len(follow_ups) == 2
    assert list(page.partial) == ["Pod3"]
    assert page.partial["Pod3"].startswith("no answer within")
    hot = fakes.pods["Pod3"]
    assert all(item["id"] not in hot.items for item in page.items)  # it keeps its place: its items come later
    rest = await walk(Pager(fakes.fetch, timeout=5), list(fakes.pods), spec, 6, page.next)
    assert sorted(shown([page, *rest])) == sorted(expected(fakes, spec))
