"""Snapshots and backups: each made in its volume's pod, listed merged across pods, and served
by the pod in its routing.

The pod's own answer stands where it has no such service (a pod without cinder-backup
answers the backup create itself).
"""

from __future__ import annotations

from atoll.core.errors import BadRequest, Conflict, NotFound
from atoll.gateway.deps import Gateway
from atoll.gateway.fanout import one_pod
from atoll.gateway.http import GatewayRequest, Reply
from atoll.gateway.locate import locate
from atoll.gateway.merged import BRIEF, MergedList
from atoll.gateway.pipeline import CreatePipeline, CreatePlan, Pin
from atoll.gateway.router import Route
from atoll.gateway.volume import routed
from atoll.gateway.volume.volumes import run
from atoll.resources.spec import Resource
from atoll.resources.volume import BACKUP, SNAPSHOT, VOLUME


async def volume_pin(gw: Gateway, plan: CreatePlan) -> None:
    key = plan.resource.member_key
    volume_id = plan.member.get("volume_id")
    if "volume_id" in plan.member and volume_id is None:
        raise NotFound(VOLUME.not_found("None"))  # Cinder looks a null id up, and finds nothing
    if not isinstance(volume_id, str):
        raise BadRequest(f"Invalid input for field/attribute {key}. 'volume_id' is a required property.")
    try:
        located = await locate(gw, plan.request, VOLUME, volume_id)
    except NotFound:
        raise NotFound(VOLUME.not_found(volume_id)) from None
    plan.pins.append(Pin(located.pod, f"volume {volume_id}"))


def _routes(gw: Gateway, resource: Resource) -> list[Route]:
    pipeline = CreatePipeline(resource, constrain=[volume_pin])
    listed = MergedList(gw, resource, routed.VOLUME_AZ, brief=BRIEF if resource is BACKUP else (), az_filter=True)

    async def create(request: GatewayRequest) -> Reply:
        return await run(gw, pipeline, request)

    return [
        Route("POST", resource.path, create),
        Route("GET", resource.path, listed),
        Route("GET", f"{resource.path}/detail", listed),
        Route(("GET", "PUT", "DELETE"), f"{resource.path}/{{item_id}}", routed.member(gw, resource)),
        Route(
            ("GET", "POST", "PUT", "DELETE"),
            f"{resource.path}/{{item_id}}/{{rest:path}}",
            routed.sub_resource(gw, resource),
        ),
    ]


def routes(gw: Gateway) -> list[Route]:
    async def restore(request: GatewayRequest) -> Reply:
        """A backup restores into a volume of its own pod (or a new one made there)."""
        backup_id = request.params["item_id"]
        located = await locate(gw, request, BACKUP, backup_id)
        document = await request.json()
        target = document.get("restore") if isinstance(document, dict) else None
        volume_id = target.get("volume_id") if isinstance(target, dict) else None
        if isinstance(volume_id, str):
            volume = await locate(gw, request, VOLUME, volume_id)
            if volume.pod.pod_id != located.pod.pod_id:
                raise Conflict(
                    f"Backup {backup_id} is in availability zone {located.pod.az_name} and volume {volume_id} in "
                    f"availability zone {volume.pod.az_name}, in different pods; a backup restores into a volume "
                    "of its own pod."
                )
        return routed.show_atoll_az(await gw.forwarder.forward(request, located.pod), located.pod)

    async def import_record(request: GatewayRequest) -> Reply:
        return await one_pod(gw, request)

    return [
        *_routes(gw, SNAPSHOT),
        Route("POST", "/backups/import_record", import_record),
        Route("POST", "/backups/{item_id}/restore", restore),
        *_routes(gw, BACKUP),
    ]
