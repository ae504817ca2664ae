"""Stub Placement: the version document and what a capacity weigher reads — resource providers,
their inventories and usages."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from stubpods import faults, microversions
from stubpods.microversions import VersionError
from stubpods.web import PUBLIC, REQUEST_ID, pod_of


def _answer(request: web.Request, status: int, body: Any) -> web.Response:
    try:
        version = microversions.negotiate(request, "placement", pod_of(request).config.placement_versions)
    except VersionError as error:
        return faults.placement(error.status, error.message, request[REQUEST_ID])
    response = faults.json_response(status, body)
    response.headers["OpenStack-API-Version"] = f"placement {microversions.text(version)}"
    response.headers["Vary"] = "openstack-api-version"
    return response


def _version(request: web.Request) -> tuple[int, int]:
    try:
        return microversions.negotiate(request, "placement", pod_of(request).config.placement_versions)
    except VersionError:
        return (1, 0)


async def root(request: web.Request) -> web.Response:
    versions = pod_of(request).config.placement_versions
    doc = {
        "id": "v1.0",
        "links": [{"href": "", "rel": "self"}],
        "max_version": versions.max,
        "min_version": versions.min,
        "status": "CURRENT",
    }
    return _answer(request, 200, {"versions": [doc]})


def _provider_view(request: web.Request, provider: dict[str, Any]) -> dict[str, Any]:
    base = f"/resource_providers/{provider['uuid']}"
    rels = ["inventories", "usages"]
    version = _version(request)
    if version >= (1, 1):
        rels.append("aggregates")
    if version >= (1, 6):
        rels.append("traits")
    if version >= (1, 11):
        rels.append("allocations")
    view: dict[str, Any] = {
        "generation": provider["generation"],
        "links": [{"href": base, "rel": "self"}] + [{"href": f"{base}/{rel}", "rel": rel} for rel in rels],
        "name": provider["name"],
        "uuid": provider["uuid"],
    }
    if version >= (1, 14):
        view["parent_provider_uuid"] = provider["parent_provider_uuid"]
        view["root_provider_uuid"] = provider["root_provider_uuid"]
    return dict(sorted(view.items()))


async def providers(request: web.Request) -> web.Response:
    found = sorted(pod_of(request).state.providers.values(), key=lambda p: p["name"])
    if "name" in request.query:
        found = [p for p in found if p["name"] == request.query["name"]]
    return _answer(request, 200, {"resource_providers": [_provider_view(request, p) for p in found]})


def _provider(request: web.Request) -> dict[str, Any] | web.Response:
    uuid = request.match_info["uuid"]
    provider = pod_of(request).state.providers.get(uuid)
    if provider is None:
        response = faults.placement(
            404, faults.NOT_FOUND, request[REQUEST_ID], detail=f"No resource provider with uuid {uuid} found"
        )
        response.headers["OpenStack-API-Version"] = f"placement {microversions.text(_version(request))}"
        return response
    return provider


async def provider(request: web.Request) -> web.Response:
    found = _provider(request)
    return found if isinstance(found, web.Response) else _answer(request, 200, _provider_view(request, found))


async def inventories(request: web.Request) -> web.Response:
    found = _provider(request)
    if isinstance(found, web.Response):
        return found
    body = {"inventories": found["inventories"], "resource_provider_generation": found["generation"]}
    return _answer(request, 200, body)


async def usages(request: web.Request) -> web.Response:
    found = _provider(request)
    if isinstance(found, web.Response):
        return found
    return _answer(request, 200, {"resource_provider_generation": found["generation"], "usages": found["usages"]})


def routes() -> list[web.RouteDef]:
    return [
        web.get("/placement", root, name=PUBLIC + "placement-root-bare"),
        web.get("/placement/", root, name=PUBLIC + "placement-root"),
        web.get("/placement/resource_providers", providers),
        web.get("/placement/resource_providers/{uuid}", provider),
        web.get("/placement/resource_providers/{uuid}/inventories", inventories),
        web.get("/placement/resource_providers/{uuid}/usages", usages),
    ]
