"""Point a real Atoll at a stub cloud: write its atoll.conf, run `atoll-api` and `atoll-engine`,
register every stub pod through the admin API (`POST /v1.0/pods`, az1/az2 alternating).

    with StubProcess(["--pods", "10"]) as stubs, AtollOnStubs(workdir, stubs.info) as atoll:
        atoll.register_pods()
        atoll.wait_pods("up")
"""

from __future__ import annotations

import pathlib
import socket
import subprocess
import sys
import textwrap
import time
from types import TracebackType
from typing import Any

import httpx

BIN = pathlib.Path(sys.executable).parent


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def token(auth_url: str, creds: dict[str, str]) -> str:
    """A project-scoped token for `creds` (username, password, project_name in the Default domain)."""
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": creds["username"], "password": creds["password"], "domain": {"id": "default"}}
                },
            },
            "scope": {"project": {"name": creds["project_name"], "domain": {"id": "default"}}},
        }
    }
    response = httpx.post(auth_url.rstrip("/") + "/auth/tokens", json=body, timeout=30)
    response.raise_for_status()
    return response.headers["X-Subject-Token"]


def atoll_conf(
    info: dict[str, Any], *, port: int, state_dir: pathlib.Path, engine: dict[str, float] | None = None
) -> str:
    """An atoll.conf whose [keystone_authtoken] and [service_auth] use the stub Keystone's atoll user."""
    creds = info["credentials"]["atoll"]
    auth = textwrap.dedent(f"""\
        auth_type = password
        auth_url = {info["auth_url"]}
        username = {creds["username"]}
        password = {creds["password"]}
        project_name = {creds["project_name"]}
        user_domain_name = Default
        project_domain_name = Default
        """)
    intervals = {"health_interval": 2.0, "discovery_interval": 2.0, "probe_timeout": 2.0, **(engine or {})}
    return (
        textwrap.dedent(f"""\
            [DEFAULT]
            state_path = {state_dir}
            [api]
            host = 127.0.0.1
            port = {port}
            [database]
            connection = sqlite:///{state_dir}/atoll.sqlite
            [engine]
            """)
        + "".join(f"{name} = {value:g}\n" for name, value in intervals.items())
        + "[keystone_authtoken]\n"
        + auth
        + "[service_auth]\n"
        + auth
    )


class AtollOnStubs:
    """atoll-api and atoll-engine (from the venv of this Python) against a stub cloud."""

    def __init__(
        self,
        workdir: pathlib.Path,
        info: dict[str, Any],
        *,
        engine: dict[str, float] | None = None,
        bindir: pathlib.Path = BIN,
    ) -> None:
        self.workdir = workdir
        self.info = info
        self.bindir = bindir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        self.conf = workdir / "atoll.conf"
        self.conf.write_text(atoll_conf(info, port=self.port, state_dir=workdir / "state", engine=engine))
        self.logs = {name: workdir / f"{name}.log" for name in ("atoll-api", "atoll-engine")}
        self.procs: list[subprocess.Popen[bytes]] = []
        self._token = ""

    def admin_headers(self) -> dict[str, str]:
        if not self._token:
            self._token = token(self.info["auth_url"], self.info["credentials"]["admin"])
        return {"X-Auth-Token": self._token}

    def start(self) -> None:
        args = ["--config-file", str(self.conf)]
        subprocess.run([str(self.bindir / "atoll-manage"), *args, "db", "upgrade"], check=True, capture_output=True)
        for name, log in self.logs.items():
            self.procs.append(subprocess.Popen([str(self.bindir / name), *args, "--log-file", str(log)]))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/", timeout=2).status_code == 300:
                    return
            except httpx.HTTPError:
                pass
            if any(p.poll() is not None for p in self.procs):
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"atoll-api did not start; see {self.logs['atoll-api']}")

    def register_pods(self, az_names: tuple[str, ...] = ("az1", "az2")) -> list[dict[str, Any]]:
        """`POST /v1.0/pods` for the top region and every stub pod (az_name cycling through az_names)."""
        pods = [{"region_name": self.info["top_region"]}]
        pods += [
            {"region_name": name, "az_name": az_names[i % len(az_names)]}
            for i, name in enumerate(self.info["pod_regions"])
        ]
        created = []
        with httpx.Client(base_url=self.url, headers=self.admin_headers(), timeout=60) as http:
            for pod in pods:
                response = http.post("/v1.0/pods", json={"pod": pod})
                if response.status_code != 200:
                    raise RuntimeError(f"POST /v1.0/pods {pod}: {response.status_code} {response.text[:300]}")
                created.append(response.json()["pod"])
        return created

    def pods(self) -> list[dict[str, Any]]:
        response = httpx.get(self.url + "/v1.0/pods", headers=self.admin_headers(), timeout=30)
        response.raise_for_status()
        pods: list[dict[str, Any]] = response.json()["pods"]
        return pods

    def wait_pods(self, status: str, names: list[str] | None = None, seconds: float = 60) -> list[dict[str, Any]]:
        """Polls `GET /v1.0/pods` until every named pod (default: every stub pod) has `status`."""
        wanted = set(names if names is not None else self.info["pod_regions"])
        deadline = time.monotonic() + seconds
        while True:
            pods = self.pods()
            if all(p["status"] == status for p in pods if p["region_name"] in wanted) and wanted <= {
                p["region_name"] for p in pods
            }:
                return pods
            if time.monotonic() > deadline:
                seen = {p["region_name"]: (p["status"], p["status_reason"]) for p in pods}
                raise TimeoutError(f"pods not all {status} after {seconds:g}s: {seen}")
            time.sleep(0.2)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()

    def __enter__(self) -> AtollOnStubs:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
