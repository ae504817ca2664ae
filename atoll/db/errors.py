"""Turns database integrity errors into Atoll's typed errors."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncSession

from atoll.core.errors import Conflict


@contextlib.asynccontextmanager
async def conflict_on_duplicate(session: AsyncSession, message: str) -> AsyncIterator[None]:
    """Flush inside; a unique or foreign-key violation (a concurrent writer won) becomes a 409."""
    try:
        yield
        await session.flush()
    except exc.IntegrityError as error:
        raise Conflict(message) from error
