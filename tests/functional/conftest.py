"""Fixtures of the functional tests: a real atoll-api and atoll-engine against a real Keystone."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from keystoneauth1 import session
from keystoneauth1.identity import v3

BIN = pathlib.Path(sys.executable).parent


def keystone_token(auth_url: str, creds: dict[str, Any]) -> str:
    """A project-scoped token for `creds` (username, password, project_name in the Default domain)."""
    auth = v3.Password(
        auth_url=auth_url,
        username=creds["username"],
        password=creds["password"],
        project_name=creds["project_name"],
        user_domain_id="default",
        project_domain_id="default",
    )
    sess = session.Session(auth=auth)
    try:
        return str(sess.get_token())
    finally:
        sess.close()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AtollProcesses:
    def __init__(
        self,
        workdir: pathlib.Path,
        auth_url: str,
        service: dict[str, Any],
        *,
        token_cache_time: int = 1,
        debug: bool = True,
    ) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.conf = workdir / "atoll.conf"
        self.api_log = workdir / "atoll-api.log"
        self.engine_log = workdir / "atoll-engine.log"
        auth = textwrap.dedent(f"""\
            auth_type = password
            auth_url = {auth_url}
            username = {service["username"]}
            password = {service["password"]}
            project_name = {service["project_name"]}
            user_domain_name = Default
            project_domain_name = Default
            """)
        self.conf.write_text(
            textwrap.dedent(f"""\
                [DEFAULT]
                state_path = {workdir}/state
                debug = {str(debug).lower()}
                [api]
                host = 127.0.0.1
                port = {self.port}
                [database]
                connection = sqlite:///{workdir}/state/atoll.sqlite
                [engine]
                health_interval = 1
                discovery_interval = 1
                probe_timeout = 2
                [keystone_authtoken]
                token_cache_time = {token_cache_time}
                """)
            + auth
            + "[service_auth]\n"
            + auth
        )
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        args = ["--config-file", str(self.conf)]
        subprocess.run([str(BIN / "atoll-manage"), *args, "db", "upgrade"], check=True, capture_output=True)
        self.procs.append(subprocess.Popen([str(BIN / "atoll-api"), *args, "--log-file", str(self.api_log)]))
        self.procs.append(subprocess.Popen([str(BIN / "atoll-engine"), *args, "--log-file", str(self.engine_log)]))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/", timeout=2).status_code == 300:
                    return
            except httpx.HTTPError:
                pass
            if any(p.poll() is not None for p in self.procs):
                break
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"atoll-api did not start; see {self.api_log}")

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()


@pytest.fixture(scope="session")
def atoll(keystone: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AtollProcesses]:
    """atoll-api and atoll-engine as separate processes on SQLite, validating tokens with the real Keystone."""
    procs = AtollProcesses(tmp_path_factory.mktemp("atoll"), keystone.auth_url, keystone.info["credentials"]["atoll"])
    procs.start()
    yield procs
    procs.stop()


@pytest.fixture(scope="session")
def tokens(keystone: Any) -> dict[str, str]:
    creds = keystone.info["credentials"]
    return {who: keystone_token(keystone.auth_url, creds[who]) for who in ("admin", "demo", "alt")}
