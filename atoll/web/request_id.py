"""`x-openstack-request-id` on every response, and a fault body for any crash.

An incoming `X-OpenStack-Request-ID` of the form `req-<uuid>` is kept as the
global request id (forwarded to pods later); Atoll always makes its own local id.
This middleware is the outermost one, so it also turns an unexpected exception
into an OpenStack 500 body that still carries the request id.
"""

from __future__ import annotations

import json
import logging
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atoll.context import new_request_id
from atoll.core.errors import fault_body
from atoll.types import RequestId

LOG = logging.getLogger(__name__)

HEADER = b"x-openstack-request-id"
_VALID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def global_request_id(scope: Scope) -> RequestId | None:
    for name, value in scope.get("headers", []):
        if name == HEADER:
            text = value.decode("latin-1")
            return RequestId(text) if _VALID.fullmatch(text) else None
    return None


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["global_request_id"] = global_request_id(scope)
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                message["headers"] = [*headers, (HEADER, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            LOG.exception("Unexpected error in %s %s [%s]", scope.get("method"), scope.get("path"), request_id)
            if started:
                raise
            body = json.dumps(fault_body(500, "An unexpected error occurred; see the logs of request " + request_id))
            await send_with_id(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body.encode()})
