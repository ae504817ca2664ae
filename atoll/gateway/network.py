"""Neutron through Atoll: `/network/v2.0/...`, served by the central Neutron (the source of truth
for networks, subnets, ports, security groups and IP/MAC allocation). The network part
realizes those objects in a pod when a server there uses them (a create-pipeline step);
deleting a network, subnet or security group here deletes its copies in the pods too."""

from __future__ import annotations

from atoll.core.errors import ServiceUnavailable
from atoll.gateway import neutron as gateway_neutron
from atoll.gateway.deps import Gateway
from atoll.gateway.http import GatewayRequest, Reply
from atoll.gateway.router import Route, Router
from atoll.network import neutron
from atoll.network.neutron import Neutron
from atoll.network.remove import remove_copies
from atoll.pods.info import PodInfo
from atoll.types import PodId, ResourceType

_KINDS = {
    "networks": ResourceType.NETWORK,
    "subnets": ResourceType.SUBNET,
    "security-groups": ResourceType.SECURITY_GROUP,
}


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

    return Router(
        [
            Route("DELETE", "/{collection}/{item_id}", delete),
            Route("PUT", "/{collection}/{item_id}", update),
            Route("*", "/", central),
            Route("*", "/{path:path}", central),
        ]
    )
