"""Which pod holds an existing resource: its routing, or else a search of the pods.

A resource found in a pod without a routing (made behind Atoll's back, or before a
crash between the pod's answer and the routing's confirmation) is adopted: its
routing is written, and the next call goes straight to its pod.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import Any

from atoll.core.errors import AtollError, NotFound, ServiceUnavailable
from atoll.gateway.deps import Gateway
from atoll.gateway.http import GatewayRequest
from atoll.gateway.services import SERVICES
from atoll.pods.info import PodInfo
from atoll.resources.spec import Resource
from atoll.types import ProjectId


@dataclasses.dataclass(frozen=True)
class Located:
    pod: PodInfo
    bottom_id: str


GOING = frozenset({"deleting", "DELETED", "SOFT_DELETED", "pending_delete", "deleted"})
"""Statuses (and Nova task states) of an item on its way out, in Nova, Cinder and Glance."""


def going(item: dict[str, Any]) -> bool:
    """Whether a pod shows the item being deleted or deleted."""
    return item.get("status") in GOING or item.get("OS-EXT-STS:task_state") == "deleting"


def unavailable(resource: Resource, item_id: str, pod: PodInfo) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"The {resource.name.replace('_', ' ')} {item_id} is in availability zone {pod.az_name}, whose pod "
        "does not answer now. Try again later."
    )


async def locate(gw: Gateway, request: GatewayRequest, resource: Resource, item_id: str) -> Located:
    assert resource.routing_type is not None
    snapshot = await gw.pods()
    route = await gw.routings.lookup(item_id, resource.routing_type)
    if route is not None:
        pod = snapshot.get(route.pod_id)
        if pod is not None:
            if not pod.is_up:
                raise unavailable(resource, item_id, pod)
            return Located(pod, route.bottom_id)
    return await _search(gw, request, resource, item_id, snapshot.bottoms)


async def _search(
    gw: Gateway, request: GatewayRequest, resource: Resource, item_id: str, pods: Sequence[PodInfo]
) -> Located:
    """Ask every up pod that has the service for the item, concurrently; adopt the one that has it."""
    assert resource.routing_type is not None
    service = next(s for s in SERVICES if s.name == resource.service)
    path = f"{resource.path}/{item_id}"
    asked = [p for p in pods if p.is_up and p.has(resource.service)]

    async def show(pod: PodInfo) -> dict[str, Any] | None:
        response = await gw.forwarder.send(request, pod, method="GET", path=path, query=[], service=service)
        if response.status == 200:
            document = response.json()
            member = document.get(resource.member_key) if isinstance(document, dict) else None
            return member if isinstance(member, dict) else None
        return None

    results = await asyncio.gather(*(show(p) for p in asked), return_exceptions=True)
    silent = [p for p in pods if p not in asked or isinstance(results[asked.index(p)], AtollError)]
    for pod, result in zip(asked, results, strict=True):
        if isinstance(result, dict) and going(result):
            # Being deleted (a client polling for a delete's end): found, and not given a routing, which
            # would outlive the item.
            return Located(pod, item_id)
        if isinstance(result, dict):
            project = result.get("tenant_id") or result.get("project_id") or request.context.project_id or ""
            route = await gw.routings.adopt(
                item_id, item_id, pod.pod_id, ProjectId(str(project)), resource.routing_type
            )
            return Located(pod, route.bottom_id)
        if isinstance(result, BaseException) and not isinstance(result, AtollError):
            raise result
    if silent:
        zones = ", ".join(sorted({p.az_name for p in silent}))
        raise ServiceUnavailable(
            f"{resource.not_found(item_id, request.context.user_id)[:-1]} in the pods that answer; availability "
            f"zone(s) {zones} did not answer. Try again later."
        )
    raise NotFound(resource.not_found(item_id, request.context.user_id))
