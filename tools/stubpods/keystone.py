"""The stub Keystone: password tokens scoped to a project, token validation, version documents,
and a small control API (`/stubpods`) to fail or heal pods of a stub cloud run as a process."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import web

from stubpods import faults
from stubpods.config import Failure
from stubpods.identity import PROJECTS, USERS, Claims, token_body

if TYPE_CHECKING:
    from stubpods.cloud import StubCloud

CLOUD: web.AppKey[StubCloud] = web.AppKey("cloud")
MEDIA_TYPES = [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]


def _error(status: int, title: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": status, "message": message, "title": title}}, status=status)


def _version(cloud: StubCloud) -> dict[str, Any]:
    return {
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": cloud.auth_url + "/"}],
        "media-types": MEDIA_TYPES,
    }


async def root(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    response = web.json_response({"versions": {"values": [_version(cloud)]}}, status=300)
    response.headers["Location"] = cloud.auth_url + "/"
    return response


async def version(request: web.Request) -> web.Response:
    return web.json_response({"version": _version(request.app[CLOUD])})


def _scope(auth: dict[str, Any]) -> str | None:
    project = (auth.get("scope") or {}).get("project") or {}
    return project.get("name") or project.get("id")


async def issue(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    await _keystone_delay(cloud)
    try:
        auth = (await request.json())["auth"]
        password = auth["identity"]["password"]["user"]
    except (ValueError, KeyError, TypeError):
        return _error(400, "Bad Request", "Invalid input for field 'identity': 'password' is a required property")
    user = USERS.get(password.get("name", "")) or next((u for u in USERS.values() if u.id == password.get("id")), None)
    if user is None or password.get("password") != user.password:
        return _error(401, "Unauthorized", "The request you have made requires authentication.")
    wanted = _scope(auth)
    project = user.project if wanted is None else next((p for p in PROJECTS if wanted in (p.name, p.id)), None)
    if project != user.project:
        return _error(401, "Unauthorized", "The request you have made requires authentication.")
    token, claims = cloud.tokens.issue(user, project)
    response = _token_response(cloud, claims, status=201, catalog=True)
    response.headers["X-Subject-Token"] = token
    return response


def _token_response(cloud: StubCloud, claims: Claims, *, status: int, catalog: bool) -> web.Response:
    body = token_body(claims, cloud.catalog(claims.project.id) if catalog else [])
    if not catalog:
        del body["token"]["catalog"]  # type: ignore[attr-defined]
    return web.Response(status=status, body=json.dumps(body).encode(), content_type="application/json")


async def validate(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    await _keystone_delay(cloud)
    caller = cloud.tokens.validate(request.headers.get("X-Auth-Token", ""))
    if caller is None:
        return _error(401, "Unauthorized", "The request you have made requires authentication.")
    subject = cloud.tokens.validate(request.headers.get("X-Subject-Token", ""))
    if subject is None:
        return _error(404, "Not Found", "Could not find token.")
    if not (caller.is_admin or "service" in caller.user.roles or caller.user == subject.user):
        return _error(
            403, "Forbidden", "You are not authorized to perform the requested action: identity:validate_token."
        )
    response = _token_response(cloud, subject, status=200, catalog="nocatalog" not in request.query)
    if request.method == "HEAD":
        return web.Response(status=200, headers={"X-Subject-Token": request.headers["X-Subject-Token"]})
    response.headers["X-Subject-Token"] = request.headers["X-Subject-Token"]
    return response


async def not_found(request: web.Request) -> web.Response:
    return _error(404, "Not Found", "The resource could not be found.")


async def _keystone_delay(cloud: StubCloud) -> None:
    if cloud.config.keystone_latency_ms:
        await asyncio.sleep(cloud.config.keystone_latency_ms / 1000)


# -- control API ----------------------------------------------------------------------------
async def describe(request: web.Request) -> web.Response:
    return web.json_response(request.app[CLOUD].describe())


async def control_pod(request: web.Request) -> web.Response:
    """PUT /stubpods/pods/{name} {"failure": "down" | "hang" | "error:503" | null, "latency_ms": 20, "jitter_ms": 5}"""
    cloud = request.app[CLOUD]
    name = request.match_info["name"]
    if name not in cloud.pods:
        return _error(404, "Not Found", f"No pod {name}.")
    try:
        body = await request.json()
        if "failure" in body:
            failure = Failure.parse(body["failure"]) if body["failure"] else None
            await cloud.set_failure(name, failure)
        if "latency_ms" in body or "jitter_ms" in body:
            pod = cloud.pods[name].config
            cloud.set_latency(name, float(body.get("latency_ms", pod.latency_ms)), float(body.get("jitter_ms", 0)))
    except (ValueError, TypeError, AttributeError) as error:
        return _error(400, "Bad Request", str(error))
    return web.json_response(cloud.describe()["pods"][name])


@web.middleware
async def request_id(request: web.Request, handler: Any) -> web.StreamResponse:
    response: web.StreamResponse = await handler(request)
    response.headers["x-openstack-request-id"] = f"req-{uuid.uuid4()}"
    return response


def application(cloud: StubCloud) -> web.Application:
    app = web.Application(middlewares=[request_id])
    app[CLOUD] = cloud
    app.router.add_routes(
        [
            web.get("/", root),
            web.get("/v3", version),
            web.get("/v3/", version),
            web.post("/v3/auth/tokens", issue),
            web.get("/v3/auth/tokens", validate, allow_head=True),
            web.get("/stubpods", describe),
            web.put("/stubpods/pods/{name}", control_pod),
            web.route("*", "/{tail:.*}", not_found),
        ]
    )
    return app


__all__ = ["application", "faults"]
