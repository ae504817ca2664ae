"""Putting a pod in a given state through the database functions the engine uses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from atoll.db import pods as pods_db
from atoll.types import PodStatus


async def set_pod(
    session: AsyncSession,
    pod_id: str,
    *,
    endpoints: Mapping[str, str] | None = None,
    status: PodStatus | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Write what discovery (`endpoints`) and the probe (`status`) would have found."""
    when = at or dt.datetime.now(dt.UTC)
    if endpoints is not None:
        [state] = await pods_db.list_states(session, [pod_id])
        assert await pods_db.set_endpoints(session, state, endpoints, when)
    if status is not None:
        [state] = await pods_db.list_states(session, [pod_id])
        assert await pods_db.set_status(session, state, status, "", when)
