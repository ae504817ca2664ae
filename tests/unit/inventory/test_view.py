"""`ResourceView.page` as a property: for any spread of items over pods and kinds, any page size, and
items deleted or added between pages, every item that exists throughout is listed exactly once, in
(type, id, pod) order, and nothing is listed twice. Pods are in memory behind the `PodClient` Protocol."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

from atoll.inventory import KINDS, ResourceView, ViewQuery
from atoll.pods.client import PodLimits, PodResponse
from atoll.pods.info import PodInfo
from atoll.pods.pool import PodClients
from atoll.pods.registry import PodRegistry
from atoll.types import PodId, PodStatus, RegionName
from tests.unit.inventory.fakecloud import LISTINGS, list_page

PODS = ("Pod1", "Pod2", "Pod3")
TYPES = tuple(listing.type for listing in LISTINGS)
BY_PATH = {listing.path: listing for listing in LISTINGS}
Key = tuple[str, str, str]


class MemoryPod:
    """A `PodClient` answering list calls from `items` (type -> items), as `FakeCloud` does."""

    def __init__(self) -> None:
        self.items: dict[str, list[dict[str, Any]]] = {t: [] for t in TYPES}

    async def request(self, method: str, url: str, *, params: Sequence[tuple[str, str]] | None = None, **_: Any) -> Any:
        listing = BY_PATH[urlsplit(url).path]
        query = dict(params or ())
        status, body = list_page(listing, self.items[listing.type], query.get(listing.filter), query, url)
        return PodResponse(status, CIMultiDictProxy(CIMultiDict()), json.dumps(body).encode())

    async def close(self) -> None:
        return None


def _info(name: str) -> PodInfo:
    base = f"http://{name.lower()}.test"
    endpoints = {"compute": base + "/v2.1", "volumev3": base + "/v3", "image": base, "network": base}
    return PodInfo(PodId(name), RegionName(name), f"az-{name}", "", False, endpoints, PodStatus.UP)


def _item(type_: str, project: str) -> dict[str, Any]:
    listing = next(listing for listing in LISTINGS if listing.type == type_)
    return {"id": str(uuid.uuid4()), "name": "x", "status": "ACTIVE", listing.project_key: project}


async def _token(renew: bool) -> str:
    return "service-token"


spreads = st.lists(
    st.tuples(st.sampled_from(PODS), st.sampled_from(TYPES), st.sampled_from(["p", "other"])), max_size=40
)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    spread=spreads,
    limit=st.integers(1, 9),
    changes=st.lists(st.tuples(st.booleans(), st.sampled_from(PODS), st.sampled_from(TYPES)), max_size=6),
)
async def test_pages_are_exact_while_items_come_and_go(
    spread: list[tuple[str, str, str]], limit: int, changes: list[tuple[bool, str, str]]
) -> None:
    pods = {name: MemoryPod() for name in PODS}
    for pod, type_, project in spread:
        pods[pod].items[type_].append(_item(type_, project))
    clients = PodClients(PodLimits(), factory=lambda name, _limits: pods[name])  # type: ignore[arg-type,return-value]

    async def load() -> list[PodInfo]:
        return [_info(name) for name in PODS]

    view = ResourceView(PodRegistry(load), clients, _token, timeout=5.0, max_limit=1000)
    kinds = [kind for name, kind in KINDS.items() if name != "keypair"]

    def present() -> set[Key]:
        return {
            (t, i["id"], name)
            for name, pod in pods.items()
            for t, items in pod.items.items()
            for i in items
            if next(i[k] for k in KINDS[t].project_key if k in i) == "p"
        }

    start = present()
    seen: list[Key] = []
    removed: set[Key] = set()
    marker: str | None = None
    pending = list(changes)
    for _ in range(200):
        page = await view.page(ViewQuery("p", kinds, limit=limit, marker=marker))
        assert page.partial == []
        assert len(page.items) <= limit
        keys = [(i["type"], i["id"], i["pod"]) for i in page.items]
        assert keys == sorted(keys)
        seen += keys
        if page.next is None:
            break
        marker = page.next
        if pending:  # between pages: delete the last item listed of a kind in a pod, or add one
            delete, pod, type_ = pending.pop()
            items = pods[pod].items[type_]
            mine = [i for i in items if next(i[k] for k in KINDS[type_].project_key if k in i) == "p"]
            if delete and mine:
                gone = mine[len(mine) // 2]
                items.remove(gone)
                removed.add((type_, gone["id"], pod))
            else:
                items.append(_item(type_, "p"))
    else:
        pytest.fail("the listing does not end")
    assert len(seen) == len(set(seen))
    assert start - removed <= set(seen) <= start | present()
    await clients.close()
