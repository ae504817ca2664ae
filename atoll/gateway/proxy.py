"""Forwarding one call to one pod, and relaying its answer.

To the pod: the user's token, the global request id, the negotiated microversion,
the content type; nothing else of the caller's headers. From the pod: its status,
body and headers, minus hop-by-hop ones and its own request ids (Atoll's replace
them), with its URLs rewritten to Atoll's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from atoll.gateway import microversion
from atoll.gateway.http import GatewayRequest, Headers, Reply
from atoll.gateway.rewrite import Rewriter, pod_pairs, service_root
from atoll.gateway.services import SERVICES, Service
from atoll.pods.client import PodResponse
from atoll.pods.info import PodInfo
from atoll.pods.pool import PodClients

_DROPPED = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "proxy-authenticate",
        "proxy-authorization",
        "content-length",
        "server",
        "date",
        "x-openstack-request-id",
        "x-compute-request-id",
        "set-cookie",
    }
)
_PASSED_IN = ("content-type", "accept")


class Forwarder:
    def __init__(self, clients: PodClients) -> None:
        self.clients = clients
        self._rewriters: dict[tuple[object, ...], Rewriter] = {}

    def headers(self, request: GatewayRequest, service: Service) -> dict[str, str]:
        headers = {}
        for name in _PASSED_IN:
            value = request.header(name)
            if value is not None:
                headers[name] = value
        if request.microversion is not None and service is request.service:
            headers |= microversion.pod_headers(service, request.microversion)
        return headers

    @staticmethod
    def url(service: Service, pod: PodInfo, path: str) -> str:
        return service_root(pod.url(service.name)) + service.version + path

    async def send(
        self,
        request: GatewayRequest,
        pod: PodInfo,
        *,
        method: str | None = None,
        path: str | None = None,
        query: Sequence[tuple[str, str]] | None = None,
        body: bytes | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        service: Service | None = None,
    ) -> PodResponse:
        """The request (or a variant of it: another method, path, query, body or service) sent to `pod`."""
        service = service or request.service
        sent = self.headers(request, service) | dict(headers or {})
        if body is None and json_body is None and method is None and request.method in ("POST", "PUT", "PATCH"):
            body = await request.body()
        return await self.clients(pod).request(
            method or request.method,
            self.url(service, pod, request.path if path is None else path),
            token=request.token,
            request_id=request.request_id,
            headers=sent,
            params=list(request.query if query is None else query),
            body=body,
            json_body=json_body,
            timeout=timeout,
        )

    def rewriter(self, request: GatewayRequest, pod: PodInfo) -> Rewriter:
        # One per pod (as its endpoints are now), Atoll URL and service: built once, reused.
        key = (pod.pod_id, request.base_url, tuple(pod.endpoints.items()), request.service.name)
        rewriter = self._rewriters.get(key)
        if rewriter is None:
            if len(self._rewriters) > 1024:
                self._rewriters.clear()
            roots = {s.name: request.base_url + s.prefix for s in SERVICES}
            # Where two services of a pod share one root, the service asked for wins.
            order = [s.name for s in SERVICES if s is not request.service] + [request.service.name]
            rewriter = self._rewriters[key] = Rewriter(pod_pairs(pod, roots, order))
        return rewriter

    def relay(self, request: GatewayRequest, pod: PodInfo, response: PodResponse) -> Reply:
        rewriter = self.rewriter(request, pod)
        headers: Headers = []
        for name, value in response.headers.items():
            lower = name.lower()
            if lower in _DROPPED:
                continue
            text = rewriter.url(value) if lower == "location" else value
            headers.append((lower.encode("latin-1"), text.encode("latin-1")))
        return Reply(response.status, headers, rewriter.body(response.body))

    async def forward(self, request: GatewayRequest, pod: PodInfo, **variant: Any) -> Reply:
        return self.relay(request, pod, await self.send(request, pod, **variant))
