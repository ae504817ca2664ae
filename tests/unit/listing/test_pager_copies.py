"""One item per id when pods hold copies of one item under its id (Glance's images): the first pod's
copy is shown, the others passed over; each earlier pod is asked at most once per round."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atoll.listing.errors import PodUnavailable
from atoll.listing.pager import Pager
from atoll.listing.spec import SortSpec
from tests.unit.listing.fakes import FakePod, FakePods, reference_key
from tests.unit.listing.test_pager import SPECS, shown, spec_of, walk

EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
OWN = str(uuid.UUID(int=999))
NEWEST_FIRST = [("created", False)]  # Glance's default order: created_at desc (then id)


@dataclasses.dataclass
class Copies:
    """Pods in a fixed order, some items in several of them (each copy with its own `created`)."""

    fakes: FakePods
    questions: list[tuple[str, list[str]]] = dataclasses.field(default_factory=list)
    silent: frozenset[str] = frozenset()
    """Pods that cannot say what they list (their questions fail)."""

    async def lists(self, pod: str, ids: list[str]) -> Iterable[str]:
        self.questions.append((pod, ids))
        if pod in self.silent:
            raise PodUnavailable("HTTP 503")
        return [i for i in ids if i in self.fakes.pods[pod].items]

    def first_pods(self) -> dict[str, str]:
        """Each id -> the first pod holding it (the copy the list shows)."""
        first: dict[str, str] = {}
        for name, pod in self.fakes.pods.items():
            for id_ in pod.items:
                first.setdefault(id_, name)
        return first

    def expected(self, spec: SortSpec) -> list[str]:
        first = self.first_pods()
        shown = [self.fakes.pods[pod].items[id_] for id_, pod in first.items()]
        keys = [(field.key, ascending) for field, ascending in spec.walk]
        return [item["id"] for item in sorted(shown, key=reference_key(keys))]


@st.composite
def copied(draw: st.DrawFn, max_pods: int = 5) -> Copies:
    count = draw(st.integers(2, max_pods))
    originals = draw(st.lists(st.uuids(), max_size=14, unique=True))
    made = []
    for index in range(count):
        held = draw(st.lists(st.sampled_from(originals), unique=True)) if originals else []
        items = []
        for id_ in held:
            number = originals.index(id_)
            # A copy keeps the image's name and size; its `created` is when this pod got it.
            created = dt.datetime(2026, 1, 1, 0, draw(st.integers(0, 3)), draw(st.integers(0, 5)))
            items.append({"id": str(id_), "name": f"image-{number % 3}", "size": number % 2, "created": created})
        made.append(FakePod(f"Pod{index + 1}", items))
    return Copies(FakePods(made))


@EXAMPLES
@given(
    copied(),
    st.one_of(st.just(NEWEST_FIRST), SPECS),
    st.integers(1, 8),
    st.integers(2, 12),
    st.integers(1, 30),
    st.sampled_from([(8, 40), (1, 1), (2, 3), (1, 4)]),
)
def test_every_item_is_shown_once_from_the_first_pod_that_has_it(
    copies: Copies, pairs: list[tuple[str, bool]], limit: int, pod_max: int, first: int, rounds: tuple[int, int]
) -> None:
    spec = spec_of(pairs)
    names = list(copies.fakes.pods)
    pager = Pager(
        copies.fakes.fetch,
        timeout=5,
        pod_max_limit=pod_max,
        first_ask=lambda _l, _p: first,
        copies=copies.lists,
        max_copy_rounds=rounds[0],  # few rounds looking at few items: pages end before an item not looked at
        copies_ahead=rounds[1],
    )
    pages = asyncio.run(walk(pager, names, spec, limit))
    order = copies.expected(spec)
    assert sorted(shown(pages)) == sorted(order)  # nothing lost, nothing twice
    if not any(page.partial for page in pages):
        assert shown(pages) == order
    first_pods = copies.first_pods()
    for page in pages:
        assert all(entry.pod == first_pods[entry.item["id"]] for entry in page.entries)
        for why in page.partial.values():
            assert why.startswith("listed only copies")
    assert names[-1] not in {pod for pod, _ in copies.questions}  # no pod comes after it


@EXAMPLES
@given(copied(max_pods=4), st.integers(1, 6))
def test_a_pod_that_cannot_say_what_it_lists_hides_nothing(copies: Copies, limit: int) -> None:
    silent = next(iter(copies.fakes.pods))
    copies.silent = frozenset({silent})
    spec = spec_of(NEWEST_FIRST)
    pager = Pager(copies.fakes.fetch, timeout=5, first_ask=lambda _l, _p: 1, copies=copies.lists)
    ids = shown(asyncio.run(walk(pager, list(copies.fakes.pods), spec, limit)))
    # Nothing lost; a copy of an item of the silent pod may be shown twice (a duplicate, not a hole).
    assert set(ids) == set(copies.expected(spec))
    twice = {id_ for id_, n in Counter(ids).items() if n > 1}
    assert twice <= set(copies.fakes.pods[silent].items)


async def test_a_page_over_100_pods_asks_each_earlier_pod_once() -> None:
    base = dt.datetime(2026, 1, 1)
    pods = []
    for index in range(100):
        items = [
            {"id": f"{index:03d}-{n}", "name": "x", "size": 0, "created": base + dt.timedelta(minutes=n * 100 + index)}
            for n in range(3)
        ]
        pods.append(FakePod(f"Pod{index + 1}", items))
    shared = {"id": "shared", "name": "x", "size": 0}  # the newest item of every pod: each its own copy
    for index, pod in enumerate(pods):
        pod.items["shared"] = {**shared, "created": base + dt.timedelta(days=1, minutes=index)}
    copies = Copies(FakePods(pods))
    pager = Pager(copies.fakes.fetch, timeout=5, copies=copies.lists)
    spec = spec_of(NEWEST_FIRST)
    page = await pager.page(list(copies.fakes.pods), spec, 20)
    ids = [item["id"] for item in page.items]
    assert len(ids) == 20
    assert ids[0] == "shared"
    assert page.entries[0].pod == "Pod1"
    assert ids.count("shared") == 1
    asked = Counter(pod for pod, _ in copies.questions)
    assert max(asked.values()) == 1  # one question per pod, not one per pair of pods
    assert sum(asked.values()) < 100
    assert not page.partial


async def test_a_pod_whose_answer_is_all_copies_is_passed_and_nothing_is_lost() -> None:
    base = dt.datetime(2026, 1, 1)
    made = [base + dt.timedelta(minutes=n) for n in range(30)]
    originals = [{"id": str(uuid.UUID(int=n + 1)), "name": "x", "size": 0, "created": at} for n, at in enumerate(made)]
    # Pod2 copied every image later than Pod1 made them: its copies all sort first (newest first).
    copies_of = [{**item, "created": at + dt.timedelta(days=1)} for item, at in zip(originals, made, strict=True)]
    own = [{"id": OWN, "name": "x", "size": 0, "created": base + dt.timedelta(hours=5)}]
    copies = Copies(FakePods([FakePod("Pod1", originals), FakePod("Pod2", copies_of + own)]))
    pager = Pager(copies.fakes.fetch, timeout=5, pod_max_limit=10, copies=copies.lists)
    spec = spec_of(NEWEST_FIRST)
    pages = await walk(pager, list(copies.fakes.pods), spec, 5)
    ids = shown(pages)
    assert sorted(ids) == sorted(copies.expected(spec))
    assert all(entry.pod == "Pod1" for page in pages for entry in page.entries if entry.item["id"] != OWN)
