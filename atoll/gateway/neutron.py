"""`atoll.network.Neutron` over the forwarder: a pod's Neutron (or the central one) called
with the caller's token and request id, as part of the request being served."""

from __future__ import annotations

import dataclasses
from typing import Any

from atoll.core.errors import ServiceUnavailable
from atoll.gateway.deps import Gateway
from atoll.gateway.http import GatewayRequest
from atoll.gateway.services import NETWORK
from atoll.network.neutron import Query
from atoll.pods.client import PodResponse
from atoll.pods.info import PodInfo


@dataclasses.dataclass
class ForwardedNeutron:
    gw: Gateway
    request: GatewayRequest
    pod: PodInfo
    name: str

    async def call(self, method: str, path: str, *, json_body: Any = None, query: Query = ()) -> PodResponse:
        return await self.gw.forwarder.send(
            self.request, self.pod, method=method, path=path, query=list(query), json_body=json_body, service=NETWORK
        )


def central(gw: Gateway, request: GatewayRequest) -> ForwardedNeutron:
    neutron = gw.central_neutron()
    if neutron is None:
        raise ServiceUnavailable("Atoll has no central Neutron: set [gateway] central_neutron_url.")
    return ForwardedNeutron(gw, request, neutron, "the central Neutron")


def of_pod(gw: Gateway, request: GatewayRequest, pod: PodInfo) -> ForwardedNeutron:
    return ForwardedNeutron(gw, request, pod, f"pod {pod.name}")
