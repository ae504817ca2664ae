"""`/v1.0/{project_id}/os-sync`: Kingbird's resource sync, on Atoll's jobs.

The project in the path is the one whose resources are synced: a member's own, or any
for an admin (403 otherwise). A request is one parent job with a child per (target,
resource), written in one transaction; another project's job is not found.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from atoll.api.deps import ContextDep, IdPath, Services, ServicesDep, only_query_params
from atoll.api.schemas import sync as schemas
from atoll.api.schemas.faults import fault_responses
from atoll.context import RequestContext
from atoll.core.errors import Conflict, InvalidInput
from atoll.db import pods as pods_db
from atoll.db.models import Job, utcnow
from atoll.jobs import admin
from atoll.jobs.enqueue import enqueue
from atoll.sync import request as sync_request
from atoll.sync import store

router = APIRouter(
    prefix="/v1.0/{project_id}/os-sync", tags=["sync"], responses=fault_responses(400, 401, 403, 404, 409)
)
RULE = "atoll:sync:%s"
SINGLE = ("resource_type", "resources", "source", "target")


def _regions(value: list[str] | str | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _item(entry: schemas.SyncEntry | schemas.ResourceSet) -> sync_request.SyncItem:
    return sync_request.SyncItem(
        resource_type=entry.resource_type or "",
        resources=list(entry.resources or []),
        source=_regions(entry.source),
        target=_regions(entry.target),
        force=sync_request.parse_force(entry.force),
        user_id=entry.user_id,
    )


def _items(body: schemas.ResourceSet) -> list[sync_request.SyncItem]:
    given = body.model_fields_set - {"Sync"}
    if body.Sync is not None:
        if given:
            raise InvalidInput(f"resource_set has Sync and also {', '.join(sorted(given))}: use one form or the other.")
        return [_item(entry) for entry in body.Sync]
    missing = [name for name in SINGLE if getattr(body, name) is None]
    if missing:
        raise InvalidInput(f"Missing field(s) resource_set.{', resource_set.'.join(missing)} in the request body.")
    return [_item(body)]


def _authorize_kinds(
    services: Services, context: RequestContext, project_id: str, items: list[sync_request.SyncItem]
) -> None:
    """What some resource types need beyond atoll:sync:create."""
    target = {"project_id": project_id}
    if any(item.resource_type == "flavor" for item in items):
        services.authorizer.authorize(context, RULE % "flavor", target)
    if any(item.user_id is not None and item.user_id != context.user_id for item in items):
        services.authorizer.authorize(context, RULE % "keypair_other_user", target)


@router.post(
    "", response_model=schemas.JobStatusReply, dependencies=[only_query_params()], summary="Sync resources between pods"
)
async def create_sync(project_id: IdPath, body: schemas.SyncRequest, context: ContextDep, services: ServicesDep) -> Any:
    services.authorizer.authorize(context, RULE % "create", {"project_id": project_id})
    items = _items(body.resource_set)
    async with services.sessions.begin() as session:
        regions = {p.region_name for p in await pods_db.list_all(session) if not p.is_top}
        new = sync_request.build(services.job_types, project_id, str(context.user_id), items, regions)
        _authorize_kinds(services, context, project_id, items)
        job_id = await enqueue(session, new, now=utcnow())
        job = await admin.get(session, job_id)
        view = schemas.JobStatusView(id=job.id, status=store.kingbird_status(job.status), created_at=job.created_at)
    return schemas.JobStatusReply(job_status=view)


def _summary(job: Job) -> schemas.SyncJob:
    return schemas.SyncJob(
        id=job.id, sync_status=store.kingbird_status(job.status), created_at=job.created_at, updated_at=job.updated_at
    )


async def _list(services: Services, context: RequestContext, project_id: str, *, active: bool) -> Any:
    services.authorizer.authorize(context, RULE % "list", {"project_id": project_id})
    async with services.sessions() as session:
        rows = await store.requests(session, project_id, active=active)
    return schemas.SyncJobsReply(job_set=[_summary(r) for r in rows])


@router.get("", response_model=schemas.SyncJobsReply, dependencies=[only_query_params()], summary="List sync jobs")
async def list_syncs(project_id: IdPath, context: ContextDep, services: ServicesDep) -> Any:
    return await _list(services, context, project_id, active=False)


@router.get(
    "/active",
    response_model=schemas.SyncJobsReply,
    dependencies=[only_query_params()],
    summary="List running sync jobs",
)
async def list_active_syncs(project_id: IdPath, context: ContextDep, services: ServicesDep) -> Any:
    return await _list(services, context, project_id, active=True)


def _part(job: Job) -> schemas.SyncPart:
    r = job.resource
    return schemas.SyncPart(
        id=job.id,
        source_region=r["source"],
        target_region=r["target"],
        resource=r["resource"],
        resource_type=r["resource_type"],
        sync_status=store.kingbird_status(job.status),
        reason=job.reason,
        created_at=job.created_at,
        updated_at=job.updated_at,
    )


@router.get(
    "/{job_id}", response_model=schemas.SyncPartsReply, dependencies=[only_query_params()], summary="Show a sync job"
)
async def show_sync(project_id: IdPath, job_id: IdPath, context: ContextDep, services: ServicesDep) -> Any:
    services.authorizer.authorize(context, RULE % "show", {"project_id": project_id})
    async with services.sessions() as session:
        job = await store.request(session, project_id, job_id)
        parts = await store.parts(session, job.id)
    return schemas.SyncPartsReply(job_set=[_part(p) for p in parts])


@router.delete("/{job_id}", dependencies=[only_query_params()], summary="Delete a finished sync job")
async def delete_sync(project_id: IdPath, job_id: IdPath, context: ContextDep, services: ServicesDep) -> Any:
    services.authorizer.authorize(context, RULE % "delete", {"project_id": project_id})
    async with services.sessions.begin() as session:
        job = await store.request(session, project_id, job_id)
        if job.status in store.ACTIVE:
            raise Conflict(f"Sync job {job_id} is in progress; delete it when it has finished.")
        await admin.delete(session, job, utcnow())
    return f"job {job_id} deleted from the database."
