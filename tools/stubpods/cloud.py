"""A running stub cloud: the stub Keystone on one port and every pod on a port of its own,
all in this process's event loop.

    async with StubCloud(CloudConfig.uniform(100, latency_ms=20, servers=20)) as cloud:
        cloud.auth_url                      # http://127.0.0.1:PORT/v3
        cloud.pods["Pod7"].endpoints()      # {"compute": "http://127.0.0.1:P/compute/v2.1", ...}
        await cloud.set_failure("Pod7", Failure(FailureMode.DOWN))
"""

from __future__ import annotations

import random
import shutil
import socket
import tempfile
from types import TracebackType
from typing import Any

from aiohttp import web

from stubpods import catalog, cinder, glance, keystone, neutron, nova, placement
from stubpods.config import CloudConfig, Failure, FailureMode
from stubpods.identity import USERS, TokenAuthority
from stubpods.pod import Pod
from stubpods.store import PodState, Seeder
from stubpods.web import DATA_DIR, PODS, TOKENS, gate, request_ids

SERVICES = (nova, cinder, glance, neutron, placement)


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(1024)
    sock.setblocking(False)
    return sock


class StubCloud:
    def __init__(self, config: CloudConfig, *, token_key: bytes | None = None) -> None:
        self.config = config
        self.tokens = TokenAuthority(token_key, config.token_ttl)
        self.pods: dict[str, Pod] = {}
        self.keystone_port = config.keystone_port
        self.top_endpoints: dict[str, str] = {}
        self._pod_runner: web.AppRunner | None = None
        self._keystone_runner: web.AppRunner | None = None
        self._data_dir = ""

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self._data_dir = tempfile.mkdtemp(prefix="stubpods-")
        rng = random.Random(self.config.seed)  # noqa: S311 - seeded jitter, reproducible on purpose; no secret
        seeder = Seeder(self.config.seed, len(self.config.pods))
        for index, pod_config in enumerate(self.config.pods, 1):
            state = PodState(pod_config.name, index, pod_config.az)
            seeder.fill(state, pod_config.servers, pod_config.volumes, pod_config.images, pod_config.networks)
            pod_rng = random.Random(rng.random())  # noqa: S311 - latency jitter, not a secret
            self.pods[pod_config.name] = Pod(pod_config, state, self.config.host, pod_rng)
        app = web.Application(middlewares=[gate], client_max_size=1024**3)
        app[PODS] = {}
        app[TOKENS] = self.tokens
        app[DATA_DIR] = self._data_dir
        app.on_response_prepare.append(request_ids)
        for service in SERVICES:
            app.router.add_routes(service.routes())
        self._pod_runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await self._pod_runner.setup()
        for pod in self.pods.values():
            await self._open(pod)
        self._keystone_runner = web.AppRunner(
            keystone.application(self), access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        await self._keystone_runner.setup()
        sock = _listen(self.config.host, self.keystone_port)
        self.keystone_port = sock.getsockname()[1]
        await web.SockSite(self._keystone_runner, sock).start()

    async def stop(self) -> None:
        for runner in (self._keystone_runner, self._pod_runner):
            if runner is not None:
                await runner.cleanup()
        self._keystone_runner = self._pod_runner = None
        if self._data_dir:
            shutil.rmtree(self._data_dir, ignore_errors=True)

    async def __aenter__(self) -> StubCloud:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def _open(self, pod: Pod) -> None:
        assert self._pod_runner is not None
        sock = _listen(self.config.host, pod.port)
        pod.port = sock.getsockname()[1]
        self._pod_runner.app[PODS][pod.port] = pod
        pod.site = web.SockSite(self._pod_runner, sock)
        if not pod.is_down:
            await pod.site.start()
        else:
            sock.close()
            pod.site = None

    async def _close(self, pod: Pod) -> None:
        assert self._pod_runner is not None
        if pod.site is not None:
            await pod.site.stop()
            pod.site = None
        server = self._pod_runner.server
        for handler in list(server.connections if server is not None else []):
            transport = handler.transport
            sockname = transport.get_extra_info("sockname") if transport is not None else None
            if transport is not None and sockname and sockname[1] == pod.port:
                transport.abort()

    # -- what tests and benches change --------------------------------------------------------
    async def set_failure(self, name: str, failure: Failure | None) -> None:
        """Fail a pod (DOWN closes its port, HANG never answers, ERROR answers 5xx) or, with None, heal it."""
        pod = self.pods[name]
        was_down = pod.is_down
        pod.set_failure(failure)
        down = failure is not None and failure.mode == FailureMode.DOWN
        if down and not was_down:
            await self._close(pod)
        elif was_down and not down:
            await self._open(pod)

    def set_latency(self, name: str, latency_ms: float, jitter_ms: float = 0.0) -> None:
        pod = self.pods[name]
        pod.config.latency_ms = latency_ms
        pod.config.jitter_ms = jitter_ms

    # -- what clients need --------------------------------------------------------------------
    @property
    def keystone_url(self) -> str:
        return f"http://{self.config.host}:{self.keystone_port}"

    @property
    def auth_url(self) -> str:
        return self.keystone_url + "/v3"

    def catalog(self, project_id: str) -> list[dict[str, Any]]:
        return catalog.build(self, project_id)

    def describe(self) -> dict[str, Any]:
        """What the CLI prints: URLs, regions, credentials (of the stub's fixed users)."""
        return {
            "auth_url": self.auth_url,
            "keystone_url": self.keystone_url,
            "top_region": self.config.top_region,
            "regions": [self.config.top_region, *self.pods],
            "pod_regions": list(self.pods),
            "pods": {
                name: {
                    "port": pod.port,
                    "endpoints": pod.endpoints(),
                    "failure": _failure_text(pod.failure),
                    "requests": pod.requests,
                }
                for name, pod in self.pods.items()
            },
            "credentials": {
                "admin": USERS["admin"].credentials(),
                "demo": USERS["demo"].credentials(),
                "alt": USERS["alt_demo"].credentials(),
                "atoll": USERS["atoll"].credentials(),
            },
            "control_url": self.keystone_url + "/stubpods",
        }


def _failure_text(failure: Failure | None) -> str | None:
    if failure is None:
        return None
    text = str(failure.mode)
    if failure.mode == FailureMode.ERROR:
        text += f":{failure.status}"
    if failure.services and failure.mode != FailureMode.DOWN:
        text += "@" + ",".join(sorted(failure.services))
    return text


__all__ = ["StubCloud"]
