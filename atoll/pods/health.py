"""Is a pod up? Every discovered service must answer its endpoint.

A service "answers" when it returns any HTTP status below 500: an
unauthenticated GET of an API root gets a version document or a 401, either
of which shows the API process is serving.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping

import httpx

from atoll.types import PodStatus


@dataclasses.dataclass(frozen=True)
class Health:
    status: PodStatus
    reason: str
    answered: bool
    """At least one service answered: the pod was seen."""


async def _probe_service(client: httpx.AsyncClient, url: str, timeout: float) -> str | None:
    """None when the service answers, else why not."""
    try:
        response = await client.get(url, timeout=timeout)
    except httpx.TimeoutException:
        return f"no answer within {timeout:g}s"
    except httpx.HTTPError as error:
        return f"unreachable ({type(error).__name__})"
    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    return None


async def probe(client: httpx.AsyncClient, endpoints: Mapping[str, str], timeout: float) -> Health:
    if not endpoints:
        return Health(PodStatus.DOWN, "no endpoints found in the Keystone catalog for this region", False)
    services = sorted(endpoints)
    results = await asyncio.gather(*(_probe_service(client, endpoints[s], timeout) for s in services))
    failures = [f"{service}: {why}" for service, why in zip(services, results, strict=True) if why]
    answered = len(failures) < len(services)
    if failures:
        return Health(PodStatus.DOWN, "; ".join(failures), answered)
    return Health(PodStatus.UP, "", answered)
