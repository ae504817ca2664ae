"""The k-way merge: sorted, a prefix of every run, never past what a pod has not shown yet."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from atoll.listing.merge import Entry, Run, dedupe, merge, wanting


def key(item: Any) -> tuple[Any, ...]:
    return (item["v"], item["id"])


@st.composite
def full_runs(draw: st.DrawFn) -> list[list[dict[str, Any]]]:
    """Each pod's whole sorted list (ids unique across pods)."""
    count = draw(st.integers(1, 5))
    values = draw(st.lists(st.lists(st.integers(0, 9), max_size=10), min_size=count, max_size=count))
    runs, next_id = [], 0
    for row in values:
        items = []
        for v in row:
            items.append({"v": v, "id": next_id})
            next_id += 1
        runs.append(sorted(items, key=key))
    return runs


@settings(max_examples=300)
@given(full_runs(), st.data(), st.integers(1, 12))
def test_a_page_is_the_start_of_the_sorted_union_even_when_pods_sent_only_part_of_their_list(
    full: list[list[dict[str, Any]]], data: st.DataObject, limit: int
) -> None:
    runs = []
    for index, items in enumerate(full):
        sent = data.draw(st.integers(0, len(items)))
        runs.append(Run(f"Pod{index}", items[:sent], more=sent < len(items)))
    merged = merge(runs, limit, key)
    union = sorted((item for items in full for item in items), key=key)
    page = [entry.item for entry in merged.entries]
    assert page == union[: len(page)]
    assert len(page) <= limit
    stuck = any(run.more and not run.items for run in runs)
    assert bool(page) == (not stuck and any(run.items for run in runs))
    for run in runs:  # what was taken from a pod is a prefix of what it sent, and its entries say so
        taken = merged.taken[run.pod]
        assert [e.item for e in merged.entries if e.pod == run.pod] == list(run.items[:taken])
    if not any(run.more for run in runs):
        assert page == union[:limit]
    assert merged.last == (key(page[-1]) if page else None)


@settings(max_examples=300)
@given(full_runs(), st.data(), st.integers(1, 12))
def test_wanting_names_every_pod_a_page_could_still_need_and_how_many_at_most(
    full: list[list[dict[str, Any]]], data: st.DataObject, limit: int
) -> None:
    runs = []
    for index, items in enumerate(full):
        sent = data.draw(st.integers(1 if items else 0, len(items)))  # a pod with more sends one at least
        runs.append(Run(f"Pod{index}", items[:sent], more=sent < len(items)))
    merged, wanted = wanting(runs, limit, key)
    union = sorted((item for items in full for item in items), key=key)
    for run, items in zip(runs, full, strict=True):
        unsent = items[len(run.items) :]
        on_the_page = [item for item in union[:limit] if item in unsent]
        if run.pod in wanted:
            assert run.more
            assert merged.taken[run.pod] == len(run.items)
            assert len(on_the_page) <= wanted[run.pod]
        else:
            assert on_the_page == []
    if not wanted:  # then the page is exact, and the one merge makes
        assert [entry.item for entry in merged.entries] == union[:limit]
        assert merged == merge(runs, limit, key)


def test_a_pod_whose_last_item_ends_the_page_is_not_wanted() -> None:
    runs = [
        Run("Pod1", [{"v": 1, "id": 1}, {"v": 3, "id": 3}], more=True),
        Run("Pod2", [{"v": 2, "id": 2}], more=True),
        Run("Pod3", [{"v": 4, "id": 4}], more=False),
    ]
    merged, wanted = wanting(runs, 3, key)
    assert [entry.item["id"] for entry in merged.entries] == [1, 2, 3]
    assert wanted == {"Pod2": 1}  # Pod1's next item sorts after 3; Pod2's could be the page's third
    assert wanting(runs, 4, key)[1] == {"Pod1": 1, "Pod2": 2}


def test_the_page_ends_where_a_pod_with_more_ran_out() -> None:
    runs = [Run("Pod1", [{"v": 1, "id": 1}], more=True), Run("Pod2", [{"v": 2, "id": 2}, {"v": 3, "id": 3}], False)]
    merged = merge(runs, 10, key)
    assert [e.item["id"] for e in merged.entries] == [1]
    assert merged.taken == {"Pod1": 1, "Pod2": 0}


def test_equal_keys_from_several_pods_are_one_entry_or_several() -> None:
    same = {"v": 1, "id": "flavor-1"}
    runs = [Run("Pod1", [same, {"v": 2, "id": "a"}], False), Run("Pod2", [dict(same)], False)]
    collapsed = merge(runs, 10, key)
    assert [(e.item["id"], e.pods) for e in collapsed.entries] == [("flavor-1", ("Pod1", "Pod2")), ("a", ("Pod1",))]
    assert collapsed.taken == {"Pod1": 2, "Pod2": 1}
    apart = merge(runs, 10, key, collapse=False)
    assert [(e.item["id"], e.pods) for e in apart.entries] == [
        ("flavor-1", ("Pod1",)),
        ("flavor-1", ("Pod2",)),
        ("a", ("Pod1",)),
    ]


def test_copies_with_the_same_id_next_to_each_other_collapse_though_other_sort_values_differ() -> None:
    """Glance sorts on created_at, the time of each pod's copy: the copies are still one entry."""
    runs = [
        Run("Pod1", [{"v": 1, "id": "img"}, {"v": 5, "id": "z"}], False),
        Run("Pod2", [{"v": 2, "id": "img"}], more=True),
    ]
    page = merge(runs, 1, key)
    assert [(e.item["id"], e.pods) for e in page.entries] == [("img", ("Pod1", "Pod2"))]
    assert page.taken == {"Pod1": 1, "Pod2": 1}  # both pods move past their copy: no later page repeats it
    between = [
        Run("Pod1", [{"v": 1, "id": "img"}], False),
        Run("Pod2", [{"v": 3, "id": "img"}], False),
        Run("Pod3", [{"v": 2, "id": "a"}], False),
    ]
    assert [(e.item["id"], e.pods) for e in merge(between, 10, key).entries] == [
        ("img", ("Pod1",)),
        ("a", ("Pod3",)),
        ("img", ("Pod2",)),
    ]


def test_dedupe_keeps_the_first_and_names_every_pod() -> None:
    entries = [
        Entry("Pod1", {"id": "f", "updated": 1}),
        Entry("Pod2", {"id": "x"}),
        Entry("Pod3", {"id": "f", "updated": 2}, also=("Pod4", "Pod1")),
    ]
    kept = dedupe(entries, key=lambda e: e.item["id"])
    assert [(e.item, e.pods) for e in kept] == [
        ({"id": "f", "updated": 1}, ("Pod1", "Pod3", "Pod4")),
        ({"id": "x"}, ("Pod2",)),
    ]


@settings(max_examples=200)
@given(st.lists(st.integers(0, 9), max_size=12), st.integers(0, 12), st.booleans(), st.integers(1, 12))
def test_one_pod_merges_as_the_heap_would(values: list[int], sent: int, more: bool, limit: int) -> None:
    items = sorted(({"v": v, "id": i} for i, v in enumerate(values)), key=key)[:sent]
    run = Run("Pod1", items, more=more)
    alone = merge([run], limit, key)
    with_an_empty_pod = merge([run, Run("Pod2", [], more=False)], limit, key)  # the heap's way
    assert alone.entries == with_an_empty_pod.entries
    assert alone.taken["Pod1"] == with_an_empty_pod.taken["Pod1"]
    assert alone.last == with_an_empty_pod.last
