"""What Cinder serves besides volumes, snapshots, backups and types.

- `/os-availability-zone`: Atoll's AZs made of the pods that have a volume service,
  never a pod's own zone names.
- limits, quota sets and quota classes: per project, written to every up pod and read with
  the usage of every pod added up (`usage`; as compute does until the global quota exists).
- volume transfers (`/os-volume-transfer`, `/volume-transfers` from 3.55) and
  attachments (`/attachments`, 3.27): made in their volume's pod; their ids have no
  routing, so a call on one is found in the pods (`first_found`: a read asks them all at
  once, a write one after the other until one knows it), and their lists
  are the pods' lists put together.
- user messages (`/messages`), and for admins the services, pools and clusters of every pod
  (`/os-services`, `/scheduler-stats/get_pools`, `/clusters`), put together the same way; a
  cluster is shown, enabled or disabled in the pod that has it. A cleanup of the services' half
  done work (`/workers/cleanup`) is asked of every pod, and what each cleans put together.
"""

from __future__ import annotations

import json
from typing import Any

from atoll.core.errors import Conflict
from atoll.gateway.chained import Paging, concatenated
from atoll.gateway.deps import Gateway
from atoll.gateway.fanout import Adjust, ask_up_pods, every_pod, first_accepting, first_found, one_pod
from atoll.gateway.http import GatewayRequest, Reply, json_reply
from atoll.gateway.locate import locate
from atoll.gateway.rewrite import AzFields
from atoll.gateway.router import Handler, Route
from atoll.gateway.usage import summed_usage
from atoll.gateway.volume.routed import atoll_az, show_atoll_az
from atoll.resources.volume import VOLUME
from atoll.types import ResourceType

SERVICE_AZ = atoll_az(AzFields("zone"))
"""Cinder's services and hosts: the AZ of each."""
ATTACHMENTS = Paging("id")
"""Cinder pages attachments by `limit`, `marker` and `offset`, and links no next page."""

READ = ("GET",)
WRITE = ("PUT", "DELETE")


def _field(document: Any, member_key: str, field: str) -> str | None:
    member = document.get(member_key) if isinstance(document, dict) else None
    value = member.get(field) if isinstance(member, dict) else None
    return value if isinstance(value, str) else None


def workers_cleanup(gw: Gateway) -> Handler:
    async def cleanup(request: GatewayRequest) -> Reply:
        """Cinder's cleanup of the work its services left half done (3.24, admins): asked of every up
        pod at once (a pod cleans its own services); the services each pod cleans and those it could
        not reach, put together. A pod that does not answer is named in `Atoll-Partial-Pods`; a pod's
        refusal of the caller (the same for every pod: a filter it rejects) is the answer."""
        # Cinder answers at once (202) and cleans afterwards.
        asked = await ask_up_pods(gw, request, accepted=202, timeout=gw.list_timeout)
        if asked.refusal is not None:
            return asked.refusal
        if not asked.documents:
            return asked.first_failure(gw, request)
        cleaning: list[Any] = []
        unavailable: list[Any] = []
        for _pod, _reply, document in asked.documents:
            cleaning += document.get("cleaning") or []
            unavailable += document.get("unavailable") or []
        return json_reply(202, {"cleaning": cleaning, "unavailable": unavailable}, asked.partial)

    return cleanup


