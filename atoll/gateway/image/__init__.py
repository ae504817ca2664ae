"""Glance (`/image/v2`) through Atoll: images live in pods, one image id in any number of them.

    images      create in one pod, reads from a holder, writes to every copy (`images`)
    data        uploads and downloads streamed (`data`)
    listing     one merged, de-duplicated list (`listing`)
    copy        a copy made before a server or volume uses the image in another pod, and
                Glance's `copy-image` import mapped onto the pods (`copy`)
    copies      where an image is, as the caller sees it (`copies`)

Schemas and `/info` come from one up pod (every pod's Glance has the same), except
`/info/stores`: the pods, as the stores of `copy-image`. The metadata definitions catalog
(`/metadefs`) is global: read from one up pod, written to every up pod; a pod that misses a write
gets the namespace it touched copied whole by a job (`metadefs`). Tasks (Glance's older import API) run in the
first up pod, where the image they make stays; one task is found by asking every pod at once,
and their list is every pod's.
"""

from __future__ import annotations

from atoll.gateway.chained import Paging, concatenated
from atoll.gateway.deps import Gateway
from atoll.gateway.fanout import first_found, one_pod
from atoll.gateway.http import GatewayRequest, Reply, json_reply
from atoll.gateway.image import copy, data, images, listing, metadefs
from atoll.gateway.router import Route, Router


def router(gw: Gateway) -> Router:
    async def create(request: GatewayRequest) -> Reply:
        return await images.create(gw, request)

    async def read(request: GatewayRequest) -> Reply:
        return await images.read(gw, request)

    async def write(request: GatewayRequest) -> Reply:
        return await images.write(gw, request)

    async def upload(request: GatewayRequest) -> Reply:
        return await data.upload(gw, request)

    async def download(request: GatewayRequest) -> Reply:
        return await data.download(gw, request)

    async def import_(request: GatewayRequest) -> Reply:
        handled = await copy.import_image(gw, request)
        return handled if handled is not None else await images.read(gw, request)

    async def shared(request: GatewayRequest) -> Reply:
        return await one_pod(gw, request)

    async def catalog_write(request: GatewayRequest) -> Reply:
        return await metadefs.write(gw, request)

    async def stores(request: GatewayRequest) -> Reply:
        """The pods are the stores `copy-image` copies to (Glance's multi-store discovery shape)."""
        pods = [p for p in (await gw.pods()).bottoms if p.has("image")]
        listed: list[dict[str, object]] = [
            {"id": p.name, "description": f"Pod {p.name}, availability zone {p.az_name}"} for p in pods
        ]
        if listed:
            listed[0]["default"] = True
        return json_reply(200, {"stores": listed})

    return Router(
        [
            Route("GET", "/images", listing.image_list(gw)),
            Route("POST", "/images", create),
            Route("GET", "/images/{image_id}", read),
            Route(("PATCH", "DELETE"), "/images/{image_id}", write),
            Route("GET", "/images/{image_id}/file", download),
            Route("PUT", "/images/{image_id}/file", upload),
            Route("PUT", "/images/{image_id}/stage", upload),
            Route("POST", "/images/{image_id}/import", import_),
            Route(("PUT", "DELETE"), "/images/{image_id}/tags/{tag}", write),
            Route("POST", "/images/{image_id}/actions/{action}", write),
            Route("GET", "/images/{image_id}/tasks", read),  # the image's import tasks, in its home pod
            Route("GET", "/images/{image_id}/members", read),
            Route("GET", "/images/{image_id}/members/{member_id}", read),
            Route("POST", "/images/{image_id}/members", write),
            Route(("PUT", "DELETE"), "/images/{image_id}/members/{member_id}", write),
            Route("GET", "/info/stores", stores),
            Route("GET", "/schemas/{path:path}", shared),
            Route("GET", "/info/{path:path}", shared),
            Route("GET", "/metadefs/{path:path}", shared),
            Route("POST", "/tasks", shared),
            Route("GET", "/tasks", concatenated(gw, "tasks", paging=Paging("id", "next"))),
            Route("GET", "/tasks/{task_id}", first_found(gw)),
            Route(("POST", "PUT", "DELETE"), "/metadefs/{path:path}", catalog_write),
        ]
    )
