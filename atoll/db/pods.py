"""Queries on the pods table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from atoll.core.errors import Conflict, NotFound
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


async def set_endpoints(session: AsyncSession, pod_id: PodId, endpoints: Mapping[str, str], at: dt.datetime) -> None:
    await session.execute(
        sa.update(Pod).where(Pod.pod_id == pod_id).values(endpoints=dict(endpoints), endpoints_updated_at=at)
    )


async def set_status(
    session: AsyncSession,
    pod_id: PodId,
    status: PodStatus,
    reason: str,
    seen_at: dt.datetime | None,
) -> None:
    values: dict[str, object] = {"status": status.value, "status_reason": reason[:1024]}
    if seen_at is not None:
        values["last_seen_at"] = seen_at
    await session.execute(sa.update(Pod).where(Pod.pod_id == pod_id).values(**values))
