"""`/v1.0/resources`: one project's resources in every pod and the central Neutron (Kingbird's global view).

A project's readers see their own project's resources; an admin may name any
project (`atoll:resources:list_all_projects`). Pods that do not answer are named
in ``partial_pods`` and the ``Atoll-Partial-Pods`` header, never a 500.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from atoll.api.deps import ContextDep, FilterQuery, ServicesDep, only_query_params
from atoll.api.paging import LimitQuery, next_links, page_size
from atoll.api.schemas import resources as schemas
from atoll.api.schemas.faults import fault_responses
from atoll.core.errors import InvalidInput, ServiceUnavailable
from atoll.inventory import KINDS, Kind, ViewQuery

router = APIRouter(prefix="/v1.0/resources", tags=["resources"], responses=fault_responses(400, 401, 403, 404, 503))
RULE = "atoll:resources:%s"
PARTIAL_HEADER = "Atoll-Partial-Pods"

TypeQuery = Annotated[
    str | None, Query(max_length=255, description=f"A comma-separated list of {', '.join(KINDS)} (default: all).")
]
ViewMarkerQuery = Annotated[
    str | None,
    Query(max_length=16384, pattern=r"^[A-Za-z0-9._-]*$", description="The marker of the previous page's next link."),
]


def kinds(text: str | None) -> list[Kind]:
    if text is None:
        return list(KINDS.values())
    names = [name.strip() for name in text.split(",")]
    unknown = [name for name in names if name not in KINDS]
    if unknown:
        raise InvalidInput(f"Unknown resource type(s): {', '.join(unknown)}. Known types: {', '.join(KINDS)}.")
    return [kind for name, kind in KINDS.items() if name in names]


@router.get(
    "",
    response_model=schemas.ResourcesReply,
    dependencies=[only_query_params("project_id", "type", "pod", "az", "limit", "marker")],
    summary="List a project's resources in every pod",
)
async def list_resources(
    request: Request,
    response: Response,
    context: ContextDep,
    services: ServicesDep,
    project_id: FilterQuery = None,
    type: TypeQuery = None,
    pod: FilterQuery = None,
    az: FilterQuery = None,
    limit: LimitQuery = None,
    marker: ViewMarkerQuery = None,
) -> Any:
    project = project_id or context.project_id
    own = project is not None and project == context.project_id
    rule = RULE % ("list" if own else "list_all_projects")
    services.authorizer.authorize(context, rule, {"project_id": project})
    if project is None:
        raise InvalidInput("Name the project with project_id: the token has none.")
    wanted = kinds(type)
    if services.resource_view is None:
        raise ServiceUnavailable("Atoll has no [service_auth] credentials to list the pods' resources.")
    size = page_size(services, limit)
    user = context.user_id if own else None
    query = ViewQuery(project, wanted, user=user, pod=pod, az=az, limit=size, marker=marker)
    page = await services.resource_view.page(query)
    if page.partial:
        response.headers[PARTIAL_HEADER] = ",".join(page.partial)
    filters = {"project_id": project, "type": type, "pod": pod, "az": az}
    shown = {name: value for name, value in filters.items() if value is not None}
    links = next_links(request, services, request.url.path, shown, size, page.next)
    return schemas.ResourcesReply(resources=page.items, resources_links=links, partial_pods=page.partial)
