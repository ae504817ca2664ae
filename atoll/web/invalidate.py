"""Tells in-memory caches that a write went through: after a successful POST, PUT, PATCH or
DELETE under a path prefix (the admin API's /v1.0/pods), a callback runs (the gateway's
pod registry's `invalidate`), so this process serves the change at once; other processes
see it within their refresh interval."""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class InvalidateOnWrite:
    def __init__(self, app: ASGIApp, prefix: str, callback: Callable[[], None]) -> None:
        self.app = app
        self.prefix = prefix
        self.callback = callback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if 200 <= status < 300:
                self.callback()
