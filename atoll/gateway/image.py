"""Glance through Atoll, for now only what compute needs: images are read from one up pod
(the test bed's and the sync's images have the same id in every pod).

Image create, upload (streamed, `PodClient.stream`), copy to the pod a server or volume
is placed in (a create-pipeline `prepare` step), and a de-duplicated merged list are the
image part of the gateway (issue 7 item 5); it replaces this router.
"""

from __future__ import annotations

from atoll.gateway.deps import Gateway
from atoll.gateway.fanout import one_pod
from atoll.gateway.http import GatewayRequest, Reply
from atoll.gateway.router import Route, Router


def router(gw: Gateway) -> Router:
    async def read(request: GatewayRequest) -> Reply:
        return await one_pod(gw, request)

    return Router(
        [
            Route("GET", "/images", read),
            Route("GET", "/images/{image_id}", read),
            Route("GET", "/schemas/{path:path}", read),
            Route("GET", "/info/{path:path}", read),
        ]
    )
