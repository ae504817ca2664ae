"""Small builders shared by the API tests: they go through the API, as a client would."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.conftest import ADMIN

REQUEST_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


async def create_pod(client: httpx.AsyncClient, region: str, az: str = "az1", **extra: str) -> dict[str, Any]:
    response = await client.post(
        "/v1.0/pods", json={"pod": {"region_name": region, "az_name": az, **extra}}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    pod: dict[str, Any] = response.json()["pod"]
    return pod


async def create_binding(client: httpx.AsyncClient, tenant: str, pod_id: str) -> dict[str, Any]:
    body = {"pod_binding": {"tenant_id": tenant, "pod_id": pod_id}}
    response = await client.post("/v1.0/bindings", json=body, headers=ADMIN)
    assert response.status_code == 200, response.text
    binding: dict[str, Any] = response.json()["pod_binding"]
    return binding


async def create_routing(
    client: httpx.AsyncClient,
    pod_id: str,
    top_id: str,
    *,
    project: str = "project-a",
    resource_type: str = "server",
    bottom_id: str | None = None,
) -> dict[str, Any]:
    body = {
        "routing": {
            "top_id": top_id,
            "bottom_id": bottom_id if bottom_id is not None else f"bottom-{top_id}",
            "pod_id": pod_id,
            "project_id": project,
            "resource_type": resource_type,
        }
    }
    response = await client.post("/v1.0/routings", json=body, headers=ADMIN)
    assert response.status_code == 200, response.text
    routing: dict[str, Any] = response.json()["routing"]
    return routing


def fault(response: httpx.Response, status: int, name: str) -> str:
    """Check `response` is an OpenStack fault of `status`; return its message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == [name], body
    assert body[name]["code"] == status
    message = body[name]["message"]
    assert isinstance(message, str)
    assert message
    return message


async def snapshot(client: httpx.AsyncClient) -> dict[str, Any]:
    """Everything the admin API shows, to check a refused request changed nothing."""
    return {
        "pods": (await client.get("/v1.0/pods", headers=ADMIN)).json(),
        "bindings": (await client.get("/v1.0/bindings", headers=ADMIN)).json(),
        "routings": (await client.get("/v1.0/routings", headers=ADMIN)).json(),
    }


async def walk(client: httpx.AsyncClient, url: str, collection: str, key: str) -> tuple[list[Any], int]:
    """Follow `<collection>_links` from `url` to the end; return the `key` of every row seen and the pages."""
    seen: list[Any] = []
    pages = 0
    while True:
        response = await client.get(url, headers=ADMIN)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {collection, f"{collection}_links"}
        pages += 1
        seen += [row[key] for row in body[collection]]
        links = body[f"{collection}_links"]
        if not links:
            return seen, pages
        assert [link["rel"] for link in links] == ["next"]
        href = links[0]["href"]
        assert href.startswith("http://atoll.test" + url.split("?", maxsplit=1)[0] + "?")
        url = href.removeprefix("http://atoll.test")
        assert pages < 50, "pagination does not end"
