"""One ASGI app in front of several, chosen by path prefix (the gateway's services beside
the admin API). Lifespan events go to the default app, which owns the process's resources."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send


class PrefixDispatcher:
    def __init__(self, default: ASGIApp, mounts: Iterable[tuple[str, ASGIApp]]) -> None:
        self.default = default
        self.mounts = tuple((prefix.rstrip("/"), app) for prefix, app in mounts)

    def app_for(self, path: str) -> ASGIApp:
        for prefix, app in self.mounts:
            if path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/"):
                return app
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self.app_for(scope["path"]) if scope["type"] in ("http", "websocket") else self.default
        await app(scope, receive, send)
