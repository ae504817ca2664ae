"""`limit` / `marker` pagination shared by the admin API's lists (Nova's shape).

A page holds at most `limit` rows, never more than `[api] max_limit`; while
more rows follow, `<collection>_links` carries one absolute `next` link
with the same filters, the same limit and the last row as the marker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request

from atoll.api.deps import Services
from atoll.api.schemas.common import Link

LimitQuery = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="The largest page wanted.")]
MarkerQuery = Annotated[
    str | None,
    Query(max_length=255, pattern=r"^[^\x00-\x1f\x7f]*$", description="The id of the last row of the previous page."),
]


def page_size(services: Services, limit: int | None) -> int:
    max_limit: int = services.conf.api.max_limit
    return min(limit or max_limit, max_limit)


def next_links(
    request: Request, services: Services, path: str, filters: Mapping[str, Any], limit: int, marker: object | None
) -> list[Link]:
    """The `next` link after a page ending at `marker`; none when no page follows (`marker` None)."""
    if marker is None:
        return []
    base = services.conf.api.public_url or str(request.base_url)
    query = urlencode({**{k: str(v) for k, v in filters.items()}, "limit": limit, "marker": str(marker)})
    return [Link(rel="next", href=f"{base.rstrip('/')}{path}?{query}")]
