"""atoll-api's lifespan: the in-process engine survives coordination errors; every resource is closed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pathlib
import textwrap
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message

from atoll import runtime
from atoll.api.app import create_app
from atoll.conf import new_config
from atoll.db import migration
from atoll.gateway.build import build_gateway
from atoll.openstack.http import http_client, probe_client


@contextlib.asynccontextmanager
async def lifespan(app: ASGIApp) -> AsyncIterator[None]:
    """Drive an ASGI app's lifespan as a server does: startup, then shutdown."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()

    async def run() -> None:
        await app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, outbox.put)

    task = asyncio.create_task(run())
    await inbox.put({"type": "lifespan.startup"})
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await outbox.get())["type"] == "lifespan.shutdown.complete"
        await task


async def test_the_in_process_engine_keeps_running_and_everything_closes(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    config = tmp_path / "atoll.conf"
    config.write_text(
        textwrap.dedent(f"""\
            [api]
            run_engine = true
            [database]
            connection = sqlite:///{tmp_path}/atoll.sqlite
            [engine]
            coordination_url = file://{blocker}/locks
            leader_check_interval = 0.1
            [keystone_authtoken]
            auth_type = password
            auth_url = http://127.0.0.1:9/v3
            username = atoll
            password = secret
            project_name = service
            user_domain_name = Default
            project_domain_name = Default
            """)
    )
    # The job worker polls the jobs table (sync's job types are runnable): the database is migrated.
    await asyncio.to_thread(migration.upgrade, f"sqlite:///{tmp_path}/atoll.sqlite")
    clients: list[httpx.AsyncClient] = []
    disposed: list[str] = []

    def client(timeout: float) -> httpx.AsyncClient:
        clients.append(http_client(timeout))
        return clients[-1]

    def probes(timeout: float, connections: int) -> httpx.AsyncClient:
        clients.append(probe_client(timeout, connections))
        return clients[-1]

    dispose = AsyncEngine.dispose

    async def recorded(engine: AsyncEngine, close: bool = True) -> None:
        disposed.append(str(engine.url))
        await dispose(engine, close)

    monkeypatch.setattr(runtime, "http_client", client)
    monkeypatch.setattr(runtime, "probe_client", probes)
    monkeypatch.setattr(AsyncEngine, "dispose", recorded)

    app = runtime.build_api(new_config(["--config-file", str(config)]))
    async with lifespan(app):
        for _ in range(500):
            if sum("Coordination failed" in m for m in caplog.messages) >= 2:
                break
            await asyncio.sleep(0.01)
        # Seen while the API runs, not at shutdown; the engine goes on retrying.
        assert sum("Coordination failed" in m for m in caplog.messages) >= 2
        assert [c.is_closed for c in clients] == [False, False]  # token validation's, the probe's
    assert [c.is_closed for c in clients] == [True, True]
    assert disposed == [f"sqlite+aiosqlite:///{tmp_path}/atoll.sqlite"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_the_gateway_and_the_admin_api_share_one_reloaded_policy(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The admin API reloads its policy files while it runs; the gateway must use that same one."""
    config = tmp_path / "atoll.conf"
    config.write_text(
        textwrap.dedent(f"""\
            [database]
            connection = sqlite:///{tmp_path}/atoll.sqlite
            [keystone_authtoken]
            auth_type = password
            auth_url = http://127.0.0.1:9/v3
            username = atoll
            password = secret
            project_name = service
            user_domain_name = Default
            project_domain_name = Default
            """)
    )
    given: dict[str, object] = {}

    def spy(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            given[name] = kwargs.get("authorizer")
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(runtime, "build_gateway", spy("gateway", build_gateway))
    monkeypatch.setattr(runtime, "create_app", spy("admin", create_app))
    app = runtime.build_api(new_config(["--config-file", str(config)]))
    async with lifespan(app):
        assert given["gateway"] is not None
        assert given["gateway"] is given["admin"]
