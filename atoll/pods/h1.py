"""Buffered pod calls over a small HTTP/1.1 keep-alive client: asyncio transports, httptools' parser.

Why not aiohttp's client, which streams still use (`AiohttpPodClient.stream`): a merged list asks
every pod at once, and on a 100-pod list aiohttp's client was ~45% of atoll-api's event-loop CPU
(py-spy, bench/gateway_lists.py); in one microbenchmark a GET cost 85-91 us of CPU through
aiohttp against 23 us over a bare transport with httptools. What the buffered calls need is narrow:
a request head and a bytes body out, a JSON document in, keep-alive, a total timeout and a
connection limit. The parsing, which is where HTTP clients go wrong, is httptools' (llhttp, the
parser of Node.js, and of uvicorn on Atoll's own side).

What it does not do, and does not need to: proxies (pods are reached directly), redirects (never
followed, as before), compression (nothing asks for it, so pods answer identity), cookies.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import typing
from collections.abc import Mapping
from typing import Any

import httptools
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from atoll.pods.client import AiohttpPodClient, Body, Params, PodLimits, PodResponse, PodStream, request_headers
from atoll.pods.errors import PodTimeout, PodUnreachable
from atoll.types import RequestId

Origin = tuple[str, str, int]

_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


class ConnectionLost(ConnectionError):
    """The pod closed the connection before its answer was complete."""

    def __init__(self, answered: bool) -> None:
        super().__init__("connection closed before the answer was complete")
        self.answered = answered
        """Whether any byte of the answer had arrived (if not, a reused connection may simply have
        been closed by the pod while idle)."""


class InvalidHeader(ValueError):
    """A header name or value that would break the request head (a CR or LF in it)."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection to a pod's service; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[PodResponse] | None = None
        self.closed = False
        self.reusable = False
        self.used = False
        self._head_only = False
        self._reset()

    def _reset(self) -> None:
        self.headers: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []
        self.answered = False
        self.headers_done = False
        self.framed = True

    # -- asyncio.Protocol --------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        self.answered = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(ConnectionError(f"invalid HTTP answer: {error}"))

    def eof_received(self) -> None:
        self.closed = True  # the pod is closing it (an idle connection it timed out): never taken again

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        if self.headers_done and not self.framed:
            self._finish()  # an answer with neither Content-Length nor chunks ends where the connection does
        else:
            waiter.set_exception(ConnectionLost(self.answered))

    # -- httptools callbacks -----------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self.headers_done = True
        status = self.parser.get_status_code()
        if status < 200 or status in (204, 304):
            return
        names = {name.lower() for name, _ in self.headers}
        self.framed = "content-length" in names or "transfer-encoding" in names
        if self._head_only:
            # The answer to a HEAD has no body whatever its Content-Length says; the parser cannot be
            # told so, hence the connection is not reused.
            self.reusable = False
            self._finish()

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        if self.parser.get_status_code() < 200:
            self._reset()  # an informational answer (100 Continue): the real one follows
            self.answered = True
            return
        self.reusable = self.parser.should_keep_alive() and not self._head_only
        self._finish()

    # -- requests ----------------------------------------------------------
    def send(self, head: bytes, body: bytes | None, head_only: bool) -> asyncio.Future[PodResponse]:
        assert self.transport is not None
        self._reset()
        self._head_only = head_only
        self.reusable = False
        self.waiter = asyncio.get_running_loop().create_future()
        if body:
            self.transport.writelines((head, body))
        else:
            self.transport.write(head)
        return self.waiter

    def _finish(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            status = self.parser.get_status_code()
            waiter.set_result(PodResponse(status, CIMultiDictProxy(CIMultiDict(self.headers)), b"".join(self.chunks)))
            self.used = True

    def _fail(self, error: Exception) -> None:
        self.reusable = False
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(error)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


def request_head(method: str, url: URL, headers: CIMultiDict[str], length: int | None) -> bytes:
    """The request line and headers; `length` is the body's (None: no body, and none expected)."""
    lines = [f"{method} {url.raw_path_qs} HTTP/1.1", f"Host: {url.host_port_subcomponent}"]
    for name, value in headers.items():
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
            raise InvalidHeader(f"header {name!r} cannot be sent")
        lines.append(f"{name}: {value}")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines.append("\r\n")
    return "\r\n".join(lines).encode("utf-8")


class H1PodClient:
    """A `PodClient`: buffered calls over its own keep-alive connections, streams over aiohttp."""

    def __init__(self, name: str, limits: PodLimits) -> None:
        self.name = name
        self.limits = limits
        self._streams = AiohttpPodClient(name, limits)
        self._idle: dict[Origin, list[_Connection]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots = asyncio.Semaphore(limits.connections)
        self._tls: ssl.SSLContext | None = None

    async def request(
        self,
        method: str,
        url: str,
        *,
        token: str | None,
        request_id: RequestId | None = None,
        headers: Mapping[str, str] | None = None,
        params: Params | None = None,
        body: bytes | None = None,
        json_body: Any = None,
        timeout: float | None = None,
    ) -> PodResponse:
        data = json.dumps(json_body).encode() if json_body is not None else body
        target = URL(url)
        if params:
            target = target.extend_query(params)
        length = len(data) if data is not None else (0 if method in _WITH_BODY else None)
        sent = request_headers(token, request_id, headers, json_body is not None)
        if length is not None:
            sent.setdefault("Content-Type", "application/octet-stream")  # as aiohttp did
        head = request_head(method, target, sent, length)
        origin = (target.scheme, target.raw_host or "", target.port or 0)
        total = self.limits.timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(total):
                return await self._exchange(origin, method, head, data)
        except TimeoutError as error:
            raise PodTimeout(self.name, f"Pod {self.name} did not answer within {total:g} s.") from error
        except OSError as error:  # refused, reset, closed early, no route, TLS
            raise PodUnreachable(
                self.name, f"Pod {self.name} could not be reached ({type(error).__name__})."
            ) from error

    async def _exchange(self, origin: Origin, method: str, head: bytes, data: bytes | None) -> PodResponse:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # connections (and waiters) belong to the loop that made them
            self._drop_idle()
            self._slots = asyncio.Semaphore(self.limits.connections)
            self._loop = loop
        async with self._slots:
            retried = False
            while True:
                connection = await self._connection(origin)
                try:
                    response = await connection.send(head, data, method == "HEAD")
                except ConnectionLost as lost:
                    # A connection the pod closed while it sat idle: once more on a fresh one, when
                    # repeating the call cannot do a thing twice.
                    if not retried and connection.used and not lost.answered and method in _IDEMPOTENT:
                        retried = True
                        continue
                    raise
                except BaseException:  # timed out, cancelled, or an invalid answer: never reused
                    connection.abort()
                    raise
                self._release(origin, connection)
                return response

    async def _connection(self, origin: Origin) -> _Connection:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if not connection.closed and connection.transport is not None and not connection.transport.is_closing():
                return connection
        scheme, host, port = origin
        async with asyncio.timeout(self.limits.connect_timeout):
            _, connection = await asyncio.get_running_loop().create_connection(
                _Connection, host, port, ssl=self._tls_context() if scheme == "https" else None
            )
        return connection

    def _release(self, origin: Origin, connection: _Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if connection.reusable and not connection.closed and len(idle) < self.limits.connections:
            idle.append(connection)
        else:
            connection.close()

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    def stream(
        self,
        method: str,
        url: str,
        *,
        token: str | None,
        request_id: RequestId | None = None,
        headers: Mapping[str, str] | None = None,
        params: Params | None = None,
        body: Body = None,
    ) -> contextlib.AbstractAsyncContextManager[PodStream]:
        return self._streams.stream(
            method, url, token=token, request_id=request_id, headers=headers, params=params, body=body
        )

    def _drop_idle(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    async def close(self) -> None:
        self._drop_idle()
        await self._streams.close()
