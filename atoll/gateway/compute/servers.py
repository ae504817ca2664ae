"""Servers: create through the pipeline, everything else forwarded to the server's pod.

Show, update, delete, every action (`POST /servers/{id}/action`, whatever its body
names) and every declared sub-resource (metadata, tags, ips, volume attachments,
interfaces, ...) go to the pod in the server's routing, so a new Nova action needs
nothing here. Replies show Atoll's AZ, never the pod's.
"""

from __future__ import annotations

import re
from typing import Any

from atoll.core.errors import BadRequest, Conflict, NotFound
from atoll.gateway.compute import global_copy, interfaces, ports, zones
from atoll.gateway.deps import Gateway
from atoll.gateway.http import GatewayRequest, Reply
from atoll.gateway.image import copy as image_copy
from atoll.gateway.locate import locate
from atoll.gateway.pipeline import CreatePipeline, CreatePlan, Pin, Step, pod_az
from atoll.gateway.rewrite import AzFields
from atoll.gateway.router import Route
from atoll.pods.info import PodInfo
from atoll.resources.compute import SERVER, SERVER_GROUP
from atoll.resources.volume import VOLUME as VOLUME_RESOURCE
from atoll.types import ResourceType

SERVER_AZ = AzFields("OS-EXT-AZ:availability_zone", "pinned_availability_zone")
"""Where a server is, and where it is pinned."""


def show_atoll_az(reply: Reply, pod: PodInfo) -> Reply:
    """The pod's AZ name in server documents (where the server is, and where it is pinned)
    becomes the pod's Atoll AZ."""
    if isinstance(reply.body, bytes):
        reply.body = SERVER_AZ.body(reply.body, pod.az_name)
    return reply


# --- co-location: what pins a new server to a pod -----------------------------------------------


