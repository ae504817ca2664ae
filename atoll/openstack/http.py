"""The httpx client of Atoll's infrequent calls: token validation and health probes.

The pod data path of the gateway uses aiohttp instead (see design.md: httpx
costs several times more per forwarded call); httpx stays where calls are rare.
"""

from __future__ import annotations

import httpx


def http_client(timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False)


def probe_client(timeout: float, connections: int) -> httpx.AsyncClient:
    """The health probe's own client, apart from token validation's: in atoll-api's in-process engine a
    round over many pods (every service of every pod at once) would otherwise hold the connections that
    token validation needs. Idle connections are kept for the next round (httpx keeps 20 by default, so a
    round over 100 pods reconnected most of them every time).
    """
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout, pool=None), limits=limits, follow_redirects=False)
