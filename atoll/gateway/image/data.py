"""Image data through Atoll, streamed both ways: never held whole in memory.

PUT /images/{id}/file, /stage   the client's body, chunk by chunk, into the image's home pod
                                (its routing; else the pod where the caller sees it queued),
                                with the client's Content-Length (or chunked, as it came)
GET /images/{id}/file           from the first pod where the image is active, the pod's
                                Content-Length, Content-Type, Content-MD5 and ranges kept
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from atoll.core.errors import BadRequest
from atoll.gateway.deps import Gateway
from atoll.gateway.http import GatewayRequest, Headers, Reply
from atoll.gateway.image.copies import find
from atoll.pods.client import PodResponse, PodStream
from atoll.pods.info import PodInfo
from atoll.types import ResourceType

_UPLOAD_HEADERS = ("content-length", "x-openstack-image-size", "content-md5")
_DOWNLOAD_HEADERS = ("range", "content-range")
_RELAYED = (b"content-type", b"content-length", b"content-md5", b"content-range", b"accept-ranges")


async def _home(gw: Gateway, request: GatewayRequest, image_id: str) -> PodInfo | Reply:
    route = await gw.routings.lookup(image_id, ResourceType.IMAGE)
    if route is not None:
        pod = (await gw.pods()).get(route.pod_id)
        if pod is not None and pod.is_up:
            return pod
    copies = await find(gw, request, image_id)
    waiting = [c for c in copies.found if c.image.get("status") in ("queued", "uploading")]
    if waiting:
        return waiting[0].pod
    if copies.found:
        return copies.found[0].pod  # Glance answers what it answers for an image that has data
    return copies.none_reply(gw, request, image_id)


def _headers(gw: Gateway, request: GatewayRequest, names: tuple[str, ...]) -> dict[str, str]:
    headers = gw.forwarder.headers(request, request.service)
    for name in names:
        value = request.header(name)
        if value is not None:
            headers[name] = value
    return headers


class UnsupportedMediaType(BadRequest):
    status = 415


async def upload(gw: Gateway, request: GatewayRequest) -> Reply:
    image_id = request.params["image_id"]
    if request.header("content-type") is None:
        # The pod client would add a Content-Type to a streamed body; Glance refuses a body without one.
        raise UnsupportedMediaType("Content type None is not supported")
    found = await _home(gw, request, image_id)
    if isinstance(found, Reply):
        return found
    pod = found
    url = gw.forwarder.url(request.service, pod, request.path)
    async with gw.forwarder.clients(pod).stream(
        request.method,
        url,
        token=request.token,
        request_id=request.request_id,
        headers=_headers(gw, request, _UPLOAD_HEADERS),
        params=request.query,
        body=request.stream(),
    ) as answer:
        body = b"".join([chunk async for chunk in answer.iter_chunks()])
        response = PodResponse(answer.status, answer.headers, body)
    return gw.forwarder.relay(request, pod, response)


async def download(gw: Gateway, request: GatewayRequest) -> Reply:
    image_id = request.params["image_id"]
    copies = await find(gw, request, image_id)
    if not copies.found:
        return copies.none_reply(gw, request, image_id)
    pod = (copies.active() or copies.found)[0].pod
    url = gw.forwarder.url(request.service, pod, request.path)
    stack = contextlib.AsyncExitStack()
    answer: PodStream = await stack.enter_async_context(
        gw.forwarder.clients(pod).stream(
            "GET",
            url,
            token=request.token,
            request_id=request.request_id,
            headers=_headers(gw, request, _DOWNLOAD_HEADERS),
        )
    )
    if answer.status not in (200, 206):
        try:
            body = b"".join([chunk async for chunk in answer.iter_chunks()])
            return gw.forwarder.relay(request, pod, PodResponse(answer.status, answer.headers, body))
        finally:
            await stack.aclose()
    headers: Headers = []
    for name, value in answer.headers.items():
        lowered = name.lower().encode("latin-1")
        if lowered in _RELAYED:
            headers.append((lowered, value.encode("latin-1")))
    return Reply(answer.status, headers, _chunks(answer, stack))


async def _chunks(answer: PodStream, stack: contextlib.AsyncExitStack) -> AsyncIterator[bytes]:
    try:
        async for chunk in answer.iter_chunks():
            yield chunk
    finally:
        await stack.aclose()
