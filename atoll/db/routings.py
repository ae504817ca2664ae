"""Queries on the resource_routings table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from atoll.core.errors import InvalidInput, NotFound
from atoll.db.errors import conflict_on_duplicate
from atoll.db.models import Pod, ResourceRouting

FILTERS = ("id", "top_id", "bottom_id", "pod_id", "project_id", "resource_type")


async def _check_pod(session: AsyncSession, pod_id: str) -> None:
    if await session.get(Pod, pod_id) is None:
        raise InvalidInput(f"Pod {pod_id} could not be found.")


def _duplicate(values: Mapping[str, Any]) -> str:
    return f"A routing for {values['resource_type']} {values['top_id']} in pod {values['pod_id']} already exists."


async def create(session: AsyncSession, values: Mapping[str, Any]) -> ResourceRouting:
    await _check_pod(session, values["pod_id"])
    routing = ResourceRouting(**values)
    async with conflict_on_duplicate(session, _duplicate(values)):
        session.add(routing)
    return routing


async def get(session: AsyncSession, routing_id: int) -> ResourceRouting:
    routing = await session.get(ResourceRouting, routing_id)
    if routing is None:
        raise NotFound(f"Routing {routing_id} could not be found.")
    return routing


async def list_page(
    session: AsyncSession, filters: Mapping[str, Any], *, limit: int, marker: int | None
) -> tuple[Sequence[ResourceRouting], bool]:
    """One page in id order, and whether another page follows."""
    query = sa.select(ResourceRouting).order_by(ResourceRouting.id).limit(limit + 1)
    for name, value in filters.items():
        query = query.where(getattr(ResourceRouting, name) == value)
    if marker is not None:
        query = query.where(ResourceRouting.id > marker)
    rows = (await session.scalars(query)).all()
    return rows[:limit], len(rows) > limit


async def update(session: AsyncSession, routing_id: int, changes: Mapping[str, Any]) -> ResourceRouting:
    routing = await get(session, routing_id)
    if "pod_id" in changes:
        await _check_pod(session, changes["pod_id"])
    for key, value in changes.items():
        setattr(routing, key, value)
    merged = {k: getattr(routing, k) for k in ("resource_type", "top_id", "pod_id")}
    async with conflict_on_duplicate(session, _duplicate(merged)):
        pass
    return routing


async def delete(session: AsyncSession, routing_id: int) -> None:
    await session.delete(await get(session, routing_id))
    await session.flush()


# --- The gateway's side: reservations, confirmation, lookup by top id -------------------------
#
# A create first writes a reservation (bottom_id NULL) naming the pod it is about to call;
# the answer confirms it with the real ids, a failure deletes it. A crash in between leaves
# the reservation: it says which pod was being asked, and the resource, if it was made, is
# adopted the first time its id is used.


async def reserve(session: AsyncSession, *, top_id: str, pod_id: str, project_id: str, resource_type: str) -> int:
    """Insert a reservation; a 409 if one (or a routing) for the same top id and pod exists."""
    routing = ResourceRouting(
        top_id=top_id, bottom_id=None, pod_id=pod_id, project_id=project_id, resource_type=resource_type
    )
    async with conflict_on_duplicate(
        session, _duplicate({"resource_type": resource_type, "top_id": top_id, "pod_id": pod_id})
    ):
        session.add(routing)
    return routing.id


async def confirm(session: AsyncSession, routing_id: int, *, top_id: str, bottom_id: str, project_id: str) -> None:
    await session.execute(
        sa.update(ResourceRouting)
        .where(ResourceRouting.id == routing_id)
        .values(top_id=top_id, bottom_id=bottom_id, project_id=project_id)
    )


async def release(session: AsyncSession, routing_id: int) -> None:
    await session.execute(sa.delete(ResourceRouting).where(ResourceRouting.id == routing_id))


async def pods_holding(session: AsyncSession, project_id: str, resource_type: str) -> list[str]:
    """The pods where a project has confirmed routings of a type."""
    query = (
        sa.select(ResourceRouting.pod_id)
        .where(
            ResourceRouting.project_id == project_id,
            ResourceRouting.resource_type == resource_type,
            ResourceRouting.bottom_id.is_not(None),
        )
        .distinct()
    )
    return [str(pod) for pod in (await session.scalars(query)).all()]


async def find(session: AsyncSession, top_id: str, resource_type: str) -> Sequence[ResourceRouting]:
    """The confirmed routings of a top id (one per pod it lives in)."""
    query = (
        sa.select(ResourceRouting)
        .where(
            ResourceRouting.top_id == top_id,
            ResourceRouting.resource_type == resource_type,
            ResourceRouting.bottom_id.is_not(None),
        )
        .order_by(ResourceRouting.id)
    )
    return (await session.scalars(query)).all()


async def of_type(session: AsyncSession, resource_type: str) -> Sequence[ResourceRouting]:
    """Every confirmed routing of a kind of resource, oldest first (for the few global kinds Atoll
    matches across pods itself, such as volume types)."""
    query = (
        sa.select(ResourceRouting)
        .where(ResourceRouting.resource_type == resource_type, ResourceRouting.bottom_id.is_not(None))
        .order_by(ResourceRouting.id)
    )
    return (await session.scalars(query)).all()


async def forget(session: AsyncSession, top_id: str, resource_type: str, pod_id: str | None = None) -> None:
    query = sa.delete(ResourceRouting).where(
        ResourceRouting.top_id == top_id, ResourceRouting.resource_type == resource_type
    )
    if pod_id is not None:
        query = query.where(ResourceRouting.pod_id == pod_id)
    await session.execute(query)


async def reservation(session: AsyncSession, top_id: str, resource_type: str, pod_id: str) -> int | None:
    """The id of the reservation (bottom id NULL) of a top id in a pod, if one is held."""
    query = sa.select(ResourceRouting.id).where(
        ResourceRouting.top_id == top_id,
        ResourceRouting.resource_type == resource_type,
        ResourceRouting.pod_id == pod_id,
        ResourceRouting.bottom_id.is_(None),
    )
    found: int | None = (await session.scalars(query)).first()
    return found
