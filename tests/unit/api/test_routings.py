from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN
from tests.unit.api.helpers import create_pod, create_routing, fault
from tests.unit.conftest import Override

BASE = "http://atoll.test"


async def _seed(client: httpx.AsyncClient, count: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    pod = await create_pod(client, "Pod1", "az1")
    rows = [await create_routing(client, pod["pod_id"], f"top-{i}") for i in range(count)]
    return pod, rows


async def _walk(client: httpx.AsyncClient, url: str) -> tuple[list[int], int]:
    """Follow `routings_links` from `url` to the end; return the ids seen and the number of pages."""
    seen: list[int] = []
    pages = 0
    while True:
        response = await client.get(url, headers=ADMIN)
        assert response.status_code == 200, response.text
        body = response.json()
        pages += 1
        seen += [r["id"] for r in body["routings"]]
        links = body["routings_links"]
        if not links:
            return seen, pages
        assert [link["rel"] for link in links] == ["next"]
        href = links[0]["href"]
        assert href.startswith(BASE + "/v1.0/routings?")
        url = href.removeprefix(BASE)
        assert pages < 50, "pagination does not end"


async def test_create_show_update_delete_routing(client: httpx.AsyncClient) -> None:
    pod = await create_pod(client, "Pod1", "az1")
    pod2 = await create_pod(client, "Pod2", "az2")
    routing = await create_routing(client, pod["pod_id"], "top-1", bottom_id="bottom-1", resource_type="volume")
    assert isinstance(routing["id"], int)
    expected = ("top-1", "bottom-1", pod["pod_id"], "project-a", "volume")
    assert (
        routing["top_id"],
        routing["bottom_id"],
        routing["pod_id"],
        routing["project_id"],
        routing["resource_type"],
    ) == expected

    shown = await client.get(f"/v1.0/routings/{routing['id']}", headers=ADMIN)
    assert shown.json() == {"routing": routing}

    body = {"routing": {"bottom_id": None, "pod_id": pod2["pod_id"]}}
    updated = await client.put(f"/v1.0/routings/{routing['id']}", json=body, headers=ADMIN)
    assert updated.status_code == 200, updated.text
    assert updated.json()["routing"]["bottom_id"] is None
    assert updated.json()["routing"]["pod_id"] == pod2["pod_id"]
    assert updated.json()["routing"]["top_id"] == "top-1"

    deleted = await client.delete(f"/v1.0/routings/{routing['id']}", headers=ADMIN)
    assert (deleted.status_code, deleted.json()) == (200, {})
    gone = await client.get(f"/v1.0/routings/{routing['id']}", headers=ADMIN)
    assert fault(gone, 404, "itemNotFound") == f"Routing {routing['id']} could not be found."


async def test_reservation_row_has_null_bottom_id(client: httpx.AsyncClient) -> None:
    pod = await create_pod(client, "Pod1", "az1")
    body = {"routing": {"top_id": "t", "pod_id": pod["pod_id"], "project_id": "p", "resource_type": "port"}}
    response = await client.post("/v1.0/routings", json=body, headers=ADMIN)
    assert response.status_code == 200, response.text
    assert response.json()["routing"]["bottom_id"] is None


@pytest.mark.parametrize(("count", "limit"), [(7, 3), (6, 3), (3, 1), (1, 5), (0, 2)])
async def test_pages_cover_every_row_once(client: httpx.AsyncClient, count: int, limit: int) -> None:
    _, rows = await _seed(client, count)
    seen, pages = await _walk(client, f"/v1.0/routings?limit={limit}")
    assert seen == [r["id"] for r in rows]
    assert len(seen) == len(set(seen))
    assert pages == max(1, -(-count // limit))


async def test_next_link_keeps_filters(client: httpx.AsyncClient) -> None:
    pod = await create_pod(client, "Pod1", "az1")
    servers = [await create_routing(client, pod["pod_id"], f"s-{i}") for i in range(5)]
    for i in range(4):
        await create_routing(client, pod["pod_id"], f"v-{i}", resource_type="volume")
    first = (await client.get("/v1.0/routings?resource_type=server&limit=2", headers=ADMIN)).json()
    href = first["routings_links"][0]["href"]
    assert "resource_type=server" in href
    assert "limit=2" in href
    assert f"marker={first['routings'][-1]['id']}" in href
    seen, _ = await _walk(client, "/v1.0/routings?resource_type=server&limit=2")
    assert seen == [r["id"] for r in servers]


async def test_marker_in_the_middle_and_past_the_end(client: httpx.AsyncClient) -> None:
    _, rows = await _seed(client, 4)
    ids = [r["id"] for r in rows]
    after_second = (await client.get(f"/v1.0/routings?marker={ids[1]}", headers=ADMIN)).json()
    assert [r["id"] for r in after_second["routings"]] == ids[2:]
    assert after_second["routings_links"] == []
    past = (await client.get(f"/v1.0/routings?marker={ids[-1]}", headers=ADMIN)).json()
    assert past == {"routings": [], "routings_links": []}


async def test_limit_is_capped_by_max_limit(client: httpx.AsyncClient, override: Override) -> None:
    override("max_limit", 2, "api")
    _, rows = await _seed(client, 3)
    body = (await client.get("/v1.0/routings?limit=100", headers=ADMIN)).json()
    assert [r["id"] for r in body["routings"]] == [r["id"] for r in rows[:2]]
    assert "limit=2" in body["routings_links"][0]["href"]
    unlimited = (await client.get("/v1.0/routings", headers=ADMIN)).json()
    assert len(unlimited["routings"]) == 2


async def test_next_link_uses_public_url(client: httpx.AsyncClient, override: Override) -> None:
    override("public_url", "https://cloud.example/atoll/", "api")
    await _seed(client, 2)
    body = (await client.get("/v1.0/routings?limit=1", headers=ADMIN)).json()
    assert body["routings_links"][0]["href"].startswith("https://cloud.example/atoll/v1.0/routings?")


async def test_filters(client: httpx.AsyncClient) -> None:
    pod1 = await create_pod(client, "Pod1", "az1")
    pod2 = await create_pod(client, "Pod2", "az2")
    r1 = await create_routing(client, pod1["pod_id"], "t1", project="project-a", resource_type="server")
    r2 = await create_routing(client, pod2["pod_id"], "t1", project="project-a", resource_type="server")
    r3 = await create_routing(client, pod1["pod_id"], "t2", project="project-b", resource_type="network")

    async def ids(query: str) -> list[int]:
        response = await client.get(f"/v1.0/routings?{query}", headers=ADMIN)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["routings"]]

    assert await ids("") == [r1["id"], r2["id"], r3["id"]]
    assert await ids("top_id=t1") == [r1["id"], r2["id"]]
    assert await ids(f"pod_id={pod1['pod_id']}") == [r1["id"], r3["id"]]
    assert await ids("project_id=project-b") == [r3["id"]]
    assert await ids("resource_type=network") == [r3["id"]]
    assert await ids(f"bottom_id={r2['bottom_id']}") == [r1["id"], r2["id"]]
    assert await ids(f"id={r2['id']}") == [r2["id"]]
    assert await ids(f"top_id=t1&pod_id={pod2['pod_id']}") == [r2["id"]]
    assert await ids("top_id=nothing") == []


async def test_unknown_resource_type_is_a_bad_request(client: httpx.AsyncClient) -> None:
    pod = await create_pod(client, "Pod1", "az1")
    body = {"routing": {"top_id": "t", "pod_id": pod["pod_id"], "project_id": "p", "resource_type": "spaceship"}}
    message = fault(await client.post("/v1.0/routings", json=body, headers=ADMIN), 400, "badRequest")
    assert "routing.resource_type" in message
    listed = fault(await client.get("/v1.0/routings?resource_type=spaceship", headers=ADMIN), 400, "badRequest")
    assert "resource_type" in listed
    assert (await client.get("/v1.0/routings", headers=ADMIN)).json()["routings"] == []


async def test_routing_to_an_unknown_pod_is_a_bad_request(client: httpx.AsyncClient) -> None:
    body = {"routing": {"top_id": "t", "pod_id": "ghost", "project_id": "p", "resource_type": "server"}}
    message = fault(await client.post("/v1.0/routings", json=body, headers=ADMIN), 400, "badRequest")
    assert message == "Pod ghost could not be found."


async def test_duplicate_routing_conflicts(client: httpx.AsyncClient) -> None:
    pod = await create_pod(client, "Pod1", "az1")
    await create_routing(client, pod["pod_id"], "t1", bottom_id="b1")
    body = {
        "routing": {
            "top_id": "t1",
            "bottom_id": "b2",
            "pod_id": pod["pod_id"],
            "project_id": "x",
            "resource_type": "server",
        }
    }
    message = fault(await client.post("/v1.0/routings", json=body, headers=ADMIN), 409, "conflictingRequest")
    assert "server t1" in message
    # another resource type with the same top id is fine
    await create_routing(client, pod["pod_id"], "t1", resource_type="volume")
    rows = (await client.get("/v1.0/routings", headers=ADMIN)).json()["routings"]
    assert sorted((r["resource_type"], r["bottom_id"]) for r in rows) == [("server", "b1"), ("volume", "bottom-t1")]


async def test_update_into_a_duplicate_conflicts(client: httpx.AsyncClient) -> None:
    pod = await create_pod(client, "Pod1", "az1")
    await create_routing(client, pod["pod_id"], "t1")
    second = await create_routing(client, pod["pod_id"], "t2")
    response = await client.put(f"/v1.0/routings/{second['id']}", json={"routing": {"top_id": "t1"}}, headers=ADMIN)
    fault(response, 409, "conflictingRequest")
    shown = (await client.get(f"/v1.0/routings/{second['id']}", headers=ADMIN)).json()["routing"]
    assert shown["top_id"] == "t2"


async def test_update_refuses_nulls_and_unknown_pods(client: httpx.AsyncClient) -> None:
    pod = await create_pod(client, "Pod1", "az1")
    routing = await create_routing(client, pod["pod_id"], "t1")
    url = f"/v1.0/routings/{routing['id']}"
    assert "top_id may not be null" in fault(
        await client.put(url, json={"routing": {"top_id": None}}, headers=ADMIN), 400, "badRequest"
    )
    assert "at least one field" in fault(await client.put(url, json={"routing": {}}, headers=ADMIN), 400, "badRequest")
    unknown = await client.put(url, json={"routing": {"pod_id": "ghost"}}, headers=ADMIN)
    assert fault(unknown, 400, "badRequest") == "Pod ghost could not be found."
    assert (await client.get(url, headers=ADMIN)).json()["routing"] == routing


async def test_unknown_routing_is_404(client: httpx.AsyncClient) -> None:
    for method in ("GET", "PUT", "DELETE"):
        kwargs: dict[str, Any] = {"json": {"routing": {"bottom_id": "x"}}} if method == "PUT" else {}
        response = await client.request(method, "/v1.0/routings/424242", headers=ADMIN, **kwargs)
        assert fault(response, 404, "itemNotFound") == "Routing 424242 could not be found."
