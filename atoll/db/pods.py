"""Queries on the pods table.

Writes of what discovery and probes found are conditional: they name the
`PodState` they started from and change nothing when the pod has moved on
(renamed, rediscovered, deleted) since; see `Pod.generation`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from atoll.core.errors import Conflict, NotFound
from atoll.db import paging
from atoll.db.errors import conflict_on_duplicate
from atoll.db.models import Pod, PodBinding, ResourceRouting
from atoll.types import PodId, PodStatus


async def create(
    session: AsyncSession, *, region_name: str, az_name: str = "", pod_az_name: str = "", dc_name: str = ""
) -> Pod:
    is_top = az_name == ""
    if await session.scalar(sa.select(Pod.pod_id).where(Pod.region_name == region_name)):
        raise Conflict(f"A pod with region_name {region_name} already exists.")
    if is_top and await session.scalar(sa.select(Pod.pod_id).where(Pod.is_top.is_(True))):
        raise Conflict("A top pod (a pod without az_name) already exists; only one is allowed.")
    pod = Pod(
        region_name=region_name,
        az_name=az_name,
        pod_az_name=pod_az_name,
        dc_name=dc_name,
        is_top=True if is_top else None,
        endpoints={},
        status=PodStatus.UNKNOWN,
        status_reason="",
    )
    async with conflict_on_duplicate(session, f"Pod {region_name} conflicts with an existing pod."):
        session.add(pod)
    return pod


async def get(session: AsyncSession, pod_id: str) -> Pod:
    pod = await session.get(Pod, pod_id)
    if pod is None:
        raise NotFound(f"Pod {pod_id} could not be found.")
    return pod


async def list_all(session: AsyncSession) -> Sequence[Pod]:
    result = await session.scalars(sa.select(Pod).order_by(Pod.created_at, Pod.pod_id))
    return result.all()


async def list_page(session: AsyncSession, *, limit: int, marker: str | None) -> tuple[Sequence[Pod], bool]:
    """One page in creation order, and whether another page follows."""
    return await paging.page(
        session, sa.select(Pod), created_at=Pod.created_at, row_id=Pod.pod_id, limit=limit, marker=marker
    )


async def update(session: AsyncSession, pod_id: str, changes: Mapping[str, str]) -> Pod:
    pod = await get(session, pod_id)
    new_az = changes.get("az_name", pod.az_name)
    if (new_az == "") != bool(pod.is_top):
        if pod.is_top:
            raise Conflict("The top pod cannot be given an az_name; register a new pod instead.")
        raise Conflict("A bottom pod cannot become the top pod (an empty az_name).")
    region_name = changes.get("region_name")
    if region_name is not None and region_name != pod.region_name:
        if await session.scalar(sa.select(Pod.pod_id).where(Pod.region_name == region_name)):
            raise Conflict(f"A pod with region_name {region_name} already exists.")
        pod.endpoints = {}
        pod.endpoints_updated_at = None
        pod.generation += 1
        pod.status = PodStatus.UNKNOWN
        pod.status_reason = "region changed; endpoints not discovered yet"
    for key, value in changes.items():
        setattr(pod, key, value)
    async with conflict_on_duplicate(session, f"Pod {pod.region_name} conflicts with an existing pod."):
        pass
    return pod


async def delete(session: AsyncSession, pod_id: str) -> None:
    pod = await get(session, pod_id)
    bindings = await session.scalar(
        sa.select(sa.func.count()).select_from(PodBinding).where(PodBinding.pod_id == pod_id)
    )
    routings = await session.scalar(
        sa.select(sa.func.count()).select_from(ResourceRouting).where(ResourceRouting.pod_id == pod_id)
    )
    if bindings or routings:
        raise Conflict(
            f"Pod {pod_id} is in use by {bindings} binding(s) and {routings} routing(s); delete those first."
        )
    await session.delete(pod)
    async with conflict_on_duplicate(session, f"Pod {pod_id} is in use."):
        pass


@dataclasses.dataclass(frozen=True)
class PodState:
    """What background work read of a pod, to write its findings against."""

    pod_id: PodId
    region_name: str
    generation: int
    endpoints: Mapping[str, str]
    status: PodStatus
    discovered: bool
    """Its endpoints were read from the catalog at least once since it was registered or renamed."""


async def list_states(session: AsyncSession, pod_ids: Iterable[str] | None = None) -> list[PodState]:
    """The state of the given pods (all when None) in creation order; unknown ids are skipped."""
    query = sa.select(Pod).order_by(Pod.created_at, Pod.pod_id)
    if pod_ids is not None:
        query = query.where(Pod.pod_id.in_(list(pod_ids)))
    return [
        PodState(
            pod_id=PodId(p.pod_id),
            region_name=p.region_name,
            generation=p.generation,
            endpoints=dict(p.endpoints),
            status=PodStatus(p.status),
            discovered=p.endpoints_updated_at is not None,
        )
        for p in (await session.scalars(query)).all()
    ]


def _unchanged(seen: PodState) -> sa.ColumnElement[bool]:
    return sa.and_(Pod.pod_id == seen.pod_id, Pod.generation == seen.generation)


async def set_endpoints(session: AsyncSession, seen: PodState, endpoints: Mapping[str, str], at: dt.datetime) -> bool:
    """Store the endpoints discovered for `seen`; False (nothing written) when the pod changed meanwhile."""
    values: dict[str, object] = {"endpoints_updated_at": at}
    if dict(endpoints) != dict(seen.endpoints):
        values |= {"endpoints": dict(endpoints), "generation": seen.generation + 1}
    result = await session.execute(sa.update(Pod).where(_unchanged(seen)).values(**values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def set_status(
    session: AsyncSession,
    seen: PodState,
    status: PodStatus,
    reason: str,
    seen_at: dt.datetime | None,
) -> bool:
    """Store what a probe of `seen` found; False (nothing written) when the pod changed meanwhile."""
    values: dict[str, object] = {"status": status.value, "status_reason": reason[:1024]}
    if seen_at is not None:
        values["last_seen_at"] = seen_at
    result = await session.execute(sa.update(Pod).where(_unchanged(seen)).values(**values))
    return bool(result.rowcount)  # type: ignore[attr-defined]
