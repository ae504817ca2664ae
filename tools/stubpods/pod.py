"""One stub pod at run time: its configuration, data, port, latency and failure."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import cachetools
from aiohttp import web

from stubpods.config import Failure, FailureMode, PodConfig
from stubpods.store import PodState

SERVICE_PATHS = {
    "compute": "/compute/v2.1",
    "volumev3": "/volume/v3/%(project_id)s",
    "block-storage": "/volume/v3/%(project_id)s",
    "image": "/image",
    "network": "/networking",
    "placement": "/placement",
}
"""Catalog service type -> path under the pod's port (the test bed's catalog shape, DevStack's paths)."""


class Pod:
    def __init__(self, config: PodConfig, state: PodState, host: str, rng: random.Random) -> None:
        self.config = config
        self.name = config.name
        self.state = state
        self.host = host
        self.port = config.port
        self.site: web.BaseSite | None = None
        self.failure: Failure | None = config.failure
        self._recovered = asyncio.Event()
        self._rng = rng
        self.answers: cachetools.LRUCache[tuple[object, ...], tuple[int, bytes, tuple[tuple[str, str], ...]]] = (
            cachetools.LRUCache(maxsize=512)
        )
        """Rendered GET answers by request and data generation (see web._remembered)."""
        self.requests = 0
        """Requests the pod's services received (what a benchmark counts per call of Atoll's)."""
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        """How the pod waits out its latency; tests swap it to see the delays asked for."""

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def endpoints(self) -> dict[str, str]:
        """Catalog URLs by service type (block storage keeps the `%(project_id)s` template)."""
        return {service_type: self.base_url + path for service_type, path in SERVICE_PATHS.items()}

    async def delay(self) -> None:
        seconds = self.config.latency_ms / 1000
        if self.config.jitter_ms:
            seconds += self._rng.uniform(0, self.config.jitter_ms / 1000)
        if seconds > 0:
            await self.sleep(seconds)

    async def recovered(self) -> None:
        """Waits until the pod's failure is cleared or changed."""
        self._recovered.clear()
        await self._recovered.wait()

    def set_failure(self, failure: Failure | None) -> None:
        self.failure = failure
        self._recovered.set()

    def cut(self, request: web.Request) -> None:
        """A request reached a pod that is down (on a connection opened before): drop the connection."""
        if request.transport is not None:
            request.transport.abort()
        raise ConnectionResetError(f"{self.name} is down")

    @property
    def is_down(self) -> bool:
        return self.failure is not None and self.failure.mode == FailureMode.DOWN
