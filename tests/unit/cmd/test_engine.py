from __future__ import annotations

import asyncio
import json
import logging
import pathlib
import subprocess
import sys
import textwrap

import httpx
import pytest
from oslo_config import cfg
from sqlalchemy.ext.asyncio import AsyncEngine

from atoll.cmd import engine as engine_cmd
from atoll.conf import new_config
from atoll.db import migration
from atoll.openstack.http import probe_client

WEB_STACK = ("fastapi", "starlette", "uvicorn")


def _loaded_after_import(module: str) -> list[str]:
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {WEB_STACK!r})))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def test_the_engine_does_not_load_the_web_stack() -> None:
    assert _loaded_after_import("atoll.cmd.engine") == []


def test_the_check_sees_the_web_stack_where_it_is() -> None:
    # The same check on the API's entry point finds the web stack: it can fail. (atoll.cmd.api
    # loads Starlette's types and uvicorn; FastAPI comes with the app it builds.)
    assert {"starlette", "uvicorn"} <= set(_loaded_after_import("atoll.cmd.api"))


def _conf(tmp_path: pathlib.Path, coordination_url: str) -> cfg.ConfigOpts:
    config = tmp_path / "atoll.conf"
    config.write_text(
        textwrap.dedent(f"""\
            [database]
            connection = sqlite:///{tmp_path}/atoll.sqlite
            [engine]
            coordination_url = {coordination_url}
            leader_check_interval = 0.1
            """)
    )
    return new_config(["--config-file", str(config)])


class Closed:
    """Records what the engine closed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.clients: list[httpx.AsyncClient] = []
        self.disposed: list[str] = []

        def client(timeout: float, connections: int) -> httpx.AsyncClient:
            self.clients.append(probe_client(timeout, connections))
            return self.clients[-1]

        dispose = AsyncEngine.dispose

        async def recorded(engine: AsyncEngine, close: bool = True) -> None:
            self.disposed.append(str(engine.url))
            await dispose(engine, close)

        monkeypatch.setattr(engine_cmd, "probe_client", client)
        monkeypatch.setattr(AsyncEngine, "dispose", recorded)


async def test_a_coordination_failure_neither_stops_the_engine_nor_leaks(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await asyncio.to_thread(migration.upgrade, f"sqlite:///{tmp_path}/atoll.sqlite")  # the job worker polls jobs
    closed = Closed(monkeypatch)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")  # the file backend cannot make its lock directory here
    stop = asyncio.Event()
    running = asyncio.create_task(engine_cmd.run(_conf(tmp_path, f"file://{blocker}/locks"), stop))
    for _ in range(500):
        if sum("Coordination failed" in m for m in caplog.messages) >= 3:
            break
        await asyncio.sleep(0.01)
    assert not running.done()  # still running, retrying
    failures = [m for m in caplog.messages if "Coordination failed" in m]
    assert len(failures) >= 3
    stop.set()
    await asyncio.wait_for(running, 30)
    assert [c.is_closed for c in closed.clients] == [True]
    assert len(closed.disposed) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
