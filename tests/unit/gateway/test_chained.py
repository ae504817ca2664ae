"""Lists chained pod after pod (nothing to merge them on), paged as one list: Nova's migrations
(2.59+) against two fake Novas that page them as Nova does, and server groups by offset."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from atoll.core.errors import InvalidInput
from atoll.gateway.chained import Place, decode
from atoll.types import PodStatus
from tests.conftest import ADMIN
from tests.unit.gateway.conftest import Bed, _register
from tests.unit.gateway.fakenova import FakeNova
from tests.unit.pods.fakepod import serve

BASE = "/compute/v2.1"
PAGED = {**ADMIN, "X-OpenStack-Nova-API-Version": "2.59"}


def _migrations(bed: Bed, counts: tuple[int, int]) -> list[str]:
    """Give each pod its migrations (newest first); the uuids in chain order, Pod1's then Pod2's."""
    chain: list[str] = []
    for pod, count in zip(("Pod1", "Pod2"), counts, strict=True):
        uuids = [f"{pod.lower()}-{i:02d}-0000-4000-8000-000000000000" for i in range(count)]
        bed.pods[pod].migrations = [{"id": i + 1, "uuid": u, "source_compute": pod} for i, u in enumerate(uuids)]
        chain += uuids
    return chain


async def _walk(bed: Bed, first: str, headers: dict[str, str]) -> list[list[str]]:
    """Every page's uuids, following Atoll's next links from `first`."""
    pages: list[list[str]] = []
    url: str | None = first
    while url is not None:
        answer = await bed.http.get(url, headers=headers)
        assert answer.status_code == 200, answer.text
        document = answer.json()
        pages.append([m["uuid"] for m in document["migrations"]])
        links = document.get("migrations_links") or []
        url = links[0]["href"] if links else None
        assert len(pages) < 40, "the walk does not end"
    return pages


@pytest.mark.parametrize("counts", [(0, 0), (0, 3), (3, 0), (2, 3), (5, 5), (4, 1)])
async def test_pages_of_every_size_give_the_chain_once_in_order(bed: Bed, counts: tuple[int, int]) -> None:
    chain = _migrations(bed, counts)
    for limit in (1, 2, 3, 4, 7):
        pages = await _walk(bed, f"{BASE}/os-migrations?limit={limit}", PAGED)
        assert list(itertools.chain(*pages)) == chain, (limit, pages)
        assert all(len(page) <= limit for page in pages)
        # Full pages until the last, which is short or (after a full one) empty, as Nova pages.
        assert all(len(page) == limit for page in pages[:-1])
        assert len(pages) == len(chain) // limit + 1


async def test_without_a_limit_a_pods_own_page_size_ends_the_page_and_nothing_is_lost(bed: Bed) -> None:
    chain = _migrations(bed, (5, 2))
    bed.pods["Pod1"].max_limit = 2  # its own max_limit: a page of 2 and a link
    pages = await _walk(bed, f"{BASE}/os-migrations", PAGED)
    assert pages == [chain[0:2], chain[2:4], chain[4:7]]
    pages = await _walk(bed, f"{BASE}/os-migrations?limit=3", PAGED)
    assert list(itertools.chain(*pages)) == chain
    assert [len(page) for page in pages] == [2, 2, 3, 0]  # Pod1 gives 2 at most; full pages link on


async def test_a_plain_marker_goes_on_after_its_item_then_the_later_pods(bed: Bed) -> None:
    chain = _migrations(bed, (4, 3))
    pages = await _walk(bed, f"{BASE}/os-migrations?limit=3&marker={chain[1]}", PAGED)
    assert list(itertools.chain(*pages)) == chain[2:]
    assert pages[0] == chain[2:5]  # Pod1's last two, then Pod2's first
    pages = await _walk(bed, f"{BASE}/os-migrations?limit=2&marker={chain[5]}", PAGED)
    assert list(itertools.chain(*pages)) == chain[6:]
    unknown = await bed.http.get(f"{BASE}/os-migrations?limit=2&marker=no-such-migration", headers=PAGED)
    assert unknown.status_code == 400
    assert unknown.json()["badRequest"]["message"] == "Marker no-such-migration could not be found."


async def test_before_259_the_pods_do_not_page_and_neither_does_atoll(bed: Bed) -> None:
    chain = _migrations(bed, (3, 2))
    old = {**ADMIN, "X-OpenStack-Nova-API-Version": "2.58"}
    listed = (await bed.http.get(f"{BASE}/os-migrations?limit=2", headers=old)).json()
    assert [m["uuid"] for m in listed["migrations"]] == chain
    assert "migrations_links" not in listed


async def test_hypervisors_are_paged_from_233_and_not_before(bed: Bed) -> None:
    old = (await bed.http.get(f"{BASE}/os-hypervisors?limit=1", headers=ADMIN)).json()
    assert ([h["id"] for h in old["hypervisors"]], "hypervisors_links" in old) == (["hv-nova", "hv-zone-b"], False)
    paged = {**ADMIN, "X-OpenStack-Nova-API-Version": "2.53"}
    first = (await bed.http.get(f"{BASE}/os-hypervisors?limit=1", headers=paged)).json()
    assert [h["id"] for h in first["hypervisors"]] == ["hv-nova"]
    assert "marker=atollc1." in first["hypervisors_links"][0]["href"]


async def test_a_bad_atoll_marker_is_a_400_that_says_so(bed: Bed) -> None:
    _migrations(bed, (2, 2))
    for marker in ("atollc1.!!!", "atollc1." + "A" * 5000, Place("Pod9", None).encode(), "atollc1.WzEsMl0"):
        answer = await bed.http.get(f"{BASE}/os-migrations", params={"marker": marker}, headers=PAGED)
        assert answer.status_code == 400, marker
        assert "marker" in answer.json()["badRequest"]["message"].lower()


def test_a_place_round_trips_and_nothing_else_decodes() -> None:
    for place in (Place("Pod1"), Place("Pod 2", "a-b"), Place("é", "7")):
        assert decode(place.encode()) == place
    with pytest.raises(InvalidInput):
        decode("atollc1.bnVsbA")  # null


async def test_a_pod_that_fails_is_named_and_its_items_are_passed_over(bed: Bed) -> None:
    chain = _migrations(bed, (2, 3))
    bed.pods["Pod1"].failing = lambda request: 503 if request.path == "/v2.1/os-migrations" else None
    answer = await bed.http.get(f"{BASE}/os-migrations?limit=2", headers=PAGED)
    assert answer.headers["Atoll-Partial-Pods"] == "Pod1"
    assert [m["uuid"] for m in answer.json()["migrations"]] == chain[2:4]
    bed.pods["Pod1"].failing = lambda _request: None
    # A next page that starts in a pod that is down now says so, and goes on with the later pods.
    stopped = Place("Pod1", chain[0]).encode()
    await bed.set_status("Pod1", PodStatus.DOWN)
    answer = await bed.http.get(f"{BASE}/os-migrations", params={"limit": "5", "marker": stopped}, headers=PAGED)
    assert answer.headers["Atoll-Partial-Pods"] == "Pod1"
    assert [m["uuid"] for m in answer.json()["migrations"]] == chain[2:]


async def test_the_link_keeps_the_filters_and_the_pods_get_them(bed: Bed) -> None:
    _migrations(bed, (3, 0))
    answer = (await bed.http.get(f"{BASE}/os-migrations?status=done&limit=1", headers=PAGED)).json()
    href = answer["migrations_links"][0]["href"]
    assert href.startswith("http://atoll.test/compute/v2.1/os-migrations?status=done&limit=1&marker=atollc1.")
    asked: list[Any] = [s for s in bed.pods["Pod1"].seen if s["path"] == "/v2.1/os-migrations"]
    assert asked
    assert asked[-1]["query"] == "status=done&limit=1"


async def test_server_groups_are_cut_by_offset_and_limit_over_the_chain(bed: Bed) -> None:
    for pod, count in (("Pod1", 3), ("Pod2", 4)):
        bed.pods[pod].server_groups = [{"id": f"{pod}-{i}", "name": f"g{i}"} for i in range(count)]
    chain = [f"Pod1-{i}" for i in range(3)] + [f"Pod2-{i}" for i in range(4)]
    for offset, limit in itertools.product(range(8), range(1, 5)):
        listed = await bed.http.get(f"{BASE}/os-server-groups?offset={offset}&limit={limit}", headers=ADMIN)
        document = listed.json()
        assert [g["id"] for g in document["server_groups"]] == chain[offset : offset + limit]
        assert "server_groups_links" not in document  # Nova links none
    every = (await bed.http.get(f"{BASE}/os-server-groups", headers=ADMIN)).json()["server_groups"]
    assert [g["id"] for g in every] == chain


async def test_a_page_that_ends_with_a_middle_pods_last_item_goes_on_at_the_next_pod(bed: Bed) -> None:
    third = FakeNova(az="zone-c")
    async with serve(third):
        bed.pods["Pod3"] = third
        await _register(bed.sessions, "Pod3", "az3", "zone-c", third.url)
        bed.parts.gateway.registry.invalidate()
        for counts in ((1, 1, 2), (2, 0, 2), (0, 2, 1), (1, 2, 3), (3, 3, 0)):
            chain: list[str] = []
            for pod, count in zip(("Pod1", "Pod2", "Pod3"), counts, strict=True):
                uuids = [f"{pod.lower()}-{i:02d}-0000-4000-8000-000000000000" for i in range(count)]
                bed.pods[pod].migrations = [{"id": i + 1, "uuid": u} for i, u in enumerate(uuids)]
                chain += uuids
            for limit in (1, 2, 3, 4):
                pages = await _walk(bed, f"{BASE}/os-migrations?limit={limit}", PAGED)
                assert list(itertools.chain(*pages)) == chain, (counts, limit, pages)
                assert all(len(page) == limit for page in pages[:-1])
