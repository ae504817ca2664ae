"""A fake pod on loopback (aiohttp's TestServer): records what it was sent, answers what it is told."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class FakePod:
    def __init__(self) -> None:
        self.app = web.Application(client_max_size=1024**3)
        self.seen: list[dict[str, Any]] = []
        self.server: TestServer | None = None
        self.hanging: set[str] = set()
        """Paths the pod stops answering (it holds the request open)."""
        self.failing: Callable[[web.Request], int | None] = lambda _request: None
        """The status of a fault to answer a request with instead of its answer (None: answer it)."""
        self.garbled: set[str] = set()
        """Paths the pod answers 200 with a body that is not JSON (as a proxy's error page in front of it)."""

    def route(self, method: str, path: str, handler: Handler) -> None:
        async def recording(request: web.Request) -> web.StreamResponse:
            self.seen.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "query": request.query_string,
                    "headers": request.headers,
                }
            )
            if request.path in self.hanging:
                return await hang(request)
            if request.path in self.garbled:
                return web.Response(status=200, body=b"<html>Bad gateway</html>", content_type="application/json")
            status = self.failing(request)
            if status is not None:
                return web.json_response({"error": {"code": status, "message": "told to fail"}}, status=status)
            return await handler(request)

        self.app.router.add_route(method, path, recording)

    def json(self, method: str, path: str, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        async def answer(_request: web.Request) -> web.StreamResponse:
            return web.json_response(body, status=status, headers=headers)

        self.route(method, path, answer)

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")


@contextlib.asynccontextmanager
async def serve(pod: FakePod) -> AsyncIterator[FakePod]:
    pod.server = TestServer(pod.app, host="127.0.0.1")
    await pod.server.start_server()
    try:
        yield pod
    finally:
        await pod.server.close()


async def hang(_request: web.Request) -> web.StreamResponse:
    await asyncio.sleep(3600)
    return web.Response()
