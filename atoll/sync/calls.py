"""One call to a pod on Atoll's service token, with failures classified for the job runner.

pod not registered        PermanentError  (the job cannot succeed by waiting)
pod down, unreachable,    TemporaryError  (retried with the job's backoff)
timed out, 5xx, 401
any other status          returned: the handler decides (404 = absent, ...)
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Protocol
from urllib.parse import quote

from atoll.jobs.outcomes import PermanentError, TemporaryError
from atoll.pods.client import Body, Params, PodClient, PodResponse, PodStream
from atoll.pods.errors import PodError
from atoll.pods.info import PodInfo
from atoll.pods.registry import PodSnapshot
from atoll.types import PodStatus

Tokens = Callable[..., Awaitable[str]]


class Snapshots(Protocol):
    async def snapshot(self) -> PodSnapshot: ...


class Clients(Protocol):
    def __call__(self, pod: PodInfo) -> PodClient: ...


COMPUTE_VERSION = "2.55"
"""Nova microversion of every sync call: keypairs of another user need 2.10, a flavor's
description 2.55."""


def compute_headers(version: str = COMPUTE_VERSION) -> dict[str, str]:
    return {"X-OpenStack-Nova-API-Version": version, "OpenStack-API-Version": f"compute {version}"}


def segment(value: str) -> str:
    """One path segment from a name or id a user gave (or a pod returned): quoted, so that it can
    never reach another path of the pod with Atoll's service credentials."""
    if value in ("", ".", ".."):
        raise PermanentError(f"{value!r} is not a usable name or id.")
    return quote(value, safe="")


def brief(response: PodResponse, limit: int = 300) -> str:
    """A pod's error body, shortened, for a job's reason."""
    text = response.body.decode("utf-8", "replace").strip().replace("\n", " ")
    return text[:limit]


@dataclasses.dataclass
class PodCalls:
    """Calls to the pods by region name: the registry says where, the pool carries them."""

    pods: Snapshots
    clients: Clients
    token: Tokens

    async def pod(self, region: str) -> PodInfo:
        pod = (await self.pods.snapshot()).by_name(region)
        if pod is None or pod.is_top:
            raise PermanentError(f"Region {region} is not a pod of Atoll.")
        if pod.status == PodStatus.DOWN:
            raise TemporaryError(f"Pod {region} is down.")
        return pod

    async def url(self, region: str, service: str, path: str) -> tuple[PodInfo, str]:
        pod = await self.pod(region)
        try:
            return pod, pod.url(service) + path
        except PodError as error:
            raise PermanentError(error.message) from error

    async def call(
        self,
        region: str,
        service: str,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json_body: Any = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> PodResponse:
        """`body` with its own Content-Type in `headers` (json_body is always application/json)."""
        pod, url = await self.url(region, service, path)
        client = self.clients(pod)
        try:
            response = await client.request(
                method, url, token=await self.token(), params=params, json_body=json_body, body=body, headers=headers
            )
            if response.status == 401:  # the cached service token expired or was revoked
                response = await client.request(
                    method,
                    url,
                    token=await self.token(True),
                    params=params,
                    json_body=json_body,
                    body=body,
                    headers=headers,
                )
        except PodError as error:
            raise TemporaryError(error.message) from error
        _raise_for_transient(region, method, path, response.status, response)
        return response

    async def expect(self, region: str, service: str, method: str, path: str, ok: tuple[int, ...], **kw: Any) -> Any:
        """A call that must answer one of `ok`, else PermanentError saying what; its JSON body, if any."""
        response = await self.call(region, service, method, path, **kw)
        if response.status not in ok:
            raise PermanentError(f"{method} {path} in {region}: {response.status} {brief(response)}")
        try:
            return response.json() if response.body else None
        except ValueError:  # a 2xx with a body that is not JSON (an HTML 202): nothing to read
            return None

    async def json(self, region: str, service: str, path: str, **kw: Any) -> Any:
        """GET a document that must exist (200), else PermanentError naming what is missing."""
        response = await self.call(region, service, "GET", path, **kw)
        if response.status != 200:
            raise PermanentError(f"GET {path} in {region}: {response.status} {brief(response)}")
        return response.json()

    @contextlib.asynccontextmanager
    async def stream(
        self,
        region: str,
        service: str,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: Body = None,
        params: Params | None = None,
    ) -> AsyncIterator[PodStream]:
        pod, url = await self.url(region, service, path)
        token = await self.token()
        try:
            async with self.clients(pod).stream(
                method, url, token=token, headers=headers, body=body, params=params
            ) as response:
                _raise_for_transient(region, method, path, response.status, None)
                yield response
        except PodError as error:
            raise TemporaryError(error.message) from error


def _raise_for_transient(region: str, method: str, path: str, status: int, response: PodResponse | None) -> None:
    if status == 401:
        raise TemporaryError(f"{method} {path} in {region}: Atoll's service token was refused (401).")
    if status >= 500 or status == 429:
        detail = f" {brief(response)}" if response is not None else ""
        raise TemporaryError(f"{method} {path} in {region}: {status}{detail}")
