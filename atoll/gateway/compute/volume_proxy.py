"""Nova's volume proxy API through Atoll: `/os-volumes` and `/os-snapshots` (up to microversion
2.35; Nova answers 404 from 2.36), which Nova serves from its Cinder in Nova's own shape.

Each pod's Nova serves its own pod's volumes, so Atoll treats these as Cinder's through Atoll:
a create is scheduled like a volume create (a volume made from a snapshot goes to the
snapshot's pod, a snapshot to its volume's pod; the AZ checked and written the pod's way; a
volume type named by Atoll's id passed by name; a routing recorded) and sent to that pod's
Nova; a show or delete goes to the item's pod (its routing, or a search of the pods' Cinder);
the lists are every pod's, one pod after the other, cut by `limit` and `offset` over all of them
as Nova cuts its one list. `availabilityZone` shows Atoll's AZ.
"""

from __future__ import annotations

from atoll.gateway.chained import Paging, concatenated
from atoll.gateway.deps import Gateway
from atoll.gateway.http import GatewayRequest, Reply
from atoll.gateway.pipeline import CreatePipeline, CreatePlan
from atoll.gateway.rewrite import AzFields
from atoll.gateway.router import Route
from atoll.gateway.volume import routed
from atoll.gateway.volume.dependents import volume_pin
from atoll.gateway.volume.volumes import pinned_by, run, type_by_name
from atoll.resources.spec import Resource
from atoll.resources.volume import SNAPSHOT, VOLUME

PROXY_AZ = routed.atoll_az(AzFields("availabilityZone"))
"""Where Nova's proxy shows a volume's AZ."""

LISTED = Paging(marker=None)
"""Nova cuts these lists by `limit` and `offset` (`common.limited`), and links no next page."""


async def types_by_name(gw: Gateway, plan: CreatePlan) -> None:
    """A volume type named by Atoll's id is passed by its name (the pod's id of it differs)."""
    if gw.volume_type_names is not None:
        await type_by_name(gw.volume_type_names)(gw, plan)


def routes(gw: Gateway) -> list[Route]:
    volumes = CreatePipeline(VOLUME, constrain=[pinned_by((("snapshot_id", SNAPSHOT),))], prepare=[types_by_name])
    snapshots = CreatePipeline(SNAPSHOT, constrain=[volume_pin])

    async def create_volume(request: GatewayRequest) -> Reply:
        return await run(gw, volumes, request, PROXY_AZ)

    async def create_snapshot(request: GatewayRequest) -> Reply:
        return await run(gw, snapshots, request, PROXY_AZ)

    def items(base: str, resource: Resource) -> list[Route]:
        listed = concatenated(gw, resource.collection_key, PROXY_AZ, LISTED)
        return [
            Route("GET", base, listed),
            Route("GET", f"{base}/detail", listed),
            Route(("GET", "DELETE"), f"{base}/{{item_id}}", routed.member(gw, resource, PROXY_AZ)),
        ]

    return [
        Route("POST", "/os-volumes", create_volume),
        *items("/os-volumes", VOLUME),
        Route("POST", "/os-snapshots", create_snapshot),
        *items("/os-snapshots", SNAPSHOT),
    ]
