"""What every Nova handler shares: microversion negotiation, the fault body, links, pagination."""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

from stubpods import faults, microversions, paging
from stubpods.microversions import Version, VersionError
from stubpods.web import pod_of, root_url

LEGACY = "X-OpenStack-Nova-API-Version"
MAX_LIMIT = 1000
VERSION = "stubpods.compute_version"


class NovaError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


NovaHandler = Callable[[web.Request, Version], Awaitable[web.StreamResponse]]


def handler(fn: NovaHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Negotiates the microversion, turns NovaError into Nova's fault body, stamps the version headers."""

    @functools.wraps(fn)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        asked = microversions.requested(request, "compute", LEGACY)
        try:
            version = microversions.negotiate(request, "compute", pod_of(request).config.compute_versions, LEGACY)
        except VersionError as error:
            response = faults.nova(error.status, error.message)
            response.headers["OpenStack-API-Version"] = f"compute {asked}"
            response.headers[LEGACY] = str(asked)
            response.headers["Vary"] = f"OpenStack-API-Version, {LEGACY}"
            return response
        try:
            result = await fn(request, version)
        except NovaError as error:
            result = faults.nova(error.status, error.message)
        microversions.stamp(result, "compute", version, LEGACY)
        return result

    return wrapped


def ok(body: object, status: int = 200) -> web.Response:
    return faults.json_response(status, body)


def empty(status: int) -> web.Response:
    response = web.Response(status=status)
    response.headers["Content-Type"] = "application/json"
    return response


def links(request: web.Request, collection: str, item_id: str) -> list[dict[str, str]]:
    root = root_url(request)
    return [
        {"href": f"{root}/v2.1/{collection}/{item_id}", "rel": "self"},
        {"href": f"{root}/{collection}/{item_id}", "rel": "bookmark"},
    ]


def bookmark(request: web.Request, collection: str, item_id: str) -> list[dict[str, str]]:
    return [{"href": f"{root_url(request)}/{collection}/{item_id}", "rel": "bookmark"}]


def limit_of(request: web.Request) -> int:
    raw = request.query.get("limit")
    if raw is None:
        return MAX_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise NovaError(400, "limit param must be an integer") from None
    if value < 0:
        raise NovaError(400, "limit param must be positive")
    return min(value, MAX_LIMIT)


def next_links(
    request: web.Request, collection: str, key: str, items: Sequence[dict[str, Any]], limit: int
) -> dict[str, Any]:
    """`<collection>_links` with a `next` href when the page is full (Nova's rule), params sorted by name."""
    if not items or len(items) != limit:
        return {}
    params = [(k, v) for k, v in request.query.items() if k != "marker"] + [("marker", items[-1]["id"])]
    query = urllib.parse.urlencode(sorted(params, key=lambda kv: kv[0]))
    href = f"{root_url(request)}/v2.1/{collection}?{query}"
    return {f"{key}_links": [{"href": href, "rel": "next"}]}


def page(
    request: web.Request,
    visible: list[dict[str, Any]],
    keys: list[paging.SortKey],
    limit: int,
    find_marker: Callable[[str], dict[str, Any] | None],
) -> list[dict[str, Any]]:
    marker_id = request.query.get("marker")
    marker = None
    if marker_id is not None:
        marker = find_marker(marker_id)
        if marker is None:
            raise NovaError(400, f"marker [{marker_id}] not found")
    return [dict(item) for item in paging.page(visible, keys, limit=limit, marker=marker)]
