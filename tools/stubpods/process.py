"""A stub cloud in a subprocess (`python -m stubpods serve`), for benches that must not share
their event loop or CPU with the stubs.

    with StubProcess(["--pods", "100", "--latency-ms", "20"]) as stubs:
        stubs.info["auth_url"], stubs.info["pods"]["Pod3"]["endpoints"]
        stubs.set_failure("Pod3", "down")
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
from types import TracebackType
from typing import Any

import httpx

TOOLS = pathlib.Path(__file__).resolve().parents[1]


class StubProcess:
    def __init__(self, args: list[str], *, python: str = sys.executable, startup_timeout: float = 120.0) -> None:
        self.args = args
        self.python = python
        self.startup_timeout = startup_timeout
        self.info: dict[str, Any] = {}
        self._proc: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def start(self) -> dict[str, Any]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(TOOLS), env.get("PYTHONPATH", "")) if p)
        self._proc = subprocess.Popen(
            [self.python, "-m", "stubpods", "serve", "--exit-with-parent", *self.args],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()  # the endpoints document, printed once everything listens
        if not line:
            code = self._proc.wait(timeout=self.startup_timeout)
            raise RuntimeError(f"stubpods serve exited ({code}) before printing its endpoints")
        self.info = json.loads(line)
        return self.info

    def set_failure(self, pod: str, failure: str | None) -> dict[str, Any]:
        """`down`, `hang`, `error:503`, `error:500@compute` or None to heal."""
        return self._control(pod, {"failure": failure})

    def set_latency(self, pod: str, latency_ms: float, jitter_ms: float = 0.0) -> dict[str, Any]:
        return self._control(pod, {"latency_ms": latency_ms, "jitter_ms": jitter_ms})

    def _control(self, pod: str, body: dict[str, Any]) -> dict[str, Any]:
        response = httpx.put(f"{self.info['control_url']}/pods/{pod}", json=body, timeout=30)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def stop(self) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._proc = None

    def __enter__(self) -> StubProcess:
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
