"""One pooled HTTP client per pod (aiohttp), behind a small Protocol.

The caller passes the token on every call: the user's own token when the gateway
forwards a request, Atoll's service token (`atoll.openstack.session.SessionTokens`)
for background work. JSON documents are buffered (`request`); large bodies such as
image data go through `stream`, chunk by chunk both ways, never held whole.

aiohttp rather than httpx on this path: design.md measured httpx at 3-4x aiohttp's
cost per forwarded call. Each pod gets its own `ClientSession` and connection limit,
so a slow pod cannot starve the others (or token validation, which uses httpx).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from typing import Any, Protocol

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy

from atoll.core import jsonfast
from atoll.pods.errors import NotJson, PodTimeout, PodUnreachable
from atoll.types import RequestId

Params = Sequence[tuple[str, str]]
Body = bytes | AsyncIterable[bytes] | None


@dataclasses.dataclass(frozen=True)
class PodLimits:
    """How much of a pod one Atoll process may use, and how long it waits."""

    timeout: float = 60.0
    """Seconds a whole buffered call may take."""
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    """Seconds a streamed call may wait between two chunks."""
    connections: int = 100
    """Open connections to one pod at most; further calls wait for one to free."""


@dataclasses.dataclass(frozen=True)
class PodResponse:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        """The body's JSON; `NotJson` (a 502, and a `ValueError`) when it is not JSON."""
        try:
            return jsonfast.loads(self.body)
        except ValueError:
            raise NotJson(f"A pod answered {self.status} with a body that is not JSON. Try again later.") from None


class PodStream(Protocol):
    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> CIMultiDictProxy[str]: ...

    def iter_chunks(self) -> AsyncIterator[bytes]: ...


class PodClient(Protocol):
    """Calls to one pod. `url` is absolute (a `PodInfo.url(service)` plus a path)."""

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
    ) -> PodResponse: ...

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
    ) -> contextlib.AbstractAsyncContextManager[PodStream]: ...

    async def close(self) -> None: ...


def request_headers(
    token: str | None, request_id: RequestId | None, extra: Mapping[str, str] | None, has_json: bool
) -> CIMultiDict[str]:
    headers: CIMultiDict[str] = CIMultiDict(extra or {})
    if token is not None:
        headers["X-Auth-Token"] = token
    if request_id is not None:
        # Every service keeps a `req-<uuid>` here as the global request id of its logs.
        headers["X-OpenStack-Request-ID"] = request_id
    if has_json:
        headers["Content-Type"] = "application/json"
    headers.setdefault("Accept", "application/json")
    return headers


@dataclasses.dataclass
class _AiohttpStream:
    response: aiohttp.ClientResponse
    chunk_size: int

    @property
    def status(self) -> int:
        return self.response.status

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        return self.response.headers

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        async for chunk in self.response.content.iter_chunked(self.chunk_size):
            yield chunk


class AiohttpPodClient:
    """A `PodClient` over one aiohttp `ClientSession`, created on first use inside the loop."""

    CHUNK = 64 * 1024

    def __init__(self, name: str, limits: PodLimits) -> None:
        self.name = name
        self.limits = limits
        self._session: aiohttp.ClientSession | None = None
        self._timeout = aiohttp.ClientTimeout(total=limits.timeout, connect=limits.connect_timeout)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.limits.connections, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,  # bodies pass through as the pod sent them
                skip_auto_headers=("User-Agent",),
                trust_env=False,
            )
        return self._session

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
        limit = self._timeout
        if timeout is not None:
            limit = aiohttp.ClientTimeout(total=timeout, connect=self.limits.connect_timeout)
        sent = request_headers(token, request_id, headers, json_body is not None)
        with self._errors(limit.total):
            async with self._client().request(
                method, url, params=params, data=data, headers=sent, timeout=limit, allow_redirects=False
            ) as response:
                return PodResponse(response.status, response.headers, await response.read())

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        token: str | None,
        request_id: RequestId | None = None,
        headers: Mapping[str, str] | None = None,
        params: Params | None = None,
        body: Body = None,
    ) -> AsyncIterator[PodStream]:
        limit = aiohttp.ClientTimeout(
            total=None, connect=self.limits.connect_timeout, sock_read=self.limits.read_timeout
        )
        sent = request_headers(token, request_id, headers, False)
        with self._errors(self.limits.read_timeout):
            async with self._client().request(
                method, url, params=params, data=body, headers=sent, timeout=limit, allow_redirects=False
            ) as response:
                yield _AiohttpStream(response, self.CHUNK)

    @contextlib.contextmanager
    def _errors(self, timeout: float | None) -> Any:
        """Transport failures as `PodError`s naming the pod, never its URL or the token."""
        try:
            yield
        except TimeoutError as error:
            raise PodTimeout(self.name, f"Pod {self.name} did not answer within {timeout:g} s.") from error
        except aiohttp.ClientError as error:
            raise PodUnreachable(
                self.name, f"Pod {self.name} could not be reached ({type(error).__name__})."
            ) from error

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
