"""Nova through Atoll: `/compute/v2.1/...`."""

from __future__ import annotations

from atoll.gateway.compute import admin, images, ports, servers, shared, tenant_usage, volume_proxy, zones
from atoll.gateway.deps import Gateway
from atoll.gateway.http import GatewayRequest, Reply
from atoll.gateway.merged import BRIEF, MergedList
from atoll.gateway.router import Route, Router
from atoll.resources.compute import SERVER


def router(gw: Gateway) -> Router:
    merged = MergedList(gw, SERVER, servers.SERVER_AZ, brief=BRIEF)

    async def server_list(request: GatewayRequest) -> Reply:
        return await ports.top_names(gw, request, await merged(request))

    return Router(
        [
            Route("GET", "/servers", server_list),
            Route("GET", "/servers/detail", server_list),
            *servers.routes(gw),
            *zones.routes(gw),
            *shared.routes(gw),
            *admin.routes(gw),
            *images.routes(gw),
            *tenant_usage.routes(gw),
            *volume_proxy.routes(gw),
        ]
    )