def routes(gw: Gateway) -> list[Route]:
    async def zones(_request: GatewayRequest) -> Reply:
        azs = (await gw.pods()).azs()
        info = [
            {"zoneName": az, "zoneState": {"available": any(p.is_up and p.has("volume") for p in pods)}}
            for az, pods in azs.items()
            if any(p.has("volume") for p in pods)
        ]
        return json_reply(200, {"availabilityZoneInfo": info})

    async def read(request: GatewayRequest) -> Reply:
        return await one_pod(gw, request)

    summed = summed_usage(gw)

    async def write(request: GatewayRequest) -> Reply:
        reply, _ = await every_pod(gw, request)
        return reply

    def in_volume_pod(member_key: str, field: str) -> Handler:
        """A create at the pod of the volume its body names; without one, the pod's own 400."""

        async def handle(request: GatewayRequest) -> Reply:
            volume_id = _field(await request.json(), member_key, field)
            if volume_id is None:
                return await one_pod(gw, request)
            located = await locate(gw, request, VOLUME, volume_id)
            if member_key == "attachment":
                await _same_pod_server(request, located.pod.pod_id)
            return show_atoll_az(await gw.forwarder.forward(request, located.pod), located.pod)

        return handle

    async def _same_pod_server(request: GatewayRequest, pod_id: str) -> None:
        document = await request.json()
        server_id = _field(document, "attachment", "instance_uuid")
        route = await gw.routings.lookup(server_id, ResourceType.SERVER) if server_id else None
        if route is not None and route.pod_id != pod_id:
            volume_id = _field(document, "attachment", "volume_uuid")
            raise Conflict(
                f"Volume {volume_id} and server {server_id} are in different pods; a server can only attach "
                "volumes of its own pod."
            )

    def collection(key: str, adjust: Adjust = show_atoll_az, paging: Paging | None = None) -> Handler:
        """The pods' lists put together (a pod that does not answer is named in Atoll-Partial-Pods),
        paged as Cinder pages the list (`paging`)."""
        return concatenated(gw, key, adjust, paging)

    somewhere = first_found(gw, show_atoll_az)
    its_own = first_found(gw, show_atoll_az, unique=True)  # a host's or cluster's name is its pod's own

    # Cinder's v3 transfers page by marker from 3.59; its older path by offset only.
    transfer_paging = {
        "/os-volume-transfer": Paging(marker=None),
        "/volume-transfers": Paging("id", "transfers_links", (3, 59)),
    }
    transfer_routes = [
        route
        for base in ("/os-volume-transfer", "/volume-transfers")
        for route in (
            Route("POST", base, in_volume_pod("transfer", "volume_id")),
            Route(READ, base, collection("transfers", paging=transfer_paging[base])),
            Route(READ, f"{base}/detail", collection("transfers", paging=transfer_paging[base])),
            Route(("GET", "DELETE"), f"{base}/{{transfer_id}}", somewhere),
            Route("POST", f"{base}/{{transfer_id}}/accept", somewhere),
        )
    ]
    return [
        Route("GET", "/os-availability-zone", zones),
        Route(READ, "/limits", summed),
        Route(READ, "/extensions", read),
        Route(READ, "/resource_filters", read),
        Route(READ, "/os-quota-sets/{rest:path}", summed),
        Route(WRITE, "/os-quota-sets/{rest:path}", write),
        Route(READ, "/os-quota-class-sets/{rest:path}", read),
        Route("PUT", "/os-quota-class-sets/{rest:path}", write),
        *transfer_routes,
        Route(READ, "/messages", collection("messages", paging=Paging("id", "messages_links", (3, 5)))),
        Route(("GET", "DELETE"), "/messages/{message_id}", somewhere),
        Route(READ, "/os-services", collection("services", SERVICE_AZ)),
        Route("PUT", "/os-services/{action}", first_accepting(gw, SERVICE_AZ)),
        Route(READ, "/os-hosts", collection("hosts", SERVICE_AZ)),
        Route(READ, "/os-hosts/{host}", its_own),
        Route(READ, "/capabilities/{host}", its_own),
        Route(READ, "/scheduler-stats/get_pools", collection("pools")),
        Route(READ, "/clusters", collection("clusters")),
        Route(READ, "/clusters/detail", collection("clusters")),
        Route(READ, "/clusters/{name}", its_own),
        Route("PUT", "/clusters/{action}", first_accepting(gw)),
        Route("POST", "/workers/cleanup", workers_cleanup(gw)),
        Route("POST", "/attachments", in_volume_pod("attachment", "volume_uuid")),
        Route(READ, "/attachments", collection("attachments", paging=ATTACHMENTS)),
        Route(READ, "/attachments/detail", collection("attachments", paging=ATTACHMENTS)),
        Route(("GET", "PUT", "DELETE"), "/attachments/{attachment_id}", somewhere),
        Route("POST", "/attachments/{attachment_id}/action", somewhere),
    ]


def json_of(body: bytes) -> dict[str, Any]:
    document = json.loads(body)
    return document if isinstance(document, dict) else {}
