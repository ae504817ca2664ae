"""The gateway's ASGI application, built by composition.

RequestIdMiddleware     x-openstack-request-id on every response
  AuthMiddleware        X-Auth-Token -> RequestContext; 401 in the service's own body;
                        version documents are public
    GatewayApp          service by path prefix -> version documents, or that service's
                        Router -> a handler -> Reply; errors in the service's own body
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping

from oslo_config import cfg
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from atoll.core.errors import AtollError, NotFound
from atoll.gateway import microversion, versions
from atoll.gateway.faults import fault_body
from atoll.gateway.http import GatewayRequest, Reply, json_reply
from atoll.gateway.router import Router
from atoll.gateway.services import COMPUTE, SERVICES, Service, service_for
from atoll.openstack.keystone import TokenValidator
from atoll.pods.microversions import VersionRange
from atoll.pods.registry import PodRegistry, PodSnapshot
from atoll.web.auth import AuthMiddleware, public_paths
from atoll.web.request_id import RequestIdMiddleware

LOG = logging.getLogger(__name__)

PUBLIC_PATHS = frozenset().union(*(versions.public_paths(s) for s in SERVICES))


def base_url(scope: Scope, public_url: str | None) -> str:
    """Atoll's URL as clients reach it: `[api] public_url`, else the request's scheme and Host."""
    if public_url:
        return public_url.rstrip("/")
    host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), None)
    if host is None:
        server = scope.get("server") or ("localhost", 80)
        host = f"{server[0]}:{server[1]}"
    root_path = str(scope.get("root_path", "")).rstrip("/")
    return f"{scope.get('scheme', 'http')}://{host}{root_path}"


def render_fault(scope: Scope, error: AtollError) -> Response:
    """An Atoll error (the auth middleware's 401) in the error body of the service the request was for."""
    service = service_for(scope.get("path", "")) or COMPUTE
    body = fault_body(service.faults, error.status, error.message)
    return Response(body, status_code=error.status, media_type="application/json")


class GatewayApp:
    def __init__(self, conf: cfg.ConfigOpts, registry: PodRegistry, routers: Mapping[str, Router]) -> None:
        self.conf = conf
        self.registry = registry
        self.routers = routers
        # service -> (the snapshot it was computed from, the range): the pods change far
        # more rarely than they are asked, and a new snapshot is a new object.
        self._offered: dict[str, tuple[PodSnapshot, VersionRange]] = {}

    async def offered(self, service: Service) -> VersionRange | None:
        if service.microversion is None:
            return None
        snapshot = await self.registry.snapshot()
        cached = self._offered.get(service.name)
        if cached is not None and cached[0] is snapshot:
            return cached[1]
        offered = microversion.advertised(service, snapshot.pods)
        self._offered[service.name] = (snapshot, offered)
        return offered

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        service = service_for(scope["path"])
        assert service is not None, "the dispatcher sends only gateway paths here"
        request = GatewayRequest(scope, receive, service, "", base_url(scope, self.conf.api.public_url))
        try:
            reply = await self.handle(request)
        except AtollError as error:
            reply = self.fault(service, error.status, error.message)
            if error.status == 503:
                reply.headers.append((b"retry-after", b"5"))
        except Exception:
            LOG.exception("Unexpected error in %s %s", scope["method"], scope["path"])
            reply = self.fault(
                service, 500, "An unexpected error occurred; see the logs of request " + scope["state"]["request_id"]
            )
        await self.send(scope, send, service, request, reply)

    def fault(self, service: Service, status: int, message: str) -> Reply:
        return Reply(status, [(b"content-type", b"application/json")], fault_body(service.faults, status, message))

    async def handle(self, request: GatewayRequest) -> Reply:
        service = request.service
        sub = request.scope["path"][len(service.prefix) :]
        if sub in ("", "/"):
            return versions.root_document(service, request.public_root, await self.offered(service))
        if service is COMPUTE and sub in ("/v2", "/v2/"):
            return json_reply(200, {"version": versions.compute_legacy_version(request.public_root)})
        if request.scope["path"] in PUBLIC_PATHS:
            return versions.version_document(service, request.public_root, await self.offered(service))
        if not (sub == service.version or sub.startswith(service.version + "/")):
            raise NotFound("The resource could not be found.")
        request.path = self._strip_project(request, sub[len(service.version) :])
        if service.microversion is not None:
            offered = await self.offered(service)
            assert offered is not None
            asked = microversion.requested(service, request.scope.get("headers", []))
            request.microversion = microversion.negotiate(service, asked, offered)
        handler, params = self.routers[service.name].match(request.method, request.path or "/")
        request.params = params
        return await handler(request)

    @staticmethod
    def _strip_project(request: GatewayRequest, path: str) -> str:
        """`/{project_id}/volumes` -> `/volumes`, for the caller's own project (Nova, Cinder)."""
        project = request.context.project_id
        if request.service.project_in_path and project and path.startswith(f"/{project}"):
            rest = path[len(project) + 1 :]
            if rest == "" or rest.startswith("/"):
                return rest
        return path

    async def send(self, scope: Scope, send: Send, service: Service, request: GatewayRequest, reply: Reply) -> None:
        headers = list(reply.headers)
        if service is COMPUTE:
            headers.append((b"x-compute-request-id", scope["state"]["request_id"].encode()))
        names = {name for name, _ in headers}
        if request.microversion is not None and b"openstack-api-version" not in names:
            headers += microversion.echo_headers(service, request.microversion)
        if isinstance(reply.body, bytes):
            headers.append((b"content-length", str(len(reply.body)).encode()))
            await send({"type": "http.response.start", "status": reply.status, "headers": headers})
            await send({"type": "http.response.body", "body": reply.body})
            return
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await _send_stream(send, reply.body)


async def _send_stream(send: Send, chunks: AsyncIterator[bytes]) -> None:
    try:
        async for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:  # the client went away: let the pod's stream go at once
            await close()


def create_gateway(
    conf: cfg.ConfigOpts, *, registry: PodRegistry, routers: Mapping[str, Router], validator: TokenValidator
) -> ASGIApp:
    app: ASGIApp = GatewayApp(conf, registry, routers)
    app = AuthMiddleware(
        app,
        validator=validator,
        www_authenticate_uri=conf.keystone_authtoken.www_authenticate_uri,
        is_public=public_paths(*PUBLIC_PATHS),
        render_fault=render_fault,
    )
    return RequestIdMiddleware(app)
