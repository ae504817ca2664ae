"""`/v1.0/sync-policies`: keep resources present and identical in a set of pods (beyond Kingbird).

A policy belongs to a project: an admin makes any (and for any project), a member makes
its own project's keypair and security group policies (the `atoll:sync_policies:type:*`
rules). Readers see their project's policies only; another project's is not found. The
engine checks a policy at once when it is created or changed, then every `[sync]
policy_interval`, and repairs what drifted (`atoll.sync.reconcile`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from atoll.api.deps import ContextDep, FilterQuery, IdPath, Services, ServicesDep, only_query_params
from atoll.api.paging import LimitQuery, MarkerQuery, next_links, page_size
from atoll.api.schemas import sync_policies as schemas
from atoll.api.schemas.faults import fault_responses
from atoll.api.sync_policy_view import check_pods, detail, summary
from atoll.context import RequestContext
from atoll.core.errors import InvalidInput, NotFound
from atoll.db import pods as pods_db
from atoll.db import sync_policies as db
from atoll.db.models import SyncPolicy, utcnow
from atoll.jobs.enqueue import enqueue
from atoll.sync import policy_jobs
from atoll.sync.policy import targets, unique

router = APIRouter(
    prefix="/v1.0/sync-policies", tags=["sync policies"], responses=fault_responses(400, 401, 403, 404, 409)
)
RULE = "atoll:sync_policies:%s"
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")

TypeQuery = Annotated[str | None, Query(pattern=r"^(keypair|flavor|security_group|image)$")]
FlagQuery = Annotated[str | None, Query(max_length=8, description="true: delete the copies in the target pods.")]


def _authorize(services: Services, context: RequestContext, action: str, project_id: str, resource_type: str) -> None:
    target = {"project_id": project_id}
    services.authorizer.authorize(context, RULE % action, target)
    services.authorizer.authorize(context, RULE % f"type:{resource_type}", target)


async def _visible(services: Services, context: RequestContext, policy_id: str) -> SyncPolicy:
    async with services.sessions() as session:
        policy = await db.get(session, policy_id)
    if not services.authorizer.check(context, RULE % "show", {"project_id": policy.project_id}):
        raise NotFound(f"Sync policy {policy_id} could not be found.")
    return policy


@router.post("", response_model=schemas.SyncPolicyReply, dependencies=[only_query_params()], summary="Make a policy")
async def create_policy(
    body: schemas.SyncPolicyCreateRequest, context: ContextDep, services: ServicesDep
) -> schemas.SyncPolicyReply:
    new = body.sync_policy
    project = new.project_id or str(context.project_id)
    _authorize(services, context, "create", project, new.resource_type)
    if new.user_id is not None and new.resource_type != "keypair":
        raise InvalidInput("user_id applies to keypair policies only.")
    if new.user_id is not None and new.user_id != context.user_id:
        services.authorizer.authorize(context, RULE % "keypair_other_user", {"project_id": project})
    target = new.target.as_json()
    async with services.sessions.begin() as session:
        pods = await pods_db.list_all(session)
        check_pods(new.source, target, pods)
        now = utcnow()
        values = {
            "name": new.name,
            "project_id": project,
            "user_id": new.user_id or str(context.user_id),
            "resource_type": new.resource_type,
            "resources": unique(new.resources),
            "source": new.source,
            "target": target,
            "next_check_at": now,  # the engine checks a new policy at its next scan
            "source_error": "",
            "created_at": now,
        }
        policy = await db.create(session, values)
        return schemas.SyncPolicyReply(sync_policy=detail(policy, [], pods))


@router.get(
    "",
    response_model=schemas.SyncPoliciesReply,
    dependencies=[only_query_params("limit", "marker", *db.FILTERS)],
    summary="List policies",
)
async def list_policies(
    request: Request,
    context: ContextDep,
    services: ServicesDep,
    limit: LimitQuery = None,
    marker: MarkerQuery = None,
    project_id: FilterQuery = None,
    resource_type: TypeQuery = None,
    name: FilterQuery = None,
    source: FilterQuery = None,
) -> schemas.SyncPoliciesReply:
    given = {"project_id": project_id, "resource_type": resource_type, "name": name, "source": source}
    filters: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    project = project_id or str(context.project_id)
    services.authorizer.authorize(context, RULE % "list", {"project_id": project})
    if not services.authorizer.check(context, RULE % "list_all_projects", {"project_id": project}):
        filters["project_id"] = project
    page = page_size(services, limit)
    async with services.sessions() as session:
        rows, more = await db.list_page(session, filters, limit=page, marker=marker)
        states = await db.pods_of(session, [r.id for r in rows])
        pods = await pods_db.list_all(session)
    links = next_links(request, services, "/v1.0/sync-policies", filters, page, rows[-1].id if more else None)
    return schemas.SyncPoliciesReply(
        sync_policies=[summary(r, states[r.id], pods) for r in rows], sync_policies_links=links
    )


@router.get(
    "/{policy_id}",
    response_model=schemas.SyncPolicyReply,
    dependencies=[only_query_params()],
    summary="Show a policy and the state of each target pod",
)
async def show_policy(policy_id: IdPath, context: ContextDep, services: ServicesDep) -> schemas.SyncPolicyReply:
    policy = await _visible(services, context, policy_id)
    async with services.sessions() as session:
        states = await db.pods_of(session, [policy.id])
        pods = await pods_db.list_all(session)
    return schemas.SyncPolicyReply(sync_policy=detail(policy, states[policy.id], pods))


@router.put(
    "/{policy_id}",
    response_model=schemas.SyncPolicyReply,
    dependencies=[only_query_params()],
    summary="Change a policy",
)
async def update_policy(
    policy_id: IdPath, body: schemas.SyncPolicyUpdateRequest, context: ContextDep, services: ServicesDep
) -> schemas.SyncPolicyReply:
    seen = await _visible(services, context, policy_id)
    _authorize(services, context, "update", seen.project_id, seen.resource_type)
    changes = body.sync_policy
    async with services.sessions.begin() as session:
        policy = await db.get(session, policy_id, for_update=True)
        pods = await pods_db.list_all(session)
        target = changes.target.as_json() if changes.target is not None else policy.target
        source = changes.source if changes.source is not None else policy.source
        if changes.source is not None or changes.target is not None:
            check_pods(source, target, pods)
        if changes.name is not None:
            policy.name = changes.name
        if changes.resources is not None:
            policy.resources = unique(changes.resources)
        policy.source, policy.target = source, target
        policy.next_check_at = utcnow()  # checked again at the engine's next scan
        await session.flush()
        states = await db.pods_of(session, [policy.id])
        return schemas.SyncPolicyReply(sync_policy=detail(policy, states[policy.id], pods))


def _flag(value: str | None) -> bool:
    if value is None or value.strip().lower() in FALSE:
        return False
    if value.strip().lower() in TRUE:
        return True
    raise InvalidInput(f"Invalid value for remove_copies: {value!r}; use true or false.")


@router.delete(
    "/{policy_id}",
    response_model=schemas.RemovalReply,
    dependencies=[only_query_params("remove_copies")],
    summary="Delete a policy (its copies stay unless remove_copies=true)",
)
async def delete_policy(
    policy_id: IdPath, context: ContextDep, services: ServicesDep, remove_copies: FlagQuery = None
) -> schemas.RemovalReply:
    remove = _flag(remove_copies)
    seen = await _visible(services, context, policy_id)
    _authorize(services, context, "delete", seen.project_id, seen.resource_type)
    job_id = None
    async with services.sessions.begin() as session:
        policy = await db.get(session, policy_id, for_update=True)
        if remove:
            pods = await pods_db.list_all(session)
            checked = [r.pod for r in (await db.pods_of(session, [policy.id]))[policy.id]]
            where = unique([*targets(policy.target, policy.source, pods), *checked])
            removal = policy_jobs.removal(services.job_types, policy, where, policy.resources)
            if removal is not None:
                job_id = await enqueue(session, removal, now=utcnow())
        await db.delete(session, policy)
    return schemas.RemovalReply(job_id=job_id)
