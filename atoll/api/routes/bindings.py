"""`/v1.0/bindings`: which bottom pod a project's resources are placed in."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from atoll.api.deps import ContextDep, FilterQuery, IdPath, ServicesDep, only_query_params
from atoll.api.paging import LimitQuery, MarkerQuery, next_links, page_size
from atoll.api.schemas import bindings as schemas
from atoll.api.schemas.faults import fault_responses
from atoll.db import bindings as bindings_db

router = APIRouter(prefix="/v1.0/bindings", tags=["bindings"], responses=fault_responses(400, 401, 403, 404, 409))
RULE = "atoll:bindings:%s"


@router.post("", response_model=schemas.BindingReply, dependencies=[only_query_params()], summary="Bind a project")
async def create_binding(body: schemas.BindingCreateRequest, context: ContextDep, services: ServicesDep) -> Any:
    services.authorizer.authorize(context, RULE % "create")
    async with services.sessions.begin() as session:
        binding = await bindings_db.create(session, **body.pod_binding.model_dump())
        return schemas.BindingReply(pod_binding=schemas.Binding.model_validate(binding))


@router.get(
    "",
    response_model=schemas.BindingsReply,
    dependencies=[only_query_params("limit", "marker", "tenant_id", "pod_id")],
    summary="List bindings",
)
async def list_bindings(
    request: Request,
    context: ContextDep,
    services: ServicesDep,
    limit: LimitQuery = None,
    marker: MarkerQuery = None,
    tenant_id: FilterQuery = None,
    pod_id: FilterQuery = None,
) -> Any:
    services.authorizer.authorize(context, RULE % "list")
    filters = {k: v for k, v in (("tenant_id", tenant_id), ("pod_id", pod_id)) if v is not None}
    page = page_size(services, limit)
    async with services.sessions() as session:
        rows, more = await bindings_db.list_page(session, limit=page, marker=marker, **filters)
        return schemas.BindingsReply(
            pod_bindings=[schemas.Binding.model_validate(b) for b in rows],
            pod_bindings_links=next_links(
                request, services, "/v1.0/bindings", filters, page, rows[-1].id if more else None
            ),
        )


@router.get(
    "/{binding_id}", response_model=schemas.BindingReply, dependencies=[only_query_params()], summary="Show a binding"
)
async def show_binding(binding_id: IdPath, context: ContextDep, services: ServicesDep) -> Any:
    services.authorizer.authorize(context, RULE % "show")
    async with services.sessions() as session:
        binding = await bindings_db.get(session, binding_id)
        return schemas.BindingReply(pod_binding=schemas.Binding.model_validate(binding))


@router.put(
    "/{binding_id}",
    response_model=schemas.BindingReply,
    dependencies=[only_query_params()],
    summary="Activate or deactivate a binding",
)
async def update_binding(
    binding_id: IdPath, body: schemas.BindingUpdateRequest, context: ContextDep, services: ServicesDep
) -> Any:
    services.authorizer.authorize(context, RULE % "update")
    async with services.sessions.begin() as session:
        binding = await bindings_db.update(session, binding_id, is_binding=body.pod_binding.is_binding)
        return schemas.BindingReply(pod_binding=schemas.Binding.model_validate(binding))


@router.delete("/{binding_id}", dependencies=[only_query_params()], summary="Delete a binding")
async def delete_binding(binding_id: IdPath, context: ContextDep, services: ServicesDep) -> dict[str, Any]:
    services.authorizer.authorize(context, RULE % "delete")
    async with services.sessions.begin() as session:
        await bindings_db.delete(session, binding_id)
    return {}