def _list_of_objects(value: Any, field: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise BadRequest(f"Invalid input for field/attribute {field}. It must be a list of objects.")
    return value


async def volumes_pin(gw: Gateway, plan: CreatePlan) -> None:
    """A server boots from or attaches the volumes of its block device mappings in their pod."""
    mappings = plan.member.get("block_device_mapping_v2")
    if mappings is None:
        return
    for mapping in _list_of_objects(mappings, "block_device_mapping_v2"):
        if mapping.get("source_type") == "volume" and isinstance(mapping.get("uuid"), str):
            volume_id = mapping["uuid"]
            try:
                located = await locate(gw, plan.request, VOLUME_RESOURCE, volume_id)
            except NotFound:
                raise BadRequest(f"Block Device Mapping is Invalid: failed to get volume {volume_id}.") from None
            plan.pins.append(Pin(located.pod, f"volume {volume_id}"))


async def server_group_pin(gw: Gateway, plan: CreatePlan) -> None:
    """A server joins its server group's pod (anti-/affinity is decided by that pod's Nova)."""
    hints = plan.document.get("os:scheduler_hints", plan.document.get("OS-SCH-HNT:scheduler_hints"))
    if hints is None:
        return
    if not isinstance(hints, dict):
        raise BadRequest("Invalid input for field/attribute os:scheduler_hints. It must be an object.")
    group = hints.get("group")
    if isinstance(group, str):
        located = await locate(gw, plan.request, SERVER_GROUP, group)
        plan.pins.append(Pin(located.pod, f"server group {group}"))


_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


def _image_ids(member: dict[str, Any]) -> list[str]:
    """The images a new server is made from: `imageRef` (an id, or a Glance URL ending in one)
    and the block device mappings with `source_type` image."""
    found: list[str] = []
    ref = member.get("imageRef")
    if isinstance(ref, str) and ref:
        found.append(ref.rstrip("/").rsplit("/", 1)[-1])
    for mapping in member.get("block_device_mapping_v2") or []:
        if isinstance(mapping, dict) and mapping.get("source_type") == "image" and isinstance(mapping.get("uuid"), str):
            found.append(mapping["uuid"])
    return [i for i in dict.fromkeys(found) if _UUID.match(i)]


async def images_in_pod(gw: Gateway, plan: CreatePlan) -> None:
    """The server's images copied to its pod first, when that pod has none (Nova reads the image
    from its own pod's Glance). An image the caller sees in no pod is left to Nova's 400."""
    assert plan.pod is not None
    for image_id in _image_ids(plan.member):
        await image_copy.ensure_in_pod(gw, plan.request, image_id, plan.pod)


async def volume_types_by_name(gw: Gateway, plan: CreatePlan) -> None:
    """A block device mapping's `volume_type` (2.67+) named by Atoll's id is passed by its name: the
    server's pod has its own id for the type, and Nova hands the value to its Cinder, which takes either."""
    names = gw.volume_type_names
    for mapping in plan.member.get("block_device_mapping_v2") or []:
        value = mapping.get("volume_type") if isinstance(mapping, dict) else None
        if names is not None and isinstance(value, str) and _UUID.match(value):
            name = await names.name_of(plan.request, value)
            if name is not None:
                mapping["volume_type"] = name


CONSTRAINTS: list[Step] = [volumes_pin, server_group_pin]
"""Steps pinning a new server to a pod. The network part adds the pods of the ports it uses."""

PREPARE: list[Step] = [
    global_copy.flavor_and_keypair_in_pod,
    images_in_pod,
    volume_types_by_name,
    ports.realize_networks,
]
"""Steps run once the pod is chosen, before Nova is called: the flavor, keypair and image there
(copied when the pod lacks them), volume types by name, and network realization (top networks and ports made in
the pod)."""


# --- handlers --------------------------------------------------------------------------------------


def routes(gw: Gateway) -> list[Route]:
    pipeline = CreatePipeline(SERVER, constrain=CONSTRAINTS, prepare=PREPARE, own_zone=zones.own_zone)

    async def create(request: GatewayRequest) -> Reply:
        return await pipeline.run(gw, request)

    async def member(request: GatewayRequest) -> Reply:
        server_id = request.params["server_id"]
        located = await locate(gw, request, SERVER, server_id)
        body = (
            await _pinned_zone(gw, request, located.pod, "server", "pinned_availability_zone")
            if request.method == "PUT"
            else None
        )
        response = await gw.forwarder.send(request, located.pod, json_body=body)
        if response.status == 404:
            await gw.routings.gone(server_id, ResourceType.SERVER, request.context.project_id)
        elif request.method == "DELETE" and response.status == 204:
            await gw.routings.forget(server_id, ResourceType.SERVER, delete=True)
            await ports.release(gw, request, located.pod, server_id)
        reply = show_atoll_az(gw.forwarder.relay(request, located.pod, response), located.pod)
        return await ports.top_names(gw, request, reply)

    async def sub_resource(request: GatewayRequest) -> Reply:
        rest = request.params["rest"]
        if rest.split("/", 1)[0] not in SERVER.sub_resources:
            raise NotFound("The resource could not be found.")
        located = await locate(gw, request, SERVER, request.params["server_id"])
        if rest == "os-volume_attachments" and request.method == "POST":
            await _same_pod_volume(gw, request, located.pod)
        if rest == "action" and request.method == "POST":
            await _action_items_in_pod(gw, request, located.pod)
        if rest.split("/", 1)[0] == "os-interface":
            return await interfaces.handle(gw, request, located.pod, request.params["server_id"], rest)
        body = (
            await _pinned_zone(gw, request, located.pod, "unshelve", "availability_zone") if rest == "action" else None
        )
        forwarded = await gw.forwarder.forward(request, located.pod, json_body=body)
        reply = show_atoll_az(forwarded, located.pod)
        if rest == "os-security-groups":
            return await ports.top_groups(gw, request, reply)
        return await ports.top_names(gw, request, reply) if rest.startswith("ips") else reply

    return [
        Route("POST", "/servers", create),
        Route("POST", "/os-volumes_boot", create),  # novaclient's old alias of server create
        Route(("GET", "PUT", "DELETE"), "/servers/{server_id}", member),
        Route(("GET", "POST", "PUT", "DELETE"), "/servers/{server_id}/{rest:path}", sub_resource),
    ]


async def _pinned_zone(
    gw: Gateway, request: GatewayRequest, pod: PodInfo, key: str, field: str
) -> dict[str, Any] | None:
    """The request's document with the AZ a server is pinned to (`pinned_availability_zone` of
    `PUT /servers/{id}` from 2.104, `availability_zone` of the unshelve action from 2.77) in the
    pod's own name; None when it names no AZ.

    A server stays in its pod, so the AZ asked for must be the one the server is in; any other is a
    409 (as Nova answers an update pinning a server elsewhere)."""
    document = await request.json()
    member = document.get(key) if isinstance(document, dict) else None
    requested = member.get(field) if isinstance(member, dict) else None
    if not isinstance(requested, str) or not requested:
        return None  # absent, null (unpin) or invalid: the pod answers as Nova does
    assert isinstance(member, dict)
    if requested.split(":", 1)[0] != pod.az_name:
        raise Conflict(
            f"Server can only be pinned to its current availability zone '{pod.az_name}', but '{requested}' was "
            "requested: a server does not move between the pods that make the availability zones."
        )
    own = pod_az(requested, await zones.own_zone(gw, request, pod))
    if own is None:
        member.pop(field)
    else:
        member[field] = own
    return dict(document)


async def _action_items_in_pod(gw: Gateway, request: GatewayRequest, pod: PodInfo) -> None:
    """A resize's new flavor, or a rebuild's keypair (2.54+), copied to the server's pod first when
    that pod has none."""
    document = await request.json()
    if not isinstance(document, dict):
        return
    for action, field, kind in (
        ("resize", "flavorRef", global_copy.FLAVOR),
        ("rebuild", "key_name", global_copy.KEYPAIR),
    ):
        ref = global_copy.reference(document.get(action), field)
        if ref is not None:
            await global_copy.ensure_in_pod(gw, request, kind, ref, pod)


async def _same_pod_volume(gw: Gateway, request: GatewayRequest, pod: PodInfo) -> None:
    document = await request.json()
    attachment = document.get("volumeAttachment") if isinstance(document, dict) else None
    volume_id = attachment.get("volumeId") if isinstance(attachment, dict) else None
    if not isinstance(volume_id, str):
        return  # Nova answers the 400 for a malformed attachment
    try:
        located = await locate(gw, request, VOLUME_RESOURCE, volume_id)
    except NotFound:
        return  # Nova answers its own 404 for an unknown volume
    if located.pod.pod_id != pod.pod_id:
        raise Conflict(
            f"Volume {volume_id} is in availability zone {located.pod.az_name} and the server in availability "
            f"zone {pod.az_name}, in different pods; a server can only attach volumes of its own pod."
        )
