"""Compute resources that are not scheduled: flavors and keypairs (global: the same in every
pod), limits and quota sets (per project: until the global quota exists, written to every pod and
read with the usage of every pod added up, `usage`), and
server groups (scheduled like servers, which they pin).

Global resources are written to every up pod synchronously and read from one; a pod that
misses a flavor or keypair write (down, or failing) gets a job that catches it up when it is
back (`catchup`).
"""

from __future__ import annotations

import asyncio
import json
import uuid

from atoll.gateway.catchup import catch_up
from atoll.gateway.chained import Paging, concatenated
from atoll.gateway.deps import Gateway
from atoll.gateway.fanout import every_pod, every_pod_missed, failed, one_pod, up_pods
from atoll.gateway.http import GatewayRequest, Reply
from atoll.gateway.locate import locate
from atoll.gateway.pipeline import CreatePipeline
from atoll.gateway.router import Route
from atoll.gateway.usage import summed_usage
from atoll.resources.compute import SERVER_GROUP
from atoll.types import ResourceType

READ = ("GET",)
WRITE = ("POST", "PUT", "DELETE")


def routes(gw: Gateway) -> list[Route]:
    async def read(request: GatewayRequest) -> Reply:
        return await one_pod(gw, request)

    summed = summed_usage(gw)

    async def write(request: GatewayRequest) -> Reply:
        reply, _ = await every_pod(gw, request)
        return reply

    async def create_flavor(request: GatewayRequest) -> Reply:
        """The same flavor id in every pod: Atoll picks one when the caller gives none."""
        document = await request.json()
        flavor = document.get("flavor") if isinstance(document, dict) else None
        if isinstance(flavor, dict) and flavor.get("id") in (None, "", "auto"):
            flavor["id"] = str(uuid.uuid4())
        written = await every_pod_missed(gw, request, body=json.dumps(document).encode())
        made = written.response.json().get("flavor", {}) if written.response.status < 300 else {}
        if isinstance(made, dict) and isinstance(made.get("id"), str):
            await catch_up(gw, request, "flavor", made["id"], written.first, written.missed)
        return written.reply

    async def write_flavor(request: GatewayRequest) -> Reply:
        """A change to a flavor (its description, extra specs, access) or its delete, in every pod."""
        flavor_id = request.params["flavor_id"]
        written = await every_pod_missed(gw, request)
        delete = request.method == "DELETE" and "rest" not in request.params
        await catch_up(gw, request, "flavor", flavor_id, written.first, written.missed, delete=delete)
        return written.reply

    async def create_keypair(request: GatewayRequest) -> Reply:
        """A keypair Nova generates in the first pod is imported, by its public key, into the others;
        a pod that is down or fails gets it by a job."""
        document = await request.json()
        first, *others = await up_pods(gw, request)
        down = [p for p in (await gw.pods()).bottoms if not p.is_up and p.has("compute")]
        response = await gw.forwarder.send(request, first, json_body=document)
        keypair = response.json().get("keypair", {}) if response.status < 300 else {}
        if not isinstance(keypair, dict) or not keypair.get("public_key"):
            return gw.forwarder.relay(request, first, response)
        wanted = dict(document["keypair"]) | {"public_key": keypair["public_key"]}
        results = await asyncio.gather(
            *(gw.forwarder.send(request, pod, json_body={"keypair": wanted}) for pod in others),
            return_exceptions=True,
        )
        missed = [p for p, r in zip(others, results, strict=True) if failed(r)]
        user = wanted.get("user_id") if isinstance(wanted.get("user_id"), str) else None
        await catch_up(gw, request, "keypair", str(keypair.get("name")), first, down + missed, user_id=user)
        return gw.forwarder.relay(request, first, response)

    async def delete_keypair(request: GatewayRequest) -> Reply:
        written = await every_pod_missed(gw, request)
        user = next((v for k, v in request.query if k == "user_id"), None)
        name = request.params["name"]
        await catch_up(gw, request, "keypair", name, written.first, written.missed, delete=True, user_id=user)
        return written.reply

    group_pipeline = CreatePipeline(SERVER_GROUP)

    async def create_group(request: GatewayRequest) -> Reply:
        return await group_pipeline.run(gw, request)

    async def group(request: GatewayRequest) -> Reply:
        group_id = request.params["group_id"]
        located = await locate(gw, request, SERVER_GROUP, group_id)
        response = await gw.forwarder.send(request, located.pod)
        if request.method == "DELETE" and response.status == 204:
            await gw.routings.forget(group_id, ResourceType.SERVER_GROUP, delete=True)
        return gw.forwarder.relay(request, located.pod, response)

    list_groups = concatenated(gw, "server_groups", paging=Paging(marker=None))

    return [
        Route("POST", "/flavors", create_flavor),
        Route(READ, "/flavors/detail", read),
        Route(READ, "/flavors/{flavor_id}/{rest:path}", read),
        Route(WRITE, "/flavors/{flavor_id}/{rest:path}", write_flavor),
        Route(READ, "/flavors/{flavor_id}", read),
        Route(WRITE, "/flavors/{flavor_id}", write_flavor),
        Route(READ, "/flavors", read),
        Route("POST", "/os-keypairs", create_keypair),
        Route(READ, "/os-keypairs", read),
        Route(READ, "/os-keypairs/{name}", read),
        Route("DELETE", "/os-keypairs/{name}", delete_keypair),
        Route(READ, "/limits", summed),
        Route(READ, "/extensions", read),
        Route(READ, "/extensions/{alias}", read),
        Route(READ, "/os-quota-sets/{rest:path}", summed),
        Route(("PUT", "DELETE"), "/os-quota-sets/{rest:path}", write),
        Route(READ, "/os-quota-class-sets/{rest:path}", read),
        Route("PUT", "/os-quota-class-sets/{rest:path}", write),
        Route("POST", "/os-server-groups", create_group),
        Route(READ, "/os-server-groups", list_groups),
        Route(("GET", "DELETE"), "/os-server-groups/{group_id}", group),
    ]
