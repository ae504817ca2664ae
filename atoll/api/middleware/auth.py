"""Keystone token authentication: X-Auth-Token in, a `RequestContext` out.

Version documents and the OpenAPI schema are public; everything else needs a
valid token. The token itself is never logged.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from atoll.context import RequestContext
from atoll.core.errors import AtollError, Unauthorized, fault_body
from atoll.openstack.keystone import AUTH_REQUIRED, TokenValidator
from atoll.types import ProjectId, UserId

PUBLIC_PATHS = frozenset({"/", "/v1.0", "/v1.0/", "/openapi.json", "/docs", "/redoc"})


class AuthMiddleware:
    def __init__(self, app: ASGIApp, validator: TokenValidator, www_authenticate_uri: str | None) -> None:
        self.app = app
        self.validator = validator
        self.www_authenticate = f'Keystone uri="{www_authenticate_uri}"' if www_authenticate_uri else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        try:
            token = self._token(scope)
            info = await self.validator.validate(token)
        except AtollError as error:
            await self._reject(send, error)
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
        )
        await self.app(scope, receive, send)

    @staticmethod
    def _token(scope: Scope) -> str:
        for name, value in scope.get("headers", []):
            if name == b"x-auth-token" and value.strip():
                return str(value.decode("latin-1")).strip()
        raise Unauthorized(AUTH_REQUIRED)

    async def _reject(self, send: Send, error: AtollError) -> None:
        body = json.dumps(fault_body(error.status, error.message)).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if error.status == 401 and self.www_authenticate:
            headers.append((b"www-authenticate", self.www_authenticate.encode()))
        await send({"type": "http.response.start", "status": error.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
