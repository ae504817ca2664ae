"""Paging a merged listing through fake pods: exact pages, any sort, any page size, pods that come and go."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atoll.listing.errors import MarkerNotFound, UnmergeableSort
from atoll.listing.marker import Marker, decode
from atoll.listing.ordering import SQLITE
from atoll.listing.pager import Page, Pager, PodAnswer, PodQuery
from atoll.listing.spec import SortSpec, normalize
from tests.unit.listing.fakes import FORMATS, THINGS, FakePod, FakePods, reference_key

NAMES = st.sampled_from(["a", "b", "B", "ab", "", None])
SIZES = st.one_of(st.none(), st.integers(0, 4))
CREATED = st.integers(0, 5).map(lambda s: dt.datetime(2026, 1, 1, 0, 0, s))
SPECS = st.lists(
    st.tuples(st.sampled_from(["name", "size", "created", "id"]), st.booleans()), max_size=4, unique_by=lambda p: p[0]
)

EXAMPLES = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def thing(**values: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), **values}


@st.composite
def pods(draw: st.DrawFn, min_pods: int = 1) -> FakePods:
    count = draw(st.integers(min_pods, 4))
    made = []
    for index in range(count):
        rows = draw(st.lists(st.tuples(NAMES, SIZES, CREATED), max_size=12))
        ids = draw(st.lists(st.uuids(), min_size=len(rows), max_size=len(rows), unique=True))
        items = [{"id": str(i), "name": n, "size": s, "created": c} for i, (n, s, c) in zip(ids, rows, strict=True)]
        made.append(FakePod(f"Pod{index + 1}", items, time_format=draw(st.sampled_from(FORMATS))))
    return FakePods(made)


def spec_of(pairs: list[tuple[str, bool]]) -> SortSpec:
    return normalize(THINGS, pairs, SQLITE)


def expected(fakes: FakePods, spec: SortSpec) -> list[str]:
    keys = [(field.key, ascending) for field, ascending in spec.walk]
    return [item["id"] for item in sorted(fakes.union(), key=reference_key(keys))]


async def walk(pager: Pager, names: list[str], spec: SortSpec, limit: int, marker: Marker | None = None) -> list[Page]:
    pages: list[Page] = []
    while len(pages) < 500:
        page = await pager.page(names, spec, limit, marker)
        pages.append(page)
        if page.next is None:
            return pages
        marker = decode(page.next.encode(), spec)  # as a client would, through the next link
    raise AssertionError("the listing did not end")


def shown(pages: list[Page]) -> list[str]:
    return [item["id"] for page in pages for item in page.items]


@EXAMPLES
@given(pods(), SPECS, st.integers(1, 8), st.integers(2, 12))
def test_paging_through_gives_exactly_the_sorted_union(
    fakes: FakePods, pairs: list[tuple[str, bool]], limit: int, pod_max: int
) -> None:
    spec = spec_of(pairs)
    pager = Pager(fakes.fetch, timeout=5, pod_max_limit=pod_max)
    pages = asyncio.run(walk(pager, list(fakes.pods), spec, limit))
    assert shown(pages) == expected(fakes, spec)
    assert all(not page.partial for page in pages)
    assert all(len(page.entries) <= limit for page in pages)
    if limit < pod_max:  # every pod answers limit + 1, so only the last page can be short
        assert all(len(page.entries) == limit for page in pages[:-1])
        assert pages[-1].entries or len(pages) == 1


@EXAMPLES
@given(pods(), SPECS, st.integers(1, 6), st.data())
def test_items_coming_and_going_between_pages_are_never_repeated_and_survivors_never_skipped(
    fakes: FakePods, pairs: list[tuple[str, bool]], limit: int, data: st.DataObject
) -> None:
    spec = spec_of(pairs)
    pager = Pager(fakes.fetch, timeout=5, pod_max_limit=data.draw(st.integers(2, 10)))
    names = list(fakes.pods)
    original = {item["id"] for item in fakes.union()}
    deleted: set[str] = set()
    created = iter(range(10**6))

    async def run() -> list[Page]:
        pages: list[Page] = []
        marker = None
        while len(pages) < 300:
            page = await pager.page(names, spec, limit, marker)
            pages.append(page)
            if page.next is None:
                return pages
            marker = decode(page.next.encode(), spec)
            if len(pages) > 6:
                continue
            for pod in fakes.pods.values():
                gone = data.draw(st.lists(st.sampled_from(sorted(pod.items)), max_size=2)) if pod.items else []
                for key in gone:
                    pod.items.pop(key, None)
                    deleted.add(key)
                for row in data.draw(st.lists(st.tuples(NAMES, SIZES, CREATED), max_size=2)):
                    new = {"id": f"new-{next(created)}", "name": row[0], "size": row[1], "created": row[2]}
                    pod.items[new["id"]] = new
        raise AssertionError("the listing did not end")

    pages = asyncio.run(run())
    seen = shown(pages)
    assert [key for key, count in Counter(seen).items() if count > 1] == []
    assert original - deleted - set(seen) == set()


@EXAMPLES
@given(pods(min_pods=2), SPECS, st.integers(1, 6), st.sets(st.tuples(st.integers(0, 3), st.integers(0, 4))))
def test_a_pod_failing_on_some_pages_loses_nothing(
    fakes: FakePods, pairs: list[tuple[str, bool]], limit: int, failures: set[tuple[int, int]]
) -> None:
    spec = spec_of(pairs)
    names = list(fakes.pods)
    page_number = 0
    for index, pod in enumerate(fakes.pods.values()):

        def fail(query: PodQuery, index: int = index) -> str | None:
            return "HTTP 503" if (index, page_number) in failures else None

        pod.fail = fail
    pager = Pager(fakes.fetch, timeout=5, pod_max_limit=4)

    async def run() -> list[Page]:
        nonlocal page_number
        pages: list[Page] = []
        marker = None
        while len(pages) < 300:
            page = await pager.page(names, spec, limit, marker)
            pages.append(page)
            for pod in page.partial:
                assert (names.index(pod), page_number) in failures
                assert page.partial[pod] == "HTTP 503"
            page_number += 1
            if page.next is None:
                return pages
            marker = decode(page.next.encode(), spec)
        raise AssertionError("the listing did not end")

    pages = asyncio.run(run())
    assert sorted(shown(pages)) == sorted(expected(fakes, spec))
    if not any(page.partial for page in pages):
        assert shown(pages) == expected(fakes, spec)
    for page in pages:  # each page is in order, partial or not
        ids = [item["id"] for item in page.items]
        order = expected(fakes, spec)
        assert ids == sorted(ids, key=order.index)


@EXAMPLES
@given(pods(), SPECS, st.integers(1, 6), st.integers(2, 6), st.integers(1, 3), st.data())
def test_a_plain_id_marker_continues_right_after_that_item(
    fakes: FakePods, pairs: list[tuple[str, bool]], limit: int, pod_max: int, seeks: int, data: st.DataObject
) -> None:
    spec = spec_of(pairs)
    everything = expected(fakes, spec)
    if not everything:
        return
    target = data.draw(st.sampled_from(everything))
    holder = next(pod for pod in fakes.pods.values() if target in pod.items)
    marker = Marker.after_item(spec, holder.show(holder.items[target]), {holder.name: target})
    pager = Pager(fakes.fetch, timeout=5, pod_max_limit=pod_max, max_seek_requests=seeks)
    pages = asyncio.run(walk(pager, list(fakes.pods), spec, limit, marker))
    after = everything[everything.index(target) + 1 :]
    assert sorted(shown(pages)) == sorted(after)
    stalled = [reason for page in pages for reason in page.partial.values()]
    assert all(reason.startswith("still seeking its position after") for reason in stalled)
    if not stalled:
        assert shown(pages) == after


@EXAMPLES
@given(pods(), SPECS, st.integers(1, 6))
def test_short_pages_with_more_are_followed_glance_style(
    fakes: FakePods, pairs: list[tuple[str, bool]], limit: int
) -> None:
    spec = spec_of(pairs)
    keys = [(field.key, ascending) for field, ascending in spec.walk]
    for pod in fakes.pods.values():  # every other item is hidden, so any 2 in a row show one
        pod.hidden = {item["id"] for item in sorted(pod.items.values(), key=reference_key(keys))[::2]}
    hidden = set().union(*(pod.hidden for pod in fakes.pods.values()))
    pager = Pager(fakes.fetch, timeout=5, pod_max_limit=20)
    pages = asyncio.run(walk(pager, list(fakes.pods), spec, limit))
    assert shown(pages) == [key for key in expected(fakes, spec) if key not in hidden]


def two_pods() -> FakePods:
    return FakePods(
        [
            FakePod("Pod1", [thing(name=n, size=1) for n in "aceg"]),
            FakePod("Pod2", [thing(name=n, size=2) for n in "bdfh"]),
        ]
    )


async def test_exhausted_pods_are_not_asked_again() -> None:
    fakes = FakePods([FakePod("Pod1", [thing(name="a")]), FakePod("Pod2", [thing(name=n) for n in "bcdef"])])
    spec = spec_of([("name", True)])
    pager = Pager(fakes.fetch, timeout=5)
    pages = await walk(pager, ["Pod1", "Pod2"], spec, 2)
    assert [[item["name"] for item in page.items] for page in pages] == [["a", "b"], ["c", "d"], ["e", "f"]]
    assert len(fakes.pods["Pod1"].calls) == 1
    assert len(fakes.pods["Pod2"].calls) == 3


async def test_a_pod_that_hangs_is_partial_and_keeps_its_place() -> None:
    fakes = two_pods()
    spec = spec_of([("name", True)])
    pager = Pager(fakes.fetch, timeout=0.01)
    fakes.pods["Pod2"].hang = True
    first = await pager.page(["Pod1", "Pod2"], spec, 3)
    assert [item["name"] for item in first.items] == ["a", "c", "e"]
    assert first.partial == {"Pod2": "no answer within 0.01 s"}
    assert first.next is not None
    fakes.pods["Pod2"].hang = False
    second = await pager.page(["Pod1", "Pod2"], spec, 10, first.next)
    assert [item["name"] for item in second.items] == ["b", "d", "f", "g", "h"]
    assert second.next is None


async def test_a_pod_that_lags_is_sought_by_its_own_bound_when_its_marker_is_gone() -> None:
    fakes = two_pods()
    spec = spec_of([("name", True)])
    pager = Pager(fakes.fetch, timeout=5)
    first = await pager.page(["Pod1", "Pod2"], spec, 2)  # a, b
    assert first.next is not None
    fakes.pods["Pod1"].fail = lambda query: "HTTP 502"
    second = await pager.page(["Pod1", "Pod2"], spec, 2, first.next)  # d, f from Pod2 only
    assert [item["name"] for item in second.items] == ["d", "f"]
    assert second.next is not None
    assert second.next.position("Pod1").lagging
    fakes.pods["Pod1"].fail = lambda query: None
    a = next(key for key, item in fakes.pods["Pod1"].items.items() if item["name"] == "a")
    del fakes.pods["Pod1"].items[a]  # Pod1's native marker: it now refuses it
    rest = await walk(pager, ["Pod1", "Pod2"], spec, 10, second.next)
    assert shown(rest) == [
        key
        for pod, names in (("Pod1", "ceg"), ("Pod2", "h"))
        for key, item in fakes.pods[pod].items.items()
        if item["name"] in names
    ]


async def test_a_pod_added_between_pages_shows_what_sorts_after_the_page() -> None:
    fakes = two_pods()
    fakes.pods["Pod3"] = FakePod("Pod3", [thing(name="bb"), thing(name="z")])
    spec = spec_of([("name", True)])
    pager = Pager(fakes.fetch, timeout=5)
    first = await pager.page(["Pod1", "Pod2"], spec, 3)
    assert [item["name"] for item in first.items] == ["a", "b", "c"]
    rest = await walk(pager, ["Pod1", "Pod2", "Pod3"], spec, 3, first.next)
    assert [item["name"] for page in rest for item in page.items] == ["d", "e", "f", "g", "h", "z"]


async def test_equal_items_in_several_pods_are_one_entry() -> None:
    flavor = {"id": "1", "name": "m1.tiny", "size": 1}
    fakes = FakePods([FakePod(f"Pod{i}", [dict(flavor), thing(name=f"only{i}", size=i)]) for i in (1, 2, 3)])
    spec = spec_of([("name", True)])
    pager = Pager(fakes.fetch, timeout=5)
    pages = await walk(pager, ["Pod1", "Pod2", "Pod3"], spec, 1)
    entries = [entry for page in pages for entry in page.entries]
    assert [(e.item["name"], e.pods) for e in entries] == [
        ("m1.tiny", ("Pod1", "Pod2", "Pod3")),
        ("only1", ("Pod1",)),
        ("only2", ("Pod2",)),
        ("only3", ("Pod3",)),
    ]


async def test_a_page_walked_backwards_is_shown_forwards() -> None:
    fakes = two_pods()
    spec = spec_of([("name", True)])
    backwards = SortSpec(spec.collection, spec.keys, reverse=True, order=spec.order)
    pager = Pager(fakes.fetch, timeout=5)
    pages = await walk(pager, ["Pod1", "Pod2"], backwards, 3)
    assert [[item["name"] for item in page.items] for page in pages] == [["f", "g", "h"], ["c", "d", "e"], ["a", "b"]]


async def test_a_limit_of_zero_asks_no_pod() -> None:
    fakes = two_pods()
    page = await Pager(fakes.fetch, timeout=5).page(["Pod1", "Pod2"], spec_of([]), 0)
    assert (page.entries, page.next, page.partial) == ([], None, {})
    assert [pod.calls for pod in fakes.pods.values()] == [[], []]


async def test_an_item_without_the_sort_value_is_a_400_and_nothing_is_left_running() -> None:
    fakes = two_pods()
    del next(iter(fakes.pods["Pod2"].items.values()))["size"]
    pager = Pager(fakes.fetch, timeout=5)
    with pytest.raises(UnmergeableSort, match="'size'"):
        await pager.page(["Pod1", "Pod2"], spec_of([("size", True)]), 3)
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_a_pod_listing_items_without_ids_is_partial() -> None:
    fakes = two_pods()
    del next(iter(fakes.pods["Pod2"].items.values()))["id"]
    page = await Pager(fakes.fetch, timeout=5).page(["Pod1", "Pod2"], spec_of([("name", True)]), 2)
    assert [item["name"] for item in page.items] == ["a", "c"]
    assert page.partial == {"Pod2": "listed things without an id"}


async def test_a_pod_that_refuses_a_first_page_is_partial() -> None:
    async def refuses(pod: str, query: PodQuery) -> Any:
        raise MarkerNotFound("no")

    page = await Pager(refuses, timeout=5).page(["Pod1"], spec_of([]), 2)
    assert page.partial == {"Pod1": "refused a list without a usable marker"}


async def test_pods_are_asked_to_sort_exactly_like_the_merge() -> None:
    fakes = two_pods()
    spec = spec_of([("size", False), ("name", True)])
    await Pager(fakes.fetch, timeout=5, pod_max_limit=1000).page(["Pod1", "Pod2"], spec, 2)
    assert fakes.pods["Pod1"].calls[0].params() == [
        ("limit", "3"),
        ("sort_key", "size"),
        ("sort_dir", "desc"),
        ("sort_key", "name"),
        ("sort_dir", "asc"),
        ("sort_key", "id"),
        ("sort_dir", "asc"),
    ]


async def test_a_pod_answering_something_else_than_objects_is_partial() -> None:
    async def odd(pod: str, query: PodQuery) -> Any:
        return PodAnswer(["not", "servers"], more=False)  # type: ignore[list-item]

    page = await Pager(odd, timeout=5).page(["Pod1"], spec_of([]), 2)
    assert page.partial == {"Pod1": "answered a malformed list of things"}
    assert page.next is not None  # Pod1 keeps its place
