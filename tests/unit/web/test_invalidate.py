from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atoll.web.invalidate import InvalidateOnWrite


def _app(status: int) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app


async def _call(app: InvalidateOnWrite, method: str, path: str) -> None:
    async def receive() -> Message:
        return {"type": "http.request"}

    async def send(_message: Message) -> None:
        return None

    await app({"type": "http", "method": method, "path": path}, receive, send)


async def test_only_successful_writes_under_the_prefix_invalidate() -> None:
    calls: list[str] = []
    ok = InvalidateOnWrite(_app(200), "/v1.0/pods", lambda: calls.append("x"))
    refused = InvalidateOnWrite(_app(409), "/v1.0/pods", lambda: calls.append("y"))
    await _call(ok, "GET", "/v1.0/pods")
    await _call(ok, "POST", "/v1.0/bindings")
    await _call(refused, "DELETE", "/v1.0/pods/p1")
    assert calls == []
    await _call(ok, "POST", "/v1.0/pods")
    await _call(ok, "PUT", "/v1.0/pods/p1")
    assert calls == ["x", "x"]
