"""Pods and bindings page like routings: limit, marker, a `next` link, capped by [api] max_limit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN
from tests.unit.api.helpers import create_binding, create_pod, fault, walk
from tests.unit.conftest import Override

Seed = Callable[[httpx.AsyncClient, int], Awaitable[list[str]]]


async def _pods(client: httpx.AsyncClient, count: int) -> list[str]:
    return [(await create_pod(client, f"Pod{i}", "az1"))["pod_id"] for i in range(count)]


async def _bindings(client: httpx.AsyncClient, count: int) -> list[str]:
    pod = await create_pod(client, "Pod1", "az1")
    return [(await create_binding(client, f"project-{i}", pod["pod_id"]))["id"] for i in range(count)]


COLLECTIONS: dict[str, tuple[str, str, str, Seed]] = {
    "pods": ("/v1.0/pods", "pods", "pod_id", _pods),
    "bindings": ("/v1.0/bindings", "pod_bindings", "id", _bindings),
}


@pytest.fixture(params=sorted(COLLECTIONS))
def kind(request: pytest.FixtureRequest) -> tuple[str, str, str, Seed]:
    return COLLECTIONS[request.param]


@pytest.mark.parametrize(("count", "limit"), [(7, 3), (6, 3), (1, 5), (0, 2)])
async def test_pages_cover_every_row_once_in_creation_order(
    client: httpx.AsyncClient, kind: tuple[str, str, str, Seed], count: int, limit: int
) -> None:
    path, collection, key, seed = kind
    ids = await seed(client, count)
    seen, pages = await walk(client, f"{path}?limit={limit}", collection, key)
    assert seen == ids
    assert pages == max(1, -(-count // limit))


async def test_limit_is_capped_by_max_limit(
    client: httpx.AsyncClient, kind: tuple[str, str, str, Seed], override: Override
) -> None:
    path, collection, key, seed = kind
    override("max_limit", 2, "api")
    ids = await seed(client, 3)
    for query in ("?limit=100", ""):
        body = (await client.get(f"{path}{query}", headers=ADMIN)).json()
        assert [row[key] for row in body[collection]] == ids[:2]
        [link] = body[f"{collection}_links"]
        assert link["href"] == f"http://atoll.test{path}?limit=2&marker={ids[1]}"


async def test_an_unknown_marker_is_a_400(client: httpx.AsyncClient, kind: tuple[str, str, str, Seed]) -> None:
    path, _, _, seed = kind
    await seed(client, 2)
    response = await client.get(f"{path}?marker=no-such-row", headers=ADMIN)
    assert fault(response, 400, "badRequest") == "Marker no-such-row could not be found."


@pytest.mark.parametrize("query", ["limit=0", "limit=-1", "limit=x", "limit=2147483648", "marker=%01"])
async def test_bad_paging_parameters_are_a_400(
    client: httpx.AsyncClient, kind: tuple[str, str, str, Seed], query: str
) -> None:
    path, *_ = kind
    fault(await client.get(f"{path}?{query}", headers=ADMIN), 400, "badRequest")


async def test_the_marker_of_a_row_past_the_end(client: httpx.AsyncClient, kind: tuple[str, str, str, Seed]) -> None:
    path, collection, key, seed = kind
    ids = await seed(client, 3)
    after_first = (await client.get(f"{path}?marker={ids[0]}", headers=ADMIN)).json()
    assert [row[key] for row in after_first[collection]] == ids[1:]
    assert (await client.get(f"{path}?marker={ids[-1]}", headers=ADMIN)).json() == {
        collection: [],
        f"{collection}_links": [],
    }


async def test_binding_links_keep_their_filters(client: httpx.AsyncClient) -> None:
    mine: list[Any] = []
    for i in range(5):
        pod = await create_pod(client, f"Pod{i}", "az1")
        mine.append((await create_binding(client, "project-a", pod["pod_id"]))["id"])
        await create_binding(client, "project-b", pod["pod_id"])
    first = (await client.get("/v1.0/bindings?tenant_id=project-a&limit=2", headers=ADMIN)).json()
    assert "tenant_id=project-a" in first["pod_bindings_links"][0]["href"]
    seen, pages = await walk(client, "/v1.0/bindings?tenant_id=project-a&limit=2", "pod_bindings", "id")
    assert (seen, pages) == (mine, 3)
