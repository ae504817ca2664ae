"""`/os-availability-zone`: Atoll's availability zones, made of pods; never a pod's name or its own zones.

A zone is available while one of its pods is up. The detailed list (admin only, as
in Nova: the pods' own policy decides, since the caller's token is forwarded) shows
each pod's hosts under the pod's Atoll zone.
"""

from __future__ import annotations

from typing import Any

from atoll.gateway.deps import Gateway
from atoll.gateway.fanout import ask_up_pods
from atoll.gateway.http import GatewayRequest, Reply, json_reply
from atoll.gateway.router import Route
from atoll.gateway.services import COMPUTE
from atoll.pods.info import PodInfo

INTERNAL = "internal"


async def own_zone(gw: Gateway, request: GatewayRequest, pod: PodInfo) -> str:
    """The pod's own name of its compute AZ: its `pod_az_name`, or else the one zone its Nova lists
    besides `internal` (asked once per pod), so a server asked for in an AZ is pinned to the pod's
    zone as Nova pins it (`pinned_availability_zone`); "" when the pod has several or none."""
    if pod.pod_az_name:
        return pod.pod_az_name
    key = (pod.pod_id, pod.url("compute"))
    if key in gw.pod_zones:
        return gw.pod_zones[key]
    response = await gw.forwarder.send(
        request, pod, method="GET", path="/os-availability-zone", query=[], service=COMPUTE, timeout=gw.list_timeout
    )
    try:
        document = response.json() if response.status == 200 else None
    except ValueError:  # not JSON: asked again next time
        return ""
    zones = document.get("availabilityZoneInfo") if isinstance(document, dict) else None
    names = {z.get("zoneName") for z in zones or [] if isinstance(z, dict)} - {INTERNAL, None}
    if len(names) != 1:
        return ""
    gw.pod_zones[key] = zone = str(names.pop())
    return zone


def routes(gw: Gateway) -> list[Route]:
    async def summary(_request: GatewayRequest) -> Reply:
        zones = (await gw.pods()).azs()
        info = [
            {"zoneName": az, "zoneState": {"available": any(p.is_up for p in pods)}, "hosts": None}
            for az, pods in zones.items()
        ]
        return json_reply(200, {"availabilityZoneInfo": info})

    async def detail(request: GatewayRequest) -> Reply:
        zones = (await gw.pods()).azs()
        if not any(p.is_up and p.has(COMPUTE.name) for members in zones.values() for p in members):
            return await summary(request)  # every zone unavailable, and no host to show
        asked = await ask_up_pods(gw, request, timeout=gw.list_timeout)
        if asked.refusal is not None:
            return asked.refusal  # the pod refused the caller (403): so does Atoll
        hosts: dict[str, dict[str, Any]] = {az: {} for az in zones}
        for pod, _reply, document in asked.documents:
            listed = document.get("availabilityZoneInfo")
            for zone in listed if isinstance(listed, list) else []:
                if isinstance(zone, dict) and zone.get("zoneName") != INTERNAL and pod.az_name in hosts:
                    hosts[pod.az_name].update(zone.get("hosts") or {})
        info = [
            {
                "zoneName": az,
                "zoneState": {"available": any(p.is_up for p in members)},
                "hosts": hosts[az] or None,
            }
            for az, members in zones.items()
        ]
        return json_reply(200, {"availabilityZoneInfo": info}, asked.partial)

    return [
        Route("GET", "/os-availability-zone", summary),
        Route("GET", "/os-availability-zone/detail", detail),
    ]
