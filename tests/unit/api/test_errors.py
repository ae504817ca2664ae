"""Bad input of every kind is a 4xx OpenStack fault naming the problem, and changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN
from tests.unit.api.helpers import create_binding, create_pod, create_routing, fault, snapshot

JSON = {"content-type": "application/json", **ADMIN}


@pytest.fixture
async def world(client: httpx.AsyncClient) -> dict[str, Any]:
    pod = await create_pod(client, "Pod1", "az1")
    binding = await create_binding(client, "project-a", pod["pod_id"])
    routing = await create_routing(client, pod["pod_id"], "top-1")
    return {"pod": pod, "binding": binding, "routing": routing}


async def test_malformed_json(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    before = await snapshot(client)
    for path in ("/v1.0/pods", "/v1.0/bindings", "/v1.0/routings"):
        response = await client.post(path, content=b'{"pod": {"region_name": "x"', headers=JSON)
        assert fault(response, 400, "badRequest").startswith("Malformed request body")
    put = await client.put(f"/v1.0/pods/{world['pod']['pod_id']}", content=b"{,}", headers=JSON)
    assert fault(put, 400, "badRequest").startswith("Malformed request body")
    assert await snapshot(client) == before


@pytest.mark.parametrize("body", [[{"pod": {"region_name": "x"}}], "pod", 42, None, True])
async def test_body_not_an_object(client: httpx.AsyncClient, body: object) -> None:
    response = await client.post("/v1.0/pods", json=body, headers=ADMIN)
    assert response.status_code == 400, response.text
    message = fault(response, 400, "badRequest")
    assert "body" in message
    assert (await client.get("/v1.0/pods", headers=ADMIN)).json() == {"pods": [], "pods_links": []}


async def test_missing_body(client: httpx.AsyncClient) -> None:
    message = fault(await client.post("/v1.0/pods", headers=ADMIN), 400, "badRequest")
    assert message == "Missing field body in the request body."


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1.0/pods", {"pod": {"region_name": "x", "az_name": "a"}, "extra": 1}, "Unknown field extra"),
        ("/v1.0/pods", {"pod": {"region_name": "x", "az_name": "a", "shiny": True}}, "Unknown field pod.shiny"),
        ("/v1.0/pods", {"pods": {"region_name": "x"}}, "Unknown field pods"),
        (
            "/v1.0/bindings",
            {"pod_binding": {"tenant_id": "t", "pod_id": "p", "id": "x"}},
            "Unknown field pod_binding.id",
        ),
        (
            "/v1.0/routings",
            {"routing": {"top_id": "t", "pod_id": "p", "project_id": "p", "resource_type": "server", "id": 3}},
            "Unknown field routing.id",
        ),
    ],
)
async def test_unknown_fields(
    client: httpx.AsyncClient, world: dict[str, Any], path: str, body: dict[str, Any], field: str
) -> None:
    before = await snapshot(client)
    message = fault(await client.post(path, json=body, headers=ADMIN), 400, "badRequest")
    assert field in message
    assert await snapshot(client) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"pod": {"region_name": 5, "az_name": "a"}}, "pod.region_name"),
        ({"pod": {"region_name": ["x"], "az_name": "a"}}, "pod.region_name"),
        ({"pod": {"region_name": "x", "az_name": {"a": 1}}}, "pod.az_name"),
        ({"pod": "Pod1"}, "pod"),
        ({"pod": {"region_name": None}}, "pod"),
        ({"pod": {"region_name": "x", "az_name": None}}, "pod.az_name"),
        ({"pod": {"region_name": "x", "dc_name": None, "az_name": "a"}}, "pod.dc_name"),
        ({"pod": {"region_name": "x" * 256, "az_name": "a"}}, "at most 255 characters"),
        ({"pod": {"region_name": "x", "az_name": "a" * 256}}, "pod.az_name"),
        ({"pod": {"region_name": "", "az_name": "a"}}, "pod.region_name"),
        ({"pod": {"region_name": "   ", "az_name": "a"}}, "pod.region_name"),
        ({"pod": {"region_name": "a\x00b", "az_name": "a"}}, "pod.region_name"),
        ({"pod": {"region_name": "a\nb", "az_name": "a"}}, "pod.region_name"),
        ({"pod": {"region_name": "ab", "az_name": "a\tb"}}, "pod.az_name"),
        ({"pod": {"region_name": "ab", "az_name": "a", "dc_name": "\x7f"}}, "pod.dc_name"),
    ],
)
async def test_bad_pod_fields(client: httpx.AsyncClient, body: dict[str, Any], field: str) -> None:
    message = fault(await client.post("/v1.0/pods", json=body, headers=ADMIN), 400, "badRequest")
    assert field in message
    assert (await client.get("/v1.0/pods", headers=ADMIN)).json() == {"pods": [], "pods_links": []}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"top_id": 7}, "routing.top_id"),
        ({"top_id": "x" * 128}, "routing.top_id"),
        ({"bottom_id": "a\x00"}, "routing.bottom_id"),
        ({"project_id": None}, "project_id may not be null"),
        ({"resource_type": "spaceship"}, "routing.resource_type"),
        ({"pod_id": "x" * 37}, "routing.pod_id"),
    ],
)
async def test_bad_routing_updates_change_nothing(
    client: httpx.AsyncClient, world: dict[str, Any], changes: dict[str, Any], field: str
) -> None:
    before = await snapshot(client)
    url = f"/v1.0/routings/{world['routing']['id']}"
    message = fault(await client.put(url, json={"routing": changes}, headers=ADMIN), 400, "badRequest")
    assert field in message
    assert await snapshot(client) == before


async def test_bad_binding_fields(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    before = await snapshot(client)
    pod_id = world["pod"]["pod_id"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"tenant_id": None, "pod_id": pod_id}, "pod_binding.tenant_id"),
        ({"tenant_id": "t\x01", "pod_id": pod_id}, "pod_binding.tenant_id"),
        ({"tenant_id": "t", "pod_id": pod_id, "is_binding": "perhaps"}, "pod_binding.is_binding"),
        ({"pod_id": pod_id}, "Missing field pod_binding.tenant_id"),
    ]
    for body, field in cases:
        response = await client.post("/v1.0/bindings", json={"pod_binding": body}, headers=ADMIN)
        assert field in fault(response, 400, "badRequest"), body
    assert await snapshot(client) == before


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/v1.0/pods?all_tenants=1", "Unknown query parameter(s): all_tenants."),
        ("/v1.0/bindings?is_binding=1", "Unknown query parameter(s): is_binding."),
        ("/v1.0/routings?sort_key=id&foo=1", "Unknown query parameter(s): foo, sort_key."),
        ("/v1.0/routings?limit=abc", "query parameter limit"),
        ("/v1.0/routings?limit=0", "query parameter limit"),
        ("/v1.0/routings?limit=-1", "query parameter limit"),
        ("/v1.0/routings?limit=99999999999999999999", "query parameter limit"),
        ("/v1.0/routings?marker=x", "query parameter marker"),
        ("/v1.0/routings?marker=1.5", "query parameter marker"),
        ("/v1.0/routings?marker=99999999999999999999", "query parameter marker"),
        ("/v1.0/routings?id=0", "query parameter id"),
        ("/v1.0/routings?top_id=a%00b", "query parameter top_id"),
        ("/v1.0/routings?project_id=" + "p" * 256, "query parameter project_id"),
        ("/v1.0/routings/99999999999999999999", "path parameter routing_id"),
        ("/v1.0/routings/9223372036854775808", "path parameter routing_id"),
        ("/v1.0/routings/0", "path parameter routing_id"),
        ("/v1.0/routings/abc", "path parameter routing_id"),
        ("/v1.0/pods/" + "p" * 256, "path parameter pod_id"),
        ("/v1.0/pods/a%01b", "path parameter pod_id"),
        ("/v1.0/bindings/a%7Fb", "path parameter binding_id"),
    ],
)
async def test_bad_parameters(client: httpx.AsyncClient, path: str, problem: str) -> None:
    message = fault(await client.get(path, headers=ADMIN), 400, "badRequest")
    assert problem in message


async def test_largest_routing_id_is_just_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v1.0/routings/{2**63 - 1}", headers=ADMIN)
    assert fault(response, 404, "itemNotFound") == f"Routing {2**63 - 1} could not be found."
    listed = await client.get(f"/v1.0/routings?marker={2**63 - 1}&limit={2**31 - 1}", headers=ADMIN)
    assert listed.json() == {"routings": [], "routings_links": []}


async def test_wrong_method_is_405(client: httpx.AsyncClient) -> None:
    for method, path in [("DELETE", "/v1.0/pods"), ("PATCH", "/v1.0/pods/x"), ("PUT", "/v1.0/routings")]:
        response = await client.request(method, path, headers=ADMIN)
        fault(response, 405, "badMethod")
        assert response.headers["x-openstack-request-id"]


async def test_unknown_path_is_404_in_the_fault_shape(client: httpx.AsyncClient) -> None:
    for path in ("/v1.0/nothing", "/v2.0/pods", "/v1.0/pods/a/b"):
        message = fault(await client.get(path, headers=ADMIN), 404, "itemNotFound")
        assert message == "The resource could not be found."


async def test_openapi_documents_the_faults_not_422(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert "422" not in operation["responses"], (method, path)
            if path.startswith("/v1.0/") and path != "/v1.0/":
                assert {"400", "401", "403", "404"} <= set(operation["responses"]), (method, path)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    fault_400 = document["components"]["schemas"]["Fault400"]
    assert list(fault_400["properties"]) == ["badRequest"]
