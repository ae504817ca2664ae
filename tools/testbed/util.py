"""Small stdlib helpers: logging, timing, HTTP, subprocesses."""

from __future__ import annotations

import contextlib
import email.message
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# Never let a proxy setting route loopback traffic elsewhere.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class TestbedError(RuntimeError):
    pass


def say(msg: str) -> None:
    print(f"[testbed] {msg}", flush=True)


@contextlib.contextmanager
def stage(name: str, timings: list[tuple[str, float]] | None = None) -> Iterator[None]:
    start = time.monotonic()
    say(f"{name} ...")
    try:
        yield
    finally:
        took = time.monotonic() - start
        if timings is not None:
            timings.append((name, took))
        say(f"{name}: {took:.1f}s")


def tail(path: Path, lines: int = 30) -> str:
    try:
        data = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return ""
    return "\n".join(data[-lines:])


def run(
    argv: list[str], log: Path, env: dict[str, str] | None = None, check: bool = True, cwd: str | None = None
) -> int:
    """Run a command, appending its output to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as out:
        out.write(f"\n$ {' '.join(argv)}\n")
        out.flush()
        res = subprocess.run(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=cwd, check=False
        )
    if check and res.returncode != 0:
        raise TestbedError(
            f"command failed ({res.returncode}): {' '.join(argv)}\n--- last lines of {log} ---\n{tail(log)}"
        )
    return res.returncode


class HTTPResult:
    def __init__(self, status: int, headers: email.message.Message, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body or b"null")


def http(
    method: str,
    url: str,
    body: object = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
    raw: bytes | None = None,
) -> HTTPResult:
    """One HTTP request; returns the response even for 4xx/5xx.

    Raises ``OSError`` (ConnectionRefusedError, timeouts ...) when the
    server does not answer at all.
    """
    hdrs = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    if raw is not None:
        data = raw
        hdrs["Content-Type"] = "application/octet-stream"
    if token:
        hdrs["X-Auth-Token"] = token
    hdrs.update(headers or {})
    if not url.startswith("http://"):
        raise ValueError(f"the test bed only speaks plain HTTP on loopback, not {url!r}")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)  # noqa: S310 (http:// checked above)
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            return HTTPResult(resp.status, resp.headers, resp.read())
    except urllib.error.HTTPError as exc:
        return HTTPResult(exc.code, exc.headers, exc.read())
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, OSError):
            raise reason from None
        raise OSError(str(reason)) from exc


def answers(url: str, timeout: float = 5.0) -> bool:
    """True if an HTTP server answers ``url`` with anything below 500."""
    try:
        return http("GET", url, timeout=timeout).status < 500
    except OSError:
        return False


def wait_until(
    what: str,
    check: Callable[[], T],
    timeout: float,
    interval: float = 0.5,
    on_timeout: Callable[[], str] | None = None,
) -> T:
    """Call ``check`` until it returns something true (returned); its exceptions count as "not yet"."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while True:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:
            last_exc = exc
        if time.monotonic() > deadline:
            extra = on_timeout() if on_timeout else ""
            raise TestbedError(
                f"timed out after {timeout:.0f}s waiting for {what}"
                + (f" (last error: {last_exc})" if last_exc else "")
                + (f"\n{extra}" if extra else "")
            )
        time.sleep(interval)


def write_if_changed(path: Path, text: str, mode: int | None = None) -> bool:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if path.read_text() == text:
            return False
    except FileNotFoundError:
        pass
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    if mode is not None:
        os.chmod(tmp, mode)
    os.replace(tmp, path)
    return True


def python_version() -> str:
    return ".".join(map(str, sys.version_info[:3]))
