"""`/v1.0/pods`: the regions Atoll fronts (Tricircle's shape, plus endpoints and health)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter

from atoll.api.deps import ContextDep, IdPath, Services, ServicesDep, only_query_params
from atoll.api.schemas import pods as schemas
from atoll.api.schemas.faults import fault_responses
from atoll.db import pods as pods_db
from atoll.types import PodId

LOG = logging.getLogger(__name__)

router = APIRouter(
    prefix="/v1.0/pods",
    tags=["pods"],
    responses=fault_responses(400, 401, 403, 404, 409),
    dependencies=[only_query_params()],
)
RULE = "atoll:pods:%s"


async def _refresh(services: Services, pod_id: str) -> None:
    """Discover and probe a new or changed pod now, so its reply shows endpoints and health.
    Best effort and bounded: the engine refreshes it again at its next turn."""
    if services.directory is None:
        return
    try:
        await asyncio.wait_for(services.directory.refresh([PodId(pod_id)]), services.discovery_timeout)
    except Exception as error:  # the pod is registered either way
        LOG.warning("Pod %s: endpoint discovery did not finish: %r", pod_id, error)


async def _reply(services: Services, pod_id: str) -> schemas.PodReply:
    async with services.sessions() as session:
        pod = await pods_db.get(session, pod_id)
        return schemas.PodReply(pod=schemas.Pod.model_validate(pod))


@router.post("", response_model=schemas.PodReply, summary="Register a pod")
async def create_pod(body: schemas.PodCreateRequest, context: ContextDep, services: ServicesDep) -> Any:
    services.authorizer.authorize(context, RULE % "create")
    async with services.sessions.begin() as session:
        pod = await pods_db.create(
            session,
            region_name=body.pod.name,
            az_name=body.pod.az_name,
            pod_az_name=body.pod.pod_az_name,
            dc_name=body.pod.dc_name,
        )
        pod_id = pod.pod_id
    await _refresh(services, pod_id)
    return await _reply(services, pod_id)


@router.get("", response_model=schemas.PodsReply, summary="List pods")
async def list_pods(context: ContextDep, services: ServicesDep) -> Any:
    services.authorizer.authorize(context, RULE % "list")
    async with services.sessions() as session:
        pods = await pods_db.list_all(session)
        return schemas.PodsReply(pods=[schemas.Pod.model_validate(p) for p in pods])


@router.get("/{pod_id}", response_model=schemas.PodReply, summary="Show a pod")
async def show_pod(pod_id: IdPath, context: ContextDep, services: ServicesDep) -> Any:
    services.authorizer.authorize(context, RULE % "show")
    return await _reply(services, pod_id)


@router.put("/{pod_id}", response_model=schemas.PodReply, summary="Update a pod")
async def update_pod(pod_id: IdPath, body: schemas.PodUpdateRequest, context: ContextDep, services: ServicesDep) -> Any:
    services.authorizer.authorize(context, RULE % "update")
    changes = body.pod.model_dump(exclude_unset=True)
    async with services.sessions.begin() as session:
        await pods_db.update(session, pod_id, changes)
    if "region_name" in changes:
        await _refresh(services, pod_id)
    return await _reply(services, pod_id)


@router.delete("/{pod_id}", summary="Unregister a pod")
async def delete_pod(pod_id: IdPath, context: ContextDep, services: ServicesDep) -> dict[str, Any]:
    services.authorizer.authorize(context, RULE % "delete")
    async with services.sessions.begin() as session:
        await pods_db.delete(session, pod_id)
    return {}
