"""Validation of callers' Keystone v3 tokens.

A token is checked with `GET /v3/auth/tokens` (X-Subject-Token) using Atoll's
own service token, then cached under a hash of the token (the token itself is
never kept, logged or shown) until `token_cache_time` passes or the token
expires, whichever comes first. Requests that arrive with the same token while
Keystone is being asked wait for that one call. Invalid tokens are remembered
for `token_cache_time` too (a token never becomes valid again), in a separate
smaller cache, so that made-up tokens cannot push valid ones out.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import cachetools
import httpx

from atoll.core.clock import Clock, SystemClock
from atoll.core.errors import ServiceUnavailable, Unauthorized

AUTH_REQUIRED = "The request you have made requires authentication."


@dataclasses.dataclass(frozen=True)
class TokenInfo:
    """What a token says about its caller. At most one of `project_id`, `domain_id` and
    `system_scope` is set: the token's scope (oslo.context's names; none for an unscoped token)."""

    user_id: str
    project_id: str | None
    domain_id: str | None
    roles: tuple[str, ...]
    expires_at: dt.datetime
    system_scope: str | None = None
    project_domain_id: str | None = None


class TokenValidator(Protocol):
    async def validate(self, token: str) -> TokenInfo: ...


def parse_token(body: dict[str, Any]) -> TokenInfo:
    """The parts of a Keystone v3 token response Atoll needs."""
    token = body["token"]
    project = token.get("project") or {}
    domain = token.get("domain") or {}
    system = token.get("system") or {}
    return TokenInfo(
        user_id=token["user"]["id"],
        project_id=project.get("id"),
        domain_id=domain.get("id"),
        roles=tuple(role["name"] for role in token.get("roles", [])),
        expires_at=dt.datetime.fromisoformat(token["expires_at"].replace("Z", "+00:00")),
        system_scope="all" if system.get("all") else None,
        project_domain_id=(project.get("domain") or {}).get("id"),
    )


ServiceToken = Callable[[bool], Awaitable[str]]
"""Returns Atoll's service token; `True` asks for a new one (the old one was refused)."""


class KeystoneTokenValidator:
    def __init__(
        self,
        *,
        identity_url: str,
        service_token: ServiceToken,
        client: httpx.AsyncClient,
        cache_ttl: float = 300.0,
        cache_size: int = 10000,
        negative_cache_size: int = 1000,
        clock: Clock | None = None,
    ) -> None:
        self._url = identity_url.rstrip("/") + "/auth/tokens"
        self._service_token = service_token
        self._client = client
        self._clock = clock or SystemClock()
        self._ttl = cache_ttl
        ttl = max(cache_ttl, 0.001)
        self._valid: cachetools.TTLCache[str, TokenInfo] = cachetools.TTLCache(
            maxsize=cache_size, ttl=ttl, timer=self._clock.monotonic
        )
        # Apart from the valid ones, so that a flood of made-up tokens cannot evict them.
        self._invalid: cachetools.TTLCache[str, bool] = cachetools.TTLCache(
            maxsize=negative_cache_size, ttl=ttl, timer=self._clock.monotonic
        )
        self._asking: dict[str, asyncio.Task[TokenInfo | None]] = {}

    async def validate(self, token: str) -> TokenInfo:
        key = hashlib.sha256(token.encode()).hexdigest()
        info = self._cached(key)
        if info is None:
            info = await self._ask_once(key, token)
        if info is None or info.expires_at <= self._clock.now():
            raise Unauthorized(AUTH_REQUIRED)
        return info

    def _cached(self, key: str) -> TokenInfo | None:
        if key in self._invalid:
            raise Unauthorized(AUTH_REQUIRED)
        try:
            # One read, never `in` then `[]`: the entry may expire between the two.
            return self._valid[key]
        except KeyError:
            return None

    async def _ask_once(self, key: str, token: str) -> TokenInfo | None:
        """Keystone's answer for `token`, asked once however many requests wait for it.

        The call runs as its own task and each request waits on it shielded, so a
        request that goes away does not cancel the answer the others wait for."""
        call = self._asking.get(key)
        if call is None:
            call = asyncio.create_task(self._ask_and_remember(key, token))
            self._asking[key] = call
            call.add_done_callback(functools.partial(self._asked, key))
        return await asyncio.shield(call)

    def _asked(self, key: str, call: asyncio.Task[TokenInfo | None]) -> None:
        del self._asking[key]
        if not call.cancelled():
            call.exception()  # marks it retrieved: a failure nobody waits for any more is not an error

    async def _ask_and_remember(self, key: str, token: str) -> TokenInfo | None:
        info = await self._ask_keystone(token)
        if self._ttl > 0:
            if info is None:
                self._invalid[key] = True
            else:
                self._valid[key] = info
        return info

    async def _ask_keystone(self, token: str) -> TokenInfo | None:
        response = await self._get(token, renew=False)
        if response.status_code == 401:
            response = await self._get(token, renew=True)
            if response.status_code == 401:
                raise ServiceUnavailable("Atoll's service credentials were refused by Keystone.")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ServiceUnavailable(f"Keystone answered {response.status_code} to a token validation.")
        return parse_token(response.json())

    async def _get(self, token: str, *, renew: bool) -> httpx.Response:
        try:
            service_token = await self._service_token(renew)
            return await self._client.get(self._url, headers={"X-Auth-Token": service_token, "X-Subject-Token": token})
        except httpx.HTTPError as error:
            raise ServiceUnavailable(f"Keystone could not be reached: {type(error).__name__}") from error
