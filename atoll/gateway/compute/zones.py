"""`/os-availability-zone`: Atoll's availability zones, made of pods; never a pod's name or its own zones.

A zone is available while one of its pods is up. The detailed list (admin only, as
in Nova: the pods' own policy decides, since the caller's token is forwarded) shows
each pod's hosts under the pod's Atoll zone.
"""

from __future__ import annotations

import asyncio
from typing import Any

from atoll.core.errors import AtollError
from atoll.gateway.deps import Gateway
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
    document = response.json() if response.status == 200 else None
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
        pods = [p for members in zones.values() for p in members if p.is_up]
        answers = await asyncio.gather(*(_pod_zones(gw, request, p) for p in pods), return_exceptions=True)
        hosts: dict[str, dict[str, Any]] = {az: {} for az in zones}
        for pod, answer in zip(pods, answers, strict=True):
            if isinstance(answer, Reply):
                return answer  # the pod refused the caller (403): so does Atoll
            if isinstance(answer, BaseException):
                if not isinstance(answer, AtollError):
                    raise answer
                continue
            for zone in answer:
                if zone.get("zoneName") != INTERNAL:
                    hosts[pod.az_name].update(zone.get("hosts") or {})
        info = [
            {
                "zoneName": az,
                "zoneState": {"available": any(p.is_up for p in members)},
                "hosts": hosts[az] or None,
            }
            for az, members in zones.items()
        ]
        return json_reply(200, {"availabilityZoneInfo": info})

    async def _pod_zones(gw: Gateway, request: GatewayRequest, pod: PodInfo) -> list[dict[str, Any]] | Reply:
        response = await gw.forwarder.send(request, pod, timeout=gw.list_timeout)
        if response.status != 200:
            return gw.forwarder.relay(request, pod, response)
        zones: list[dict[str, Any]] = response.json().get("availabilityZoneInfo", [])
        return zones

    return [
        Route("GET", "/os-availability-zone", summary),
        Route("GET", "/os-availability-zone/detail", detail),
    ]
