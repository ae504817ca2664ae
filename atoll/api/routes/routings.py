"""`/v1.0/routings`: top resource id -> bottom resource id in a pod.

Readers may list and show the routings of their own project; a caller passing
`atoll:routings:list_all_projects` (an admin, by default) lists every project's.
A routing of another project is reported as not found, not forbidden, so its
existence is not disclosed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from atoll.api.deps import ContextDep, FilterQuery, IntIdPath, Services, ServicesDep, only_query_params
from atoll.api.paging import LimitQuery, next_links, page_size
from atoll.api.schemas import routings as schemas
from atoll.api.schemas.faults import fault_responses
from atoll.context import RequestContext
from atoll.core.errors import NotFound
from atoll.db import routings as routings_db
from atoll.types import ResourceType

router = APIRouter(prefix="/v1.0/routings", tags=["routings"], responses=fault_responses(400, 401, 403, 404, 409))
RULE = "atoll:routings:%s"
FILTERS = ("id", "top_id", "bottom_id", "pod_id", "project_id", "resource_type")

IdParam = Annotated[int | None, Query(ge=1, le=2**63 - 1)]


async def _visible(services: Services, context: RequestContext, routing_id: int) -> Any:
    async with services.sessions() as session:
        routing = await routings_db.get(session, routing_id)
    if not services.authorizer.check(context, RULE % "show", {"project_id": routing.project_id}):
        raise NotFound(f"Routing {routing_id} could not be found.")
    return routing


@router.get(
    "",
    response_model=schemas.RoutingsReply,
    dependencies=[only_query_params("limit", "marker", *FILTERS)],
    summary="List routings",
)
async def list_routings(
    request: Request,
    context: ContextDep,
    services: ServicesDep,
    limit: LimitQuery = None,
    marker: IdParam = None,
    id: IdParam = None,
    top_id: FilterQuery = None,
    bottom_id: FilterQuery = None,
    pod_id: FilterQuery = None,
    project_id: FilterQuery = None,
    resource_type: ResourceType | None = None,
) -> Any:
    values: dict[str, Any] = {"id": id, "top_id": top_id, "bottom_id": bottom_id, "pod_id": pod_id}
    values |= {"project_id": project_id, "resource_type": resource_type}
    filters: dict[str, Any] = {k: v for k, v in values.items() if v is not None}
    project = project_id or context.project_id
    services.authorizer.authorize(context, RULE % "list", {"project_id": project})
    if not services.authorizer.check(context, RULE % "list_all_projects", {"project_id": project}):
        filters["project_id"] = project
    page = page_size(services, limit)
    async with services.sessions() as session:
        rows, more = await routings_db.list_page(session, filters, limit=page, marker=marker)
    links = next_links(request, services, "/v1.0/routings", filters, page, rows[-1].id if more else None)
    return schemas.RoutingsReply(routings=[schemas.Routing.model_validate(r) for r in rows], routings_links=links)


@router.post("", response_model=schemas.RoutingReply, dependencies=[only_query_params()], summary="Create a routing")
async def create_routing(body: schemas.RoutingCreateRequest, context: ContextDep, services: ServicesDep) -> Any:
    services.authorizer.authorize(context, RULE % "create", {"project_id": body.routing.project_id})
    async with services.sessions.begin() as session:
        routing = await routings_db.create(session, body.routing.model_dump(mode="json"))
        return schemas.RoutingReply(routing=schemas.Routing.model_validate(routing))


@router.get(
    "/{routing_id}", response_model=schemas.RoutingReply, dependencies=[only_query_params()], summary="Show a routing"
)
async def show_routing(routing_id: IntIdPath, context: ContextDep, services: ServicesDep) -> Any:
    routing = await _visible(services, context, routing_id)
    return schemas.RoutingReply(routing=schemas.Routing.model_validate(routing))


@router.put(
    "/{routing_id}", response_model=schemas.RoutingReply, dependencies=[only_query_params()], summary="Update a routing"
)
async def update_routing(
    routing_id: IntIdPath, body: schemas.RoutingUpdateRequest, context: ContextDep, services: ServicesDep
) -> Any:
    routing = await _visible(services, context, routing_id)
    services.authorizer.authorize(context, RULE % "update", {"project_id": routing.project_id})
    async with services.sessions.begin() as session:
        updated = await routings_db.update(
            session, routing_id, body.routing.model_dump(mode="json", exclude_unset=True)
        )
        return schemas.RoutingReply(routing=schemas.Routing.model_validate(updated))


@router.delete("/{routing_id}", dependencies=[only_query_params()], summary="Delete a routing")
async def delete_routing(routing_id: IntIdPath, context: ContextDep, services: ServicesDep) -> dict[str, Any]:
    routing = await _visible(services, context, routing_id)
    services.authorizer.authorize(context, RULE % "delete", {"project_id": routing.project_id})
    async with services.sessions.begin() as session:
        await routings_db.delete(session, routing_id)
    return {}
