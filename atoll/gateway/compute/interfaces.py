"""A server's interfaces (`/servers/{id}/os-interface`) with top ids.

attach   `net_id` (a top network): a top port is made in the central Neutron; `port_id`
         (a top port): that port; neither: the project's one top network, as Nova picks it.
         The port is realized in the server's pod and the pod's Nova attaches the copy;
         a refused attach deletes the copy and the top port Atoll made.
detach   the top port id is the copy's in the pod; once Nova accepts, the copy goes and the
         top port goes (made by Atoll) or is released (the user's), as on server delete.
replies  `port_id`, `net_id` and `subnet_id` of copies are shown as the top ids (a copy is
         named by its top id).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from atoll.core import jsonfast
from atoll.gateway.compute import ports
from atoll.gateway.deps import Gateway
from atoll.gateway.http import GatewayRequest, Reply
from atoll.network import neutron
from atoll.network.neutron import Neutron
from atoll.pods.info import PodInfo
from atoll.types import ResourceType

_TOP_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


async def handle(gw: Gateway, request: GatewayRequest, pod: PodInfo, server_id: str, rest: str) -> Reply:
    if gw.central_neutron() is None:
        return await gw.forwarder.forward(request, pod)
    if request.method == "POST" and rest == "os-interface":
        return await _attach(gw, request, pod, server_id)
    if request.method == "DELETE" and rest.startswith("os-interface/"):
        return await _detach(gw, request, pod, server_id, rest.split("/", 1)[1])
    if request.method == "GET" and rest.startswith("os-interface/"):
        route = await gw.routings.lookup_in(rest.split("/", 1)[1], ResourceType.PORT, pod.pod_id)
        if route is not None:
            path = f"/servers/{server_id}/os-interface/{route.bottom_id}"
            return await top_ids(gw, request, pod, await gw.forwarder.forward(request, pod, path=path))
    return await top_ids(gw, request, pod, await gw.forwarder.forward(request, pod))


async def _attach(gw: Gateway, request: GatewayRequest, pod: PodInfo, server_id: str) -> Reply:
    document = await request.json()
    attachment = document.get("interfaceAttachment") if isinstance(document, dict) else None
    if not isinstance(attachment, dict):
        return await gw.forwarder.forward(request, pod)  # Nova answers its own 400
    realizer = ports.realizer_for(gw, request, pod)
    central = realizer.central
    made = False
    if attachment.get("port_id"):
        port = await ports.given_port(central, str(attachment["port_id"]))
    else:
        network = attachment.get("net_id") or await _only_network(central, request)
        if network is None:
            return await gw.forwarder.forward(request, pod)
        fixed = attachment.get("fixed_ips") or []
        entry = {"uuid": network} | ({"fixed_ip": fixed[0].get("ip_address")} if fixed else {})
        port, made = await ports.new_port(central, entry, None), True
    try:
        copy = await realizer.port(port, made_top=made)
        sent = {"port_id": copy.bottom_id} | ({"tag": attachment["tag"]} if "tag" in attachment else {})
        response = await gw.forwarder.send(request, pod, json_body={"interfaceAttachment": sent})
    except BaseException:
        await ports.free(realizer, str(port["id"]), made=made)
        raise
    if response.status >= 300:
        await ports.free(realizer, str(port["id"]), made=made)
    else:
        await ports.claim(central, [str(port["id"])], pod)(server_id)
    return await top_ids(gw, request, pod, gw.forwarder.relay(request, pod, response))


async def _only_network(central: Neutron, request: GatewayRequest) -> str | None:
    available = await ports.available(central, request.context.project_id or "", auto=True)
    return str(available[0]["id"]) if len(available) == 1 else None


async def _detach(gw: Gateway, request: GatewayRequest, pod: PodInfo, server_id: str, port_id: str) -> Reply:
    route = await gw.routings.lookup_in(port_id, ResourceType.PORT, pod.pod_id)
    if route is None:
        return await gw.forwarder.forward(request, pod)
    response = await gw.forwarder.send(request, pod, path=f"/servers/{server_id}/os-interface/{route.bottom_id}")
    if response.status < 300:
        await ports.release_port(ports.realizer_for(gw, request, pod), port_id)
    return gw.forwarder.relay(request, pod, response)


async def top_ids(gw: Gateway, request: GatewayRequest, pod: PodInfo, reply: Reply) -> Reply:
    """Attachments of copies show the top port, network and subnet ids (the copies' names)."""
    if reply.status >= 300 or not isinstance(reply.body, bytes) or b"port_id" not in reply.body:
        return reply
    document = jsonfast.loads(reply.body)
    many = document.get("interfaceAttachments") if isinstance(document, dict) else None
    one = document.get("interfaceAttachment") if isinstance(document, dict) else None
    attachments = [a for a in (many if isinstance(many, list) else [one]) if isinstance(a, dict)]
    if not attachments:
        return reply
    pod_neutron = ports.realizer_for(gw, request, pod).pod
    subnets = {f.get("subnet_id") for a in attachments for f in a.get("fixed_ips") or [] if isinstance(f, dict)}
    found = await asyncio.gather(
        _names(pod_neutron, "ports", {a.get("port_id") for a in attachments}),
        _names(pod_neutron, "networks", {a.get("net_id") for a in attachments}),
        _names(pod_neutron, "subnets", subnets),
    )
    names = {key: name for part in found for key, name in part.items()}
    for attachment in attachments:
        for key in ("port_id", "net_id"):
            attachment[key] = names.get(attachment.get(key), attachment.get(key))
        for fixed in attachment.get("fixed_ips") or []:
            fixed["subnet_id"] = names.get(fixed.get("subnet_id"), fixed.get("subnet_id"))
    reply.body = jsonfast.dumps(document)
    return reply


async def _names(pod: Neutron, collection: str, ids: set[Any]) -> dict[Any, str]:
    """Bottom id -> top id, for the copies among `ids` (named by a top id)."""
    wanted = sorted(i for i in ids if isinstance(i, str))
    if not wanted:
        return {}
    query = [("id", i) for i in wanted] + [("fields", "id"), ("fields", "name")]
    found = await neutron.find(pod, collection, query)
    return {item["id"]: item["name"] for item in found if _TOP_ID.match(str(item.get("name") or ""))}
