"""Keyset pages in creation order, for tables whose ids are UUIDs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from atoll.core.errors import InvalidInput

T = TypeVar("T")


async def page(
    session: AsyncSession,
    query: sa.Select[T],
    *,
    created_at: InstrumentedAttribute[Any],
    row_id: InstrumentedAttribute[str],
    limit: int,
    marker: str | None,
) -> tuple[Sequence[T], bool]:
    """One page of `query` in (created_at, id) order after the row `marker`, and whether more follow.

    A marker that names no row is a 400, as in Nova: a page "after" an unknown
    row has no meaning.
    """
    if marker is not None:
        marker_at = await session.scalar(sa.select(created_at).where(row_id == marker))
        if marker_at is None:
            raise InvalidInput(f"Marker {marker} could not be found.")
        query = query.where(sa.or_(created_at > marker_at, sa.and_(created_at == marker_at, row_id > marker)))
    rows = (await session.scalars(query.order_by(created_at, row_id).limit(limit + 1))).all()
    return rows[:limit], len(rows) > limit
