"""Keystone token authentication: X-Auth-Token in, a `RequestContext` out.

It fails closed. An HTTP request reaches the app only on a public path or with
a valid token; lifespan events pass; a websocket is closed before it is
accepted, so the server refuses its handshake (403) — Atoll serves none; any
other scope type raises, as the ASGI spec asks of a scope an app does not know.

What is public and what a refusal looks like belong to the API mounted
behind: the admin API passes its version documents and Nova-style faults;
each service of the gateway passes its own unauthenticated documents and
error body (Neutron's, Glance's ...). The token itself is never logged.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from atoll.context import RequestContext
from atoll.core.errors import AtollError, Unauthorized, fault_body
from atoll.openstack.keystone import AUTH_REQUIRED, TokenValidator
from atoll.types import ProjectId, UserId

IsPublic = Callable[[Scope], bool]
"""Whether an HTTP request may go through without a token."""

RenderFault = Callable[[Scope, AtollError], Response]
"""The response refusing an HTTP request, in the error body of the API behind."""

POLICY_VIOLATION = 1008
"""WebSocket close code sent to a refused websocket (RFC 6455, 7.4.1)."""


def public_paths(*paths: str) -> IsPublic:
    """Requests for exactly these paths, whatever their method, need no token."""
    known = frozenset(paths)

    def is_public(scope: Scope) -> bool:
        return scope["path"] in known

    return is_public


def openstack_fault(_scope: Scope, error: AtollError) -> Response:
    """Nova's fault body, which Atoll's own API uses: ``{"unauthorized": {"code": 401, "message": ...}}``."""
    return JSONResponse(fault_body(error.status, error.message), status_code=error.status)


class AuthMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        validator: TokenValidator,
        *,
        is_public: IsPublic,
        render_fault: RenderFault = openstack_fault,
        www_authenticate_uri: str | None = None,
    ) -> None:
        self.app = app
        self.validator = validator
        self.is_public = is_public
        self.render_fault = render_fault
        self.www_authenticate = f'Keystone uri="{www_authenticate_uri}"' if www_authenticate_uri else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan" or (kind == "http" and self.is_public(scope)):
            await self.app(scope, receive, send)
        elif kind == "http":
            await self._authenticated(scope, receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": POLICY_VIOLATION, "reason": ""})
        else:
            raise RuntimeError(f"Atoll does not serve ASGI scopes of type {kind!r}.")

    async def _authenticated(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            info = await self.validator.validate(_token(scope))
        except AtollError as error:
            await self._reject(scope, receive, send, error)
            return
        state = scope["state"]
        state["context"] = RequestContext(
            request_id=state["request_id"],
            global_request_id=state.get("global_request_id"),
            user_id=UserId(info.user_id),
            project_id=ProjectId(info.project_id) if info.project_id else None,
            domain_id=info.domain_id,
            roles=info.roles,
            system_scope=info.system_scope,
            project_domain_id=info.project_domain_id,
        )
        await self.app(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, error: AtollError) -> None:
        response = self.render_fault(scope, error)
        if error.status == 401 and self.www_authenticate:
            response.headers["www-authenticate"] = self.www_authenticate
        await response(scope, receive, send)


def _token(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-auth-token" and value.strip():
            return str(value.decode("latin-1")).strip()
    raise Unauthorized(AUTH_REQUIRED)
