"""The gateway's request and reply: thin views over the ASGI scope, no framework.

A handler takes a `GatewayRequest` and returns a `Reply`; it raises `AtollError`s,
which the app renders in the service's own error body.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import Receive, Scope

from atoll.context import RequestContext
from atoll.core import jsonfast
from atoll.core.errors import BadRequest, Unauthorized
from atoll.gateway.services import Service
from atoll.openstack.keystone import AUTH_REQUIRED
from atoll.pods.microversions import APIVersion
from atoll.types import RequestId

Headers = list[tuple[bytes, bytes]]

MAX_JSON_BODY = 16 * 1024 * 1024
"""A JSON request body larger than this is refused (413) before it is parsed."""


class PayloadTooLarge(BadRequest):
    status = 413
    fault = "overLimit"


@dataclasses.dataclass
class GatewayRequest:
    scope: Scope
    receive: Receive
    service: Service
    path: str
    """The path below the service's version, without a project id: "/servers/abc"."""
    base_url: str
    """Atoll's public URL, e.g. "http://atoll.example:19999"."""
    params: Mapping[str, str] = dataclasses.field(default_factory=dict)
    microversion: APIVersion | None = None
    _body: bytes | None = None
    _headers: dict[str, str] | None = dataclasses.field(default=None, repr=False)

    @property
    def public_root(self) -> str:
        """Atoll's URL of this service, e.g. "http://atoll.example:19999/compute"."""
        return self.base_url + self.service.prefix

    @property
    def method(self) -> str:
        return str(self.scope["method"])

    @property
    def query(self) -> list[tuple[str, str]]:
        raw: bytes = self.scope.get("query_string", b"")
        return parse_qsl(raw.decode("latin-1"), keep_blank_values=True)

    @property
    def query_string(self) -> str:
        raw: bytes = self.scope.get("query_string", b"")
        return raw.decode("latin-1")

    def header(self, name: str) -> str | None:
        """The first value of a header the caller sent (ASGI names are lower case); read once per request,
        since a call fanned out to N pods asks for the token and the forwarded headers N times."""
        headers = self._headers
        if headers is None:
            headers = self._headers = {}
            for key, value in self.scope.get("headers", []):
                headers.setdefault(key.decode("latin-1"), value.decode("latin-1"))
        return headers.get(name.lower())

    @property
    def context(self) -> RequestContext:
        context: RequestContext = self.scope["state"]["context"]
        return context

    @property
    def token(self) -> str:
        token = (self.header("x-auth-token") or "").strip()
        if not token:
            raise Unauthorized(AUTH_REQUIRED)
        return token

    @property
    def request_id(self) -> RequestId:
        """The id a pod logs this call under: the caller's global request id if it sent one, else Atoll's."""
        state = self.scope["state"]
        global_id: RequestId | None = state.get("global_request_id")
        return global_id or state["request_id"]

    async def body(self) -> bytes:
        if self._body is None:
            chunks: list[bytes] = []
            size = 0
            more = True
            while more:
                message = await self.receive()
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > MAX_JSON_BODY:
                    raise PayloadTooLarge(f"The request body is larger than {MAX_JSON_BODY} bytes.")
                chunks.append(chunk)
                more = message.get("more_body", False)
            self._body = b"".join(chunks)
        return self._body

    async def json(self) -> Any:
        """The body as JSON; a malformed body is a 400 naming the problem."""
        raw = await self.body()
        if not raw:
            raise BadRequest("The request body is empty; a JSON document is required.")
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as error:
            raise BadRequest(f"Malformed request body: {error}.") from error

    async def stream(self) -> AsyncIterator[bytes]:
        """The body chunk by chunk, for large uploads (image data)."""
        more = True
        while more:
            message = await self.receive()
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            more = message.get("more_body", False)


@dataclasses.dataclass
class Reply:
    status: int
    headers: Headers = dataclasses.field(default_factory=list)
    body: bytes | AsyncIterator[bytes] = b""


def json_reply(status: int, document: Any, headers: Headers | None = None) -> Reply:
    body = jsonfast.dumps(document)
    return Reply(status, [(b"content-type", b"application/json"), *(headers or [])], body)
