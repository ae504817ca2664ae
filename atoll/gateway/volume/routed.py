"""Handlers shared by Cinder's scheduled resources (volumes, snapshots, backups): a member and
its sub-resources served by the pod in the item's routing, and Atoll's AZ in their documents.

Ids without a routing are found in the pods and adopted (`locate`); a pod's 404 drops the
cached routing, a delete the pod accepted drops the rows.
"""

from __future__ import annotations

from atoll.core.errors import NotFound
from atoll.gateway.deps import Gateway
from atoll.gateway.fanout import Adjust
from atoll.gateway.http import GatewayRequest, Reply
from atoll.gateway.locate import locate
from atoll.gateway.rewrite import AzFields
from atoll.gateway.router import Handler
from atoll.pods.info import PodInfo
from atoll.resources.spec import Resource


def atoll_az(zones: AzFields) -> Adjust:
    """An `Adjust` turning the pod's own AZ name, wherever `zones`' fields hold it, into the pod's Atoll AZ."""

    def adjust(reply: Reply, pod: PodInfo) -> Reply:
        if isinstance(reply.body, bytes):
            reply.body = zones.body(reply.body, pod.az_name)
        return reply

    return adjust


VOLUME_AZ = AzFields("availability_zone")
"""Where a volume, a backup, a group is."""

show_atoll_az = atoll_az(VOLUME_AZ)


def member(gw: Gateway, resource: Resource, adjust: Adjust = show_atoll_az) -> Handler:
    """GET/PUT/DELETE of one item, at its pod."""
    assert resource.routing_type is not None
    kind = resource.routing_type

    async def handle(request: GatewayRequest) -> Reply:
        item_id = request.params["item_id"]
        located = await locate(gw, request, resource, item_id)
        response = await gw.forwarder.send(request, located.pod)
        if response.status == 404:
            await gw.routings.gone(item_id, kind, request.context.project_id)
        elif request.method == "DELETE" and response.status in (202, 204):
            await gw.routings.forget(item_id, kind, delete=True)
        return adjust(gw.forwarder.relay(request, located.pod, response), located.pod)

    return handle


def sub_resource(gw: Gateway, resource: Resource, adjust: Adjust = show_atoll_az) -> Handler:
    """`/{collection}/{id}/{rest}`: actions, metadata, ... at the item's pod; unknown ones 404."""

    async def handle(request: GatewayRequest) -> Reply:
        if request.params["rest"].split("/", 1)[0] not in resource.sub_resources:
            raise NotFound("The resource could not be found.")
        located = await locate(gw, request, resource, request.params["item_id"])
        return adjust(await gw.forwarder.forward(request, located.pod), located.pod)

    return handle
