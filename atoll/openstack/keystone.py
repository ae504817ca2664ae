"""Validation of callers' Keystone v3 tokens.

A token is checked with `GET /v3/auth/tokens` (X-Subject-Token) using Atoll's
own service token, then cached under a hash of the token (the token itself is
never kept, logged or shown) until `token_cache_time` passes or the token
expires, whichever comes first. Invalid tokens are cached too: a token never
becomes valid again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
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
    user_id: str
    project_id: str | None
    domain_id: str | None
    roles: tuple[str, ...]
    expires_at: dt.datetime
    system_scope: str | None = None


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
        domain_id=domain.get("id") or (project.get("domain") or {}).get("id"),
        roles=tuple(role["name"] for role in token.get("roles", [])),
        expires_at=dt.datetime.fromisoformat(token["expires_at"].replace("Z", "+00:00")),
        system_scope="all" if system.get("all") else None,
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
        clock: Clock | None = None,
    ) -> None:
        self._url = identity_url.rstrip("/") + "/auth/tokens"
        self._service_token = service_token
        self._client = client
        self._clock = clock or SystemClock()
        self._ttl = cache_ttl
        self._cache: cachetools.TTLCache[str, TokenInfo | None] = cachetools.TTLCache(
            maxsize=cache_size, ttl=max(cache_ttl, 0.001), timer=self._clock.monotonic
        )

    async def validate(self, token: str) -> TokenInfo:
        key = hashlib.sha256(token.encode()).hexdigest()
        if self._ttl > 0 and key in self._cache:
            info = self._cache[key]
        else:
            info = await self._ask_keystone(token)
            if self._ttl > 0:
                self._cache[key] = info
        if info is None or info.expires_at <= self._clock.now():
            raise Unauthorized(AUTH_REQUIRED)
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
