"""Is a pod up? Every discovered service must answer as that service.

The probe GETs each service's root (`versions.version_root`), which every
OpenStack API serves without a token, and checks the version document it
gets is the one that service type serves (`versions.SIGNATURES`). So a
service that is down, one that errs (5xx), and an endpoint that is wrong —
a 404, some other service's document, a page that is no version document —
each get their own reason. One cheap GET per service and probe, its body
read up to `MAX_BODY` bytes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Mapping

import httpx

from atoll.pods import versions
from atoll.types import PodStatus

MAX_BODY = 64 * 1024
"""Bytes of an answer read at most: version documents are a few hundred bytes."""


@dataclasses.dataclass(frozen=True)
class Health:
    status: PodStatus
    reason: str
    answered: bool
    """At least one service answered as itself: the pod was seen."""


@dataclasses.dataclass(frozen=True)
class _Outcome:
    problem: str | None
    """None when the service answered as itself, else why not."""
    answered: bool


async def _get(client: httpx.AsyncClient, url: str, timeout: float) -> tuple[int, bytes]:
    async with client.stream("GET", url, timeout=timeout, headers={"Accept": "application/json"}) as response:
        body = b""
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) >= MAX_BODY:
                break
        return response.status_code, body


async def _probe_service(client: httpx.AsyncClient, service: str, url: str, timeout: float) -> _Outcome:
    root = versions.version_root(url)
    try:
        status, body = await _get(client, root, timeout)
    except httpx.TimeoutException:
        return _Outcome(f"no answer within {timeout:g}s", False)
    except httpx.HTTPError as error:
        return _Outcome(f"unreachable ({type(error).__name__})", False)
    if status >= 500:
        return _Outcome(f"HTTP {status}", False)
    found = _entries(body) if status in (200, 300) else []
    if versions.serves(service, found):
        return _Outcome(None, True)
    other = versions.looks_like(found)
    if other is not None:
        return _Outcome(f"misconfigured endpoint: {root} serves {other}'s version document, not {service}'s", False)
    return _Outcome(
        f"misconfigured endpoint: {root} answered HTTP {status} without {service}'s version document", False
    )


def _entries(body: bytes) -> list[versions.Entry]:
    try:
        return versions.entries(json.loads(body))
    except ValueError:  # not JSON (or cut at MAX_BODY): no version document
        return []


async def probe(client: httpx.AsyncClient, endpoints: Mapping[str, str], timeout: float) -> Health:
    if not endpoints:
        return Health(PodStatus.DOWN, "no endpoints found in the Keystone catalog for this region", False)
    services = sorted(endpoints)
    outcomes = await asyncio.gather(*(_probe_service(client, s, endpoints[s], timeout) for s in services))
    failures = [f"{service}: {o.problem}" for service, o in zip(services, outcomes, strict=True) if o.problem]
    answered = any(o.answered for o in outcomes)
    if failures:
        return Health(PodStatus.DOWN, "; ".join(failures), answered)
    return Health(PodStatus.UP, "", answered)
