"""`/v1.0/jobs`: Atoll's background jobs, in Tricircle's shape.

A project's readers see its jobs; admins see every project's (the
`atoll:jobs:list_all_projects` rule). Another project's job is reported as not
found, not forbidden, so its existence is not disclosed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from atoll.api.deps import ContextDep, FilterQuery, IdPath, Services, ServicesDep, only_query_params
from atoll.api.paging import LimitQuery, MarkerQuery, next_links, page_size
from atoll.api.schemas import jobs as schemas
from atoll.api.schemas.faults import fault_responses
from atoll.context import RequestContext
from atoll.core.errors import InvalidInput, NotFound
from atoll.db.models import Job, utcnow
from atoll.jobs import admin
from atoll.jobs.enqueue import NewJob, enqueue

router = APIRouter(prefix="/v1.0/jobs", tags=["jobs"], responses=fault_responses(400, 401, 403, 404, 409))
RULE = "atoll:jobs:%s"
LIST_PARAMS = ("limit", "marker", *admin.FILTERS)

StatusQuery = Annotated[
    str | None,
    Query(pattern=r"^(?i:new|running|success|fail)$", description="NEW, RUNNING, SUCCESS or FAIL, in any case."),
]


async def _visible(services: Services, context: RequestContext, job_id: str) -> Job:
    async with services.sessions() as session:
        job = await admin.get(session, job_id)
    if not services.authorizer.check(context, RULE % "show", {"project_id": job.project_id}):
        raise NotFound(f"Job {job_id} could not be found.")
    return job


async def _list(request: Request, context: RequestContext, services: Services, **params: Any) -> schemas.JobsReply:
    limit, marker = params.pop("limit"), params.pop("marker")
    filters = {k: v for k, v in params.items() if v is not None}
    if "status" in filters:
        filters["status"] = filters["status"].upper()
    project = filters.get("project_id", context.project_id)
    services.authorizer.authorize(context, RULE % "list", {"project_id": project})
    if not services.authorizer.check(context, RULE % "list_all_projects", {"project_id": project}):
        filters["project_id"] = project
    page = page_size(services, limit)
    async with services.sessions() as session:
        before = await admin.marker(session, marker, filters) if marker is not None else None
        rows, more = await admin.list_page(session, filters, limit=page, before=before)
    links = next_links(request, services, request.url.path, filters, page, rows[-1].id if more else None)
    return schemas.JobsReply(jobs=[schemas.job_view(r) for r in rows], jobs_links=links)


@router.get("", response_model=schemas.JobsReply, dependencies=[only_query_params(*LIST_PARAMS)], summary="List jobs")
async def list_jobs(
    request: Request,
    context: ContextDep,
    services: ServicesDep,
    limit: LimitQuery = None,
    marker: MarkerQuery = None,
    type: FilterQuery = None,
    status: StatusQuery = None,
    project_id: FilterQuery = None,
    parent_id: FilterQuery = None,
) -> Any:
    params = {"type": type, "status": status, "project_id": project_id, "parent_id": parent_id}
    return await _list(request, context, services, limit=limit, marker=marker, **params)


@router.get(
    "/detail",
    response_model=schemas.JobsReply,
    dependencies=[only_query_params(*LIST_PARAMS)],
    summary="List jobs (the same as GET /v1.0/jobs)",
)
async def list_jobs_detail(
    request: Request,
    context: ContextDep,
    services: ServicesDep,
    limit: LimitQuery = None,
    marker: MarkerQuery = None,
    type: FilterQuery = None,
    status: StatusQuery = None,
    project_id: FilterQuery = None,
    parent_id: FilterQuery = None,
) -> Any:
    params = {"type": type, "status": status, "project_id": project_id, "parent_id": parent_id}
    return await _list(request, context, services, limit=limit, marker=marker, **params)


@router.get(
    "/schemas",
    response_model=schemas.JobSchemasReply,
    dependencies=[only_query_params()],
    summary="List job types and the resource keys each needs",
)
async def job_schemas(context: ContextDep, services: ServicesDep) -> Any:
    services.authorizer.authorize(context, RULE % "schemas")
    found = [schemas.JobSchema(type=t.name, resource=list(t.resource)) for t in services.job_types]
    return schemas.JobSchemasReply(schemas=found)


@router.get("/{job_id}", response_model=schemas.JobReply, dependencies=[only_query_params()], summary="Show a job")
async def show_job(job_id: IdPath, context: ContextDep, services: ServicesDep) -> Any:
    return schemas.JobReply(job=schemas.job_view(await _visible(services, context, job_id)))


def _new_job(services: Services, body: schemas.JobCreate) -> NewJob:
    job_type = services.job_types.get(body.type)
    if job_type is None:
        raise InvalidInput(f"There is no such job type: {body.type}.")
    if not job_type.api_create:
        raise InvalidInput(f"Jobs of type {body.type} are made by Atoll itself; they cannot be created by a request.")
    missing = sorted(set(job_type.resource) - set(body.resource))
    redundant = sorted(set(body.resource) - set(job_type.resource))
    if missing:
        raise InvalidInput(f"Missing resource key(s) of a {body.type} job: {', '.join(missing)}.")
    if redundant:
        raise InvalidInput(f"Unknown resource key(s) for a {body.type} job: {', '.join(redundant)}.")
    return NewJob(job_type, body.project_id, body.resource)


@router.post(
    "",
    response_model=schemas.JobReply,
    status_code=202,
    dependencies=[only_query_params()],
    summary="Create a job",
)
async def create_job(body: schemas.JobCreateRequest, context: ContextDep, services: ServicesDep) -> Any:
    services.authorizer.authorize(context, RULE % "create", {"project_id": body.job.project_id})
    new = _new_job(services, body.job)
    async with services.sessions.begin() as session:
        job_id = await enqueue(session, new, now=utcnow())
        return schemas.JobReply(job=schemas.job_view(await admin.get(session, job_id)))


@router.put(
    "/{job_id}",
    response_model=schemas.JobReply,
    dependencies=[only_query_params()],
    summary="Redo a NEW or FAIL job now",
)
async def redo_job(
    job_id: IdPath, context: ContextDep, services: ServicesDep, body: schemas.JobRedoRequest | None = None
) -> Any:
    job = await _visible(services, context, job_id)
    services.authorizer.authorize(context, RULE % "redo", {"project_id": job.project_id})
    async with services.sessions.begin() as session:
        await admin.redo(session, job, utcnow())
    async with services.sessions() as session:
        return schemas.JobReply(job=schemas.job_view(await admin.get(session, job_id)))


@router.delete("/{job_id}", dependencies=[only_query_params()], summary="Delete a job that is not running")
async def delete_job(job_id: IdPath, context: ContextDep, services: ServicesDep) -> dict[str, Any]:
    job = await _visible(services, context, job_id)
    services.authorizer.authorize(context, RULE % "delete", {"project_id": job.project_id})
    async with services.sessions.begin() as session:
        await admin.delete(session, job, utcnow())
    return {}
