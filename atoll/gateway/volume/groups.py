"""Generic volume groups and group snapshots (Cinder 3.13+, 3.14+).

A group is scheduled like a volume (by its AZ, else the scheduler) and made in that pod;
its group type and volume types, named by the ids Atoll shows (the first up pod's), are
passed as that pod's ids of the same names. A group snapshot is made in its group's pod,
and a volume created into a group (`group_id`) in the group's pod. A group made from a
group snapshot or another group (`POST /groups/action`, `create-from-src`) is made in the
source's pod and found there afterwards. Show, update, delete and actions go to the
item's pod; lists are the pods' lists put together.
"""

from __future__ import annotations

from atoll.core.errors import BadRequest
from atoll.gateway.chained import Paging, concatenated
from atoll.gateway.deps import Gateway
from atoll.gateway.http import GatewayRequest, Reply
from atoll.gateway.locate import locate
from atoll.gateway.pipeline import CreatePipeline, CreatePlan, Step
from atoll.gateway.router import Route
from atoll.gateway.volume import routed, types
from atoll.gateway.volume.volumes import pinned_by, run
from atoll.resources.volume import GROUP, GROUP_SNAPSHOT

READ = ("GET",)


def types_in_pod(ids: types.GlobalIds) -> Step:
    """The group type and volume types of a new group, as the chosen pod knows them."""

    async def step(_gw: Gateway, plan: CreatePlan) -> None:
        assert plan.pod is not None
        group_type = plan.member.get("group_type")
        if isinstance(group_type, str):
            plan.member["group_type"] = await ids.group_types.in_pod(plan.request, plan.pod, group_type) or group_type
        volume_types = plan.member.get("volume_types")
        if isinstance(volume_types, list):
            plan.member["volume_types"] = [
                (await ids.types.in_pod(plan.request, plan.pod, t) or t) if isinstance(t, str) else t
                for t in volume_types
            ]

    return step


def routes(gw: Gateway, ids: types.GlobalIds) -> list[Route]:
    groups = CreatePipeline(GROUP, prepare=[types_in_pod(ids)])
    snapshots = CreatePipeline(GROUP_SNAPSHOT, constrain=[pinned_by((("group_id", GROUP),))])

    async def create_group(request: GatewayRequest) -> Reply:
        return await run(gw, groups, request)

    async def create_snapshot(request: GatewayRequest) -> Reply:
        return await run(gw, snapshots, request)

    async def from_source(request: GatewayRequest) -> Reply:
        """`create-from-src`: in the pod of the group snapshot or group it is made from."""
        document = await request.json()
        source = document.get("create-from-src") if isinstance(document, dict) else None
        if not isinstance(source, dict):
            raise BadRequest("Invalid input: the request body must hold a 'create-from-src' object.")
        for field, resource in (("group_snapshot_id", GROUP_SNAPSHOT), ("source_group_id", GROUP)):
            value = source.get(field)
            if isinstance(value, str):
                located = await locate(gw, request, resource, value)
                return routed.show_atoll_az(await gw.forwarder.forward(request, located.pod), located.pod)
        raise BadRequest("Either 'group_snapshot_id' or 'source_group_id' must be provided.")

    listed_groups = concatenated(gw, "groups", routed.show_atoll_az, Paging("id", "group_links"))
    listed_snapshots = concatenated(gw, "group_snapshots", paging=Paging("id", "group_snapshot_links", (3, 29)))
    shown = ids.shown_in  # a group's `group_type` and `volume_types` are Atoll's ids
    return [
        Route("POST", "/groups", shown(create_group)),
        Route("POST", "/groups/action", shown(from_source)),
        Route(READ, "/groups", shown(listed_groups)),
        Route(READ, "/groups/detail", shown(listed_groups)),
        Route(("GET", "PUT", "DELETE"), "/groups/{item_id}", shown(routed.member(gw, GROUP))),
        Route(("GET", "POST"), "/groups/{item_id}/{rest:path}", routed.sub_resource(gw, GROUP)),
        Route("POST", "/group_snapshots", create_snapshot),
        Route(READ, "/group_snapshots", listed_snapshots),
        Route(READ, "/group_snapshots/detail", listed_snapshots),
        Route(("GET", "PUT", "DELETE"), "/group_snapshots/{item_id}", routed.member(gw, GROUP_SNAPSHOT)),
        Route(("GET", "POST"), "/group_snapshots/{item_id}/{rest:path}", routed.sub_resource(gw, GROUP_SNAPSHOT)),
    ]
