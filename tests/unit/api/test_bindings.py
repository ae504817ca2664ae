from __future__ import annotations

import httpx

from tests.conftest import ADMIN
from tests.unit.api.helpers import create_binding, create_pod, fault


async def test_create_show_update_delete_binding(client: httpx.AsyncClient) -> None:
    pod = await create_pod(client, "Pod1", "az1")
    binding = await create_binding(client, "project-a", pod["pod_id"])
    assert (binding["tenant_id"], binding["pod_id"], binding["is_binding"]) == ("project-a", pod["pod_id"], True)
    assert binding["created_at"]
    assert binding["updated_at"] is None

    shown = await client.get(f"/v1.0/bindings/{binding['id']}", headers=ADMIN)
    assert shown.json() == {"pod_binding": binding}

    body = {"pod_binding": {"is_binding": False}}
    updated = await client.put(f"/v1.0/bindings/{binding['id']}", json=body, headers=ADMIN)
    assert updated.status_code == 200, updated.text
    assert updated.json()["pod_binding"]["is_binding"] is False
    assert updated.json()["pod_binding"]["updated_at"] is not None
    again = (await client.get(f"/v1.0/bindings/{binding['id']}", headers=ADMIN)).json()["pod_binding"]
    assert again["is_binding"] is False

    deleted = await client.delete(f"/v1.0/bindings/{binding['id']}", headers=ADMIN)
    assert (deleted.status_code, deleted.json()) == (200, {})
    gone = await client.get(f"/v1.0/bindings/{binding['id']}", headers=ADMIN)
    assert fault(gone, 404, "itemNotFound") == f"Binding {binding['id']} could not be found."


async def test_create_inactive_binding(client: httpx.AsyncClient) -> None:
    pod = await create_pod(client, "Pod1", "az1")
    body = {"pod_binding": {"tenant_id": "p", "pod_id": pod["pod_id"], "is_binding": False}}
    response = await client.post("/v1.0/bindings", json=body, headers=ADMIN)
    assert response.json()["pod_binding"]["is_binding"] is False


async def test_binding_to_an_unknown_pod_is_a_bad_request(client: httpx.AsyncClient) -> None:
    body = {"pod_binding": {"tenant_id": "project-a", "pod_id": "no-such-pod"}}
    message = fault(await client.post("/v1.0/bindings", json=body, headers=ADMIN), 400, "badRequest")
    assert message == "Pod no-such-pod could not be found."
    assert (await client.get("/v1.0/bindings", headers=ADMIN)).json() == {"pod_bindings": [], "pod_bindings_links": []}


async def test_binding_to_the_top_pod_is_a_bad_request(client: httpx.AsyncClient) -> None:
    top = await create_pod(client, "RegionOne", "")
    body = {"pod_binding": {"tenant_id": "project-a", "pod_id": top["pod_id"]}}
    message = fault(await client.post("/v1.0/bindings", json=body, headers=ADMIN), 400, "badRequest")
    assert "top pod" in message
    assert (await client.get("/v1.0/bindings", headers=ADMIN)).json() == {"pod_bindings": [], "pod_bindings_links": []}


async def test_duplicate_binding_conflicts(client: httpx.AsyncClient) -> None:
    pod = await create_pod(client, "Pod1", "az1")
    await create_binding(client, "project-a", pod["pod_id"])
    body = {"pod_binding": {"tenant_id": "project-a", "pod_id": pod["pod_id"]}}
    message = fault(await client.post("/v1.0/bindings", json=body, headers=ADMIN), 409, "conflictingRequest")
    assert "project-a" in message
    assert len((await client.get("/v1.0/bindings", headers=ADMIN)).json()["pod_bindings"]) == 1


async def test_list_filters(client: httpx.AsyncClient) -> None:
    pod1 = await create_pod(client, "Pod1", "az1")
    pod2 = await create_pod(client, "Pod2", "az2")
    a1 = await create_binding(client, "project-a", pod1["pod_id"])
    a2 = await create_binding(client, "project-a", pod2["pod_id"])
    b1 = await create_binding(client, "project-b", pod1["pod_id"])

    async def ids(query: str) -> set[str]:
        response = await client.get(f"/v1.0/bindings{query}", headers=ADMIN)
        assert response.status_code == 200, response.text
        return {b["id"] for b in response.json()["pod_bindings"]}

    assert await ids("") == {a1["id"], a2["id"], b1["id"]}
    assert await ids("?tenant_id=project-a") == {a1["id"], a2["id"]}
    assert await ids(f"?pod_id={pod1['pod_id']}") == {a1["id"], b1["id"]}
    assert await ids(f"?tenant_id=project-b&pod_id={pod1['pod_id']}") == {b1["id"]}
    assert await ids("?tenant_id=nobody") == set()


async def test_list_refuses_unknown_filter(client: httpx.AsyncClient) -> None:
    message = fault(await client.get("/v1.0/bindings?project_id=x", headers=ADMIN), 400, "badRequest")
    assert "project_id" in message


async def test_update_and_delete_unknown_binding_is_404(client: httpx.AsyncClient) -> None:
    body = {"pod_binding": {"is_binding": True}}
    assert "nope" in fault(await client.put("/v1.0/bindings/nope", json=body, headers=ADMIN), 404, "itemNotFound")
    assert "nope" in fault(await client.delete("/v1.0/bindings/nope", headers=ADMIN), 404, "itemNotFound")


async def test_update_requires_is_binding_as_a_boolean(client: httpx.AsyncClient) -> None:
    pod = await create_pod(client, "Pod1", "az1")
    binding = await create_binding(client, "project-a", pod["pod_id"])
    for value in (None, "maybe", [True]):
        body = {"pod_binding": {"is_binding": value}}
        response = await client.put(f"/v1.0/bindings/{binding['id']}", json=body, headers=ADMIN)
        assert "pod_binding.is_binding" in fault(response, 400, "badRequest")
    missing = await client.put(f"/v1.0/bindings/{binding['id']}", json={"pod_binding": {}}, headers=ADMIN)
    assert fault(missing, 400, "badRequest") == "Missing field pod_binding.is_binding in the request body."
    shown = (await client.get(f"/v1.0/bindings/{binding['id']}", headers=ADMIN)).json()["pod_binding"]
    assert shown["is_binding"] is True
