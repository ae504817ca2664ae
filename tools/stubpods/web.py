"""What every stub service request goes through: which pod and service it is for, the pod's
latency and injected failure, Keystone token checks, request ids, and the service's own 404.

One aiohttp application serves every pod; a pod is told apart by the local
port the request arrived on, so 100 pods cost 100 listening sockets and one
router, not 100 applications.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from stubpods import faults
from stubpods.config import FailureMode
from stubpods.identity import Claims, TokenAuthority

if TYPE_CHECKING:
    from stubpods.pod import Pod

PREFIXES = {
    "compute": "compute",
    "volume": "volume",
    "image": "image",
    "networking": "network",
    "placement": "placement",
}
"""First path segment -> service. Endpoints look like DevStack's: http://host:port/compute/v2.1."""

PODS = web.AppKey("pods", dict[int, "Pod"])
TOKENS = web.AppKey("tokens", TokenAuthority)
DATA_DIR = web.AppKey("data_dir", str)
POD: web.RequestKey[Pod] = web.RequestKey("pod")
SERVICE = web.RequestKey("service", str)
CLAIMS = web.RequestKey("claims", Claims)
REQUEST_ID = web.RequestKey("request_id", str)
PUBLIC = "public"
"""Route names starting with this need no token (version documents)."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def pod_of(request: web.Request) -> Pod:
    pod: Pod = request[POD]
    return pod


def claims_of(request: web.Request) -> Claims:
    claims: Claims = request[CLAIMS]
    return claims


def _local_port(request: web.Request) -> int:
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    return int(sockname[1]) if sockname else -1


@web.middleware
async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
    pod = request.app[PODS].get(_local_port(request))
    service = PREFIXES.get(request.path.split("/", 2)[1])
    if pod is None or service is None:
        return web.Response(status=404, text="404: Not Found")
    request[POD] = pod
    request[SERVICE] = service
    pod.requests += 1
    request[REQUEST_ID] = f"req-{uuid.uuid4()}"
    if pod.failure is not None and pod.failure.mode == FailureMode.DOWN:
        pod.cut(request)
    await pod.delay()
    failure = pod.failure
    if failure is not None and failure.hits(service):
        if failure.mode == FailureMode.HANG:
            await pod.recovered()
        elif failure.mode == FailureMode.ERROR:
            message = f"Injected failure of {pod.name} (stubpods)."
            return faults.for_service(service, failure.status, message, request, request[REQUEST_ID])
        else:
            pod.cut(request)
    route = request.match_info.route
    if not (route.name or "").startswith(PUBLIC):
        token = request.headers.get("X-Auth-Token", "")
        claims = request.app[TOKENS].validate(token) if token else None
        if claims is None:
            return faults.unauthorized(service, request)
        request[CLAIMS] = claims
    error = request.match_info.http_exception
    if error is not None:
        message = faults.NOT_FOUND if error.status == 404 else error.reason
        return faults.for_service(service, error.status, message, request, request[REQUEST_ID])
    if request.method != "GET":
        pod.state.generation += 1  # any write may change any answer of the pod
        return await handler(request)
    return await _remembered(request, handler, pod)


CACHED_BODY_LIMIT = 1 << 20
UNCACHED_HEADERS = {"content-length", "date", "server"}


async def _remembered(request: web.Request, handler: Handler, pod: Pod) -> web.StreamResponse:
    """A GET answered before, with the pod's data unchanged since, is answered with the same bytes.

    Rendering a page of detailed servers is most of a stub's CPU; benchmarks repeat the same lists, and
    the stubs must stay cheaper than what they measure. The key holds everything an answer depends on:
    the pod's write generation, the URL and host, the caller, the microversion and Accept headers.
    Latency, failures and token checks happen before, on every request; request ids are added after.
    """
    claims = request.get(CLAIMS)
    headers = request.headers
    key = (
        pod.state.generation,
        request.path_qs,
        request.host,
        claims.user.name if claims else "",
        claims.project.id if claims else "",
        headers.get("OpenStack-API-Version"),
        headers.get("X-OpenStack-Nova-API-Version"),
        headers.get("Accept"),
    )
    hit = pod.answers.get(key)
    if hit is not None:
        status, body, kept = hit
        return web.Response(status=status, body=body, headers=kept)
    response = await handler(request)
    rendered = response.body if type(response) is web.Response else None
    if isinstance(rendered, bytes) and len(rendered) <= CACHED_BODY_LIMIT:
        kept = tuple((k, v) for k, v in response.headers.items() if k.lower() not in UNCACHED_HEADERS)
        pod.answers[key] = (response.status, rendered, kept)
    return response


NO_REQUEST_ID = "public-noid:"
"""Route names starting with this (Nova's, Glance's and Neutron's version documents) answer without request ids,
as their real services do (the version app sits outside the request-id middleware)."""


async def request_ids(request: web.Request, response: web.StreamResponse) -> None:
    """Every service sends `x-openstack-request-id` (Nova also `x-compute-request-id`), as recorded."""
    request_id = request.get(REQUEST_ID)
    service = request.get(SERVICE)
    route = request.match_info.route.name or ""
    if request_id is None or route.startswith(NO_REQUEST_ID) or (service == "image" and response.status == 401):
        return
    response.headers["x-openstack-request-id"] = request_id
    if service == "compute":
        response.headers["x-compute-request-id"] = request_id


def root_url(request: web.Request) -> str:
    """`http://host:port/<service prefix>` as the client addressed it."""
    return f"{request.scheme}://{request.host}/{request.path.split('/', 2)[1]}"
