"""Who may do what: admins everything; project readers only their own routings."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN, MEMBER, READER_B
from tests.unit.api.helpers import create_binding, create_pod, create_routing, fault, snapshot

MEMBER_B = {"X-Auth-Token": "member-b"}


@pytest.fixture
async def world(client: httpx.AsyncClient) -> dict[str, Any]:
    """A top pod, a bottom pod, a binding, and one routing in each of project-a and project-b."""
    top = await create_pod(client, "RegionOne", "")
    pod = await create_pod(client, "Pod1", "az1")
    binding = await create_binding(client, "project-a", pod["pod_id"])
    routing_a = await create_routing(client, pod["pod_id"], "top-a", project="project-a")
    routing_b = await create_routing(client, pod["pod_id"], "top-b", project="project-b")
    return {"top": top, "pod": pod, "binding": binding, "routing_a": routing_a, "routing_b": routing_b}


def _admin_only_calls(world: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    pod_id = world["pod"]["pod_id"]
    binding_id = world["binding"]["id"]
    routing_id = world["routing_a"]["id"]
    return [
        ("GET", "/v1.0/pods", None),
        ("GET", f"/v1.0/pods/{pod_id}", None),
        ("POST", "/v1.0/pods", {"pod": {"region_name": "Pod9", "az_name": "az9"}}),
        ("PUT", f"/v1.0/pods/{pod_id}", {"pod": {"dc_name": "dc"}}),
        ("DELETE", f"/v1.0/pods/{pod_id}", None),
        ("GET", "/v1.0/bindings", None),
        ("GET", f"/v1.0/bindings/{binding_id}", None),
        ("POST", "/v1.0/bindings", {"pod_binding": {"tenant_id": "project-a", "pod_id": pod_id}}),
        ("PUT", f"/v1.0/bindings/{binding_id}", {"pod_binding": {"is_binding": False}}),
        ("DELETE", f"/v1.0/bindings/{binding_id}", None),
        (
            "POST",
            "/v1.0/routings",
            {"routing": {"top_id": "x", "pod_id": pod_id, "project_id": "project-a", "resource_type": "server"}},
        ),
        ("PUT", f"/v1.0/routings/{routing_id}", {"routing": {"bottom_id": "other"}}),
        ("DELETE", f"/v1.0/routings/{routing_id}", None),
    ]


async def test_member_is_forbidden_every_admin_call(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    before = await snapshot(client)
    for method, path, body in _admin_only_calls(world):
        response = await client.request(method, path, json=body, headers=MEMBER)
        message = fault(response, 403, "forbidden")
        assert "Policy doesn't allow atoll:" in message, (method, path)
    assert await snapshot(client) == before


async def test_member_reads_own_project_routings(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    listed = await client.get("/v1.0/routings", headers=MEMBER)
    assert listed.status_code == 200, listed.text
    assert [r["id"] for r in listed.json()["routings"]] == [world["routing_a"]["id"]]
    shown = await client.get(f"/v1.0/routings/{world['routing_a']['id']}", headers=MEMBER)
    assert shown.json()["routing"] == world["routing_a"]


async def test_reader_lists_only_its_project(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    listed = (await client.get("/v1.0/routings", headers=READER_B)).json()
    assert [r["id"] for r in listed["routings"]] == [world["routing_b"]["id"]]
    explicit = (await client.get("/v1.0/routings?project_id=project-b", headers=READER_B)).json()
    assert [r["id"] for r in explicit["routings"]] == [world["routing_b"]["id"]]
    # filters narrow within the forced project, never widen it
    by_pod = (await client.get(f"/v1.0/routings?pod_id={world['pod']['pod_id']}", headers=READER_B)).json()
    assert [r["id"] for r in by_pod["routings"]] == [world["routing_b"]["id"]]
    by_id = (await client.get(f"/v1.0/routings?id={world['routing_a']['id']}", headers=READER_B)).json()
    assert by_id["routings"] == []


async def test_reader_next_link_keeps_the_forced_project(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    for i in range(3):
        await create_routing(client, world["pod"]["pod_id"], f"more-b-{i}", project="project-b")
    first = (await client.get("/v1.0/routings?limit=2", headers=READER_B)).json()
    href = first["routings_links"][0]["href"]
    assert "project_id=project-b" in href
    rest = (await client.get(href.removeprefix("http://atoll.test"), headers=READER_B)).json()
    ids = [r["id"] for r in first["routings"] + rest["routings"]]
    assert len(ids) == 4
    assert world["routing_a"]["id"] not in ids


async def test_admin_sees_all_projects(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    listed = (await client.get("/v1.0/routings", headers=ADMIN)).json()
    assert {r["id"] for r in listed["routings"]} == {world["routing_a"]["id"], world["routing_b"]["id"]}


async def test_asking_for_another_projects_routings_is_forbidden(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    message = fault(await client.get("/v1.0/routings?project_id=project-a", headers=READER_B), 403, "forbidden")
    assert "atoll:routings:list" in message


async def test_another_projects_routing_is_not_found(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    other = world["routing_a"]["id"]
    expected = f"Routing {other} could not be found."
    assert fault(await client.get(f"/v1.0/routings/{other}", headers=READER_B), 404, "itemNotFound") == expected
    put = await client.put(f"/v1.0/routings/{other}", json={"routing": {"bottom_id": "x"}}, headers=MEMBER_B)
    assert fault(put, 404, "itemNotFound") == expected
    assert fault(await client.delete(f"/v1.0/routings/{other}", headers=MEMBER_B), 404, "itemNotFound") == expected
    shown = (await client.get(f"/v1.0/routings/{other}", headers=ADMIN)).json()["routing"]
    assert shown == world["routing_a"]


async def test_reader_cannot_change_own_projects_routing(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    own = world["routing_b"]["id"]
    put = await client.put(f"/v1.0/routings/{own}", json={"routing": {"bottom_id": "x"}}, headers=READER_B)
    assert "atoll:routings:update" in fault(put, 403, "forbidden")
    delete = await client.delete(f"/v1.0/routings/{own}", headers=READER_B)
    assert "atoll:routings:delete" in fault(delete, 403, "forbidden")
    assert (await client.get(f"/v1.0/routings/{own}", headers=ADMIN)).json()["routing"] == world["routing_b"]
