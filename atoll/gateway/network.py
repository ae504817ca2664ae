"""Neutron through Atoll: `/network/v2.0/...`, served by the central Neutron (the source of truth
for networks, subnets, ports, security groups and IP/MAC allocation). The network part
realizes those objects in a pod when a server there uses them (a create-pipeline step);
deleting a network, subnet or security group here deletes its copies in the pods too."""

from __future__ import annotations

import asyncio
import logging

from atoll.core import jsonfast
from atoll.core.errors import AtollError, ServiceUnavailable
from atoll.gateway import neutron as gateway_neutron
from atoll.gateway.compute.ports import realizer_for
from atoll.gateway.deps import Gateway
from atoll.gateway.http import GatewayRequest, Reply
from atoll.gateway.router import Route, Router
from atoll.network import neutron
from atoll.network.neutron import Neutron
from atoll.network.remove import remove_copies
from atoll.pods.info import PodInfo
from atoll.routing.store import Route as Route_
from atoll.types import PodId, ResourceType

LOG = logging.getLogger(__name__)

_KINDS = {
    "networks": ResourceType.NETWORK,
    "subnets": ResourceType.SUBNET,
    "security-groups": ResourceType.SECURITY_GROUP,
}


async def refresh_copies(gw: Gateway, request: GatewayRequest, groups: set[str]) -> None:
    """The pods' copies of `groups` given the top groups' rules, in every up pod at once, with the
    caller's token (whose copies they are). A pod that is down or fails keeps its copy's old rules
    until a server there next uses the group (the realizer brings it up to date then)."""
    snapshot = await gw.pods()

    async def one(top_id: str, route: Route_) -> None:
        pod = snapshot.get(route.pod_id)
        if pod is None or not pod.is_up or not route.bottom_id:
            LOG.warning(
                "Security group %s: its copy in pod %s keeps its old rules for now (the pod is down)",
                top_id,
                pod.name if pod is not None else route.pod_id,
            )
            return
        try:
            await realizer_for(gw, request, pod).refresh_rules(top_id, route.bottom_id)
        except Exception:
            LOG.warning(
                "Security group %s: its copy in pod %s keeps its old rules for now", top_id, pod.name, exc_info=True
            )

    found = [(top_id, await gw.routings.routes(top_id, ResourceType.SECURITY_GROUP)) for top_id in sorted(groups)]
    await asyncio.gather(*(one(top_id, route) for top_id, routes in found for route in routes))


def router(gw: Gateway) -> Router:
    def central_pod() -> PodInfo:
        pod = gw.central_neutron()
        if pod is None:
            raise ServiceUnavailable("Atoll's network API has no central Neutron: set [gateway] central_neutron_url.")
        return pod

    async def central(request: GatewayRequest) -> Reply:
        return await gw.forwarder.forward(request, central_pod())

    async def update(request: GatewayRequest) -> Reply:
        reply = await central(request)
        if reply.status < 300:
            gw.top_names.forget(request.params["collection"], request.params["item_id"])
        return reply

    async def delete(request: GatewayRequest) -> Reply:
        collection, top_id = request.params["collection"], request.params["item_id"]
        if collection not in _KINDS:
            return await central(request)
        gw.top_names.forget(collection, top_id)
        subnets: list[str] = []
        if collection == "networks":
            shown = await neutron.show(gateway_neutron.central(gw, request), "networks", top_id)
            subnets = list(shown.get("subnets") or []) if shown else []
        reply = await central(request)
        if reply.status == 204:
            snapshot = await gw.pods()

            def of_pod(pod_id: PodId) -> Neutron | None:
                pod = snapshot.get(pod_id)
                return gateway_neutron.of_pod(gw, request, pod) if pod is not None and pod.is_up else None

            await remove_copies(gw.routings, _KINDS[collection], top_id, of_pod, with_subnets=subnets)
        return reply

    async def rule_created(request: GatewayRequest) -> Reply:
        """A rule (or rules) made in the central Neutron, then in the copies of its group."""
        reply = await central(request)
        if reply.status == 201 and isinstance(reply.body, bytes):
            document = jsonfast.loads(reply.body)
            made = [document.get("security_group_rule"), *(document.get("security_group_rules") or [])]
            groups = {str(r["security_group_id"]) for r in made if isinstance(r, dict) and r.get("security_group_id")}
            await refresh_copies(gw, request, groups)
        return reply

    async def rule_deleted(request: GatewayRequest) -> Reply:
        """A rule deleted in the central Neutron, then in the copies of its group."""
        rule_id = request.params["rule_id"]
        try:
            shown = await neutron.show(gateway_neutron.central(gw, request), "security-group-rules", rule_id)
        except AtollError:
            shown = None  # the central Neutron's answer to the delete says why
        reply = await central(request)
        if reply.status == 204 and shown is not None:
            await refresh_copies(gw, request, {str(shown["security_group_id"])})
        return reply

    return Router(
        [
            Route("POST", "/security-group-rules", rule_created),
            Route("DELETE", "/security-group-rules/{rule_id}", rule_deleted),
            Route("DELETE", "/{collection}/{item_id}", delete),
            Route("PUT", "/{collection}/{item_id}", update),
            Route("*", "/", central),
            Route("*", "/{path:path}", central),
        ]
    )
