"""`/v1.0/pods`: the regions Atoll fronts (Tricircle's shape, plus endpoints and health).

Registering or renaming a pod never waits on the pod: the reply shows status
`unknown`, and the pod's endpoints are discovered and its services probed in
the background (bounded in number and time), or by the engine's next turn.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Request

from atoll.api.deps import ContextDep, IdPath, Services, ServicesDep, only_query_params
from atoll.api.paging import LimitQuery, MarkerQuery, next_links, page_size
from atoll.api.schemas import pods as schemas
from atoll.api.schemas.faults import fault_responses
from atoll.db import pods as pods_db
from atoll.pods.directory import PodDirectory
from atoll.types import PodId

LOG = logging.getLogger(__name__)

router = APIRouter(prefix="/v1.0/pods", tags=["pods"], responses=fault_responses(400, 401, 403, 404, 409))
RULE = "atoll:pods:%s"

REFRESH_SLACK = 10.0
"""Seconds a background refresh may take beyond the probe timeout (the catalog read)."""


def _start_refresh(services: Services, pod_id: str) -> None:
    """Discover and probe a new or renamed pod off the request path."""
    if services.directory is None:
        return
    timeout = services.conf.engine.probe_timeout + REFRESH_SLACK
    task = services.background.spawn(_refresh(services.directory, pod_id, timeout), name=f"refresh-pod-{pod_id}")
    if task is None:
        LOG.info("Pod %s: too many refreshes running; the engine refreshes it at its next turn", pod_id)


async def _refresh(directory: PodDirectory, pod_id: str, timeout: float) -> None:
    # Any other error escapes to the guarded task, which logs it with its traceback.
    try:
        async with asyncio.timeout(timeout):
            await directory.refresh([PodId(pod_id)])
    except TimeoutError:
        LOG.warning(
            "Pod %s: refresh did not finish within %gs; the engine tries again at its next turn", pod_id, timeout
        )


async def _reply(services: Services, pod_id: str) -> schemas.PodReply:
    async with services.sessions() as session:
        pod = await pods_db.get(session, pod_id)
        return schemas.PodReply(pod=schemas.Pod.model_validate(pod))


@router.post("", response_model=schemas.PodReply, dependencies=[only_query_params()], summary="Register a pod")
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
    reply = await _reply(services, pod_id)  # before the refresh starts: the pod as registered
    _start_refresh(services, pod_id)
    return reply


@router.get(
    "", response_model=schemas.PodsReply, dependencies=[only_query_params("limit", "marker")], summary="List pods"
)
async def list_pods(
    request: Request, context: ContextDep, services: ServicesDep, limit: LimitQuery = None, marker: MarkerQuery = None
) -> Any:
    services.authorizer.authorize(context, RULE % "list")
    page = page_size(services, limit)
    async with services.sessions() as session:
        pods, more = await pods_db.list_page(session, limit=page, marker=marker)
        return schemas.PodsReply(
            pods=[schemas.Pod.model_validate(p) for p in pods],
            pods_links=next_links(request, services, "/v1.0/pods", {}, page, pods[-1].pod_id if more else None),
        )


@router.get("/{pod_id}", response_model=schemas.PodReply, dependencies=[only_query_params()], summary="Show a pod")
async def show_pod(pod_id: IdPath, context: ContextDep, services: ServicesDep) -> Any:
    services.authorizer.authorize(context, RULE % "show")
    return await _reply(services, pod_id)


@router.put("/{pod_id}", response_model=schemas.PodReply, dependencies=[only_query_params()], summary="Update a pod")
async def update_pod(pod_id: IdPath, body: schemas.PodUpdateRequest, context: ContextDep, services: ServicesDep) -> Any:
    services.authorizer.authorize(context, RULE % "update")
    changes = body.pod.model_dump(exclude_unset=True)
    async with services.sessions.begin() as session:
        await pods_db.update(session, pod_id, changes)
    reply = await _reply(services, pod_id)
    if "region_name" in changes:
        _start_refresh(services, pod_id)
    return reply


@router.delete("/{pod_id}", dependencies=[only_query_params()], summary="Unregister a pod")
async def delete_pod(pod_id: IdPath, context: ContextDep, services: ServicesDep) -> dict[str, Any]:
    services.authorizer.authorize(context, RULE % "delete")
    async with services.sessions.begin() as session:
        await pods_db.delete(session, pod_id)
    return {}
