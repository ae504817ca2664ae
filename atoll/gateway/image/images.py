"""Images: create in one pod, reads from a pod holding a copy, writes to every copy.

    POST   /images                  the record made in the pod the scheduler chooses, under the
                                    client's id or one Atoll chooses; its routing names that pod
    GET    /images/{id}[/...]       the first pod that shows it to the caller (its home pod first)
    PATCH, DELETE /images/{id},     every pod holding a copy: the first decides, the others follow;
    tags, members, actions          a DELETE also drops the image's routings

Glance's error bodies and statuses are the pods' own, relayed.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from atoll.core.errors import BadRequest, Conflict
from atoll.gateway.catchup import catch_up
from atoll.gateway.deps import Gateway
from atoll.gateway.fanout import ask_each, log_failures
from atoll.gateway.http import GatewayRequest, Reply
from atoll.gateway.image.copies import Copies, find
from atoll.pods.client import PodResponse
from atoll.types import ProjectId, ResourceType

Missing = Callable[[GatewayRequest], Awaitable[Reply]]
"""The answer to a change of an image no pod has."""

LOG = logging.getLogger(__name__)

IMAGE = ResourceType.IMAGE


async def create(gw: Gateway, request: GatewayRequest) -> Reply:
    document: Any = await request.json()
    if not isinstance(document, dict):
        raise BadRequest("Body expected in request: a JSON object.")
    image_id = document.setdefault("id", str(uuid.uuid4()))
    if not isinstance(image_id, str) or not image_id or image_id in (".", ".."):
        raise BadRequest(f"Invalid input for field/attribute id. Value: {image_id!r}. It must be a string.")
    project = ProjectId(request.context.project_id or "")
    await _id_free(gw, image_id)
    pod = await gw.scheduler.choose(await gw.pods(), project, None)
    try:
        reservation = await gw.routings.reserve(pod.pod_id, project, IMAGE, top_id=image_id)
    except Conflict:
        raise Conflict(f"Image with identifier {image_id} already exists!") from None
    try:
        response = await gw.forwarder.send(request, pod, json_body=document)
    except BaseException:
        await gw.routings.release(reservation)
        raise
    if response.status == 201:
        owner = response.json().get("owner") or project
        await gw.routings.confirm(reservation, image_id, image_id, ProjectId(str(owner)))
    else:
        await gw.routings.release(reservation)
    return gw.forwarder.relay(request, pod, response)


async def _id_free(gw: Gateway, image_id: str) -> None:
    """409 when the id is taken in any pod (Glance refuses a taken id; Atoll for every pod at once).
    Known through the routings, and with service credentials also asked of every pod."""
    if await gw.routings.routes(image_id, IMAGE):
        raise Conflict(f"Image with identifier {image_id} already exists!")
    if gw.calls is None:
        return
    pods = [p for p in (await gw.pods()).bottoms if p.is_up and p.has("image")]
    calls = gw.calls
    path = f"/v2/images/{quote(image_id, safe='')}"  # never another path, on Atoll's credentials
    answers = await asyncio.gather(*(calls.call(p.name, "image", "GET", path) for p in pods), return_exceptions=True)
    if any(isinstance(a, PodResponse) and a.status == 200 for a in answers):
        raise Conflict(f"Image with identifier {image_id} already exists!")


async def read(gw: Gateway, request: GatewayRequest) -> Reply:
    """A call for one copy (a read, an import other than copy-image): the image's home pod (its
    routing), or else the first pod that shows it to the caller."""
    image_id = request.params["image_id"]
    home = await gw.routings.lookup(image_id, IMAGE)
    if home is not None:
        pod = (await gw.pods()).get(home.pod_id)
        if pod is not None and pod.is_up:
            response = await gw.forwarder.send(request, pod)
            if response.status != 404:
                return gw.forwarder.relay(request, pod, response)
    copies = await find(gw, request, image_id)
    if not copies.found:
        return copies.none_reply(gw, request, image_id)
    return await gw.forwarder.forward(request, copies.found[0].pod)


async def write(gw: Gateway, request: GatewayRequest, missing: Missing | None = None) -> Reply:
    """A change to every copy: the first pod's answer decides, the others get the same call after it.
    (Nova's image API uses it too: each pod's Nova passes the call to its Glance.) With no copy, the
    answer is `missing(request)`, by default Glance's 404 (or a 503 when a pod did not answer)."""
    image_id = request.params["image_id"]
    copies = await find(gw, request, image_id)
    if not copies.found:
        return await missing(request) if missing else copies.none_reply(gw, request, image_id)
    first, *others = [c.pod for c in copies.found]
    body = await request.body() if request.method in ("POST", "PUT", "PATCH") else None
    response = await gw.forwarder.send(request, first, body=body)
    if response.status < 300 and others:
        log_failures(request, others, await ask_each(gw, request, others, body=body))
    if response.status < 300:
        await _catch_up(gw, request, image_id, copies)
    if request.method == "DELETE" and request.path == f"/images/{image_id}" and response.status == 204:
        await gw.routings.forget(image_id, IMAGE, delete=True)
    _warn_missed(request, copies)
    return gw.forwarder.relay(request, first, response)


async def _catch_up(gw: Gateway, request: GatewayRequest, image_id: str, copies: Copies) -> None:
    """Copies in pods that are down or did not answer (known by their routings) get the change by a
    job once back: deleted there (`sync_remove_image`), or made the same as the first copy
    (`sync_image` with force)."""
    snapshot = await gw.pods()
    silent = {p.pod_id for p in copies.silent}
    missed = [
        pod
        for route in await gw.routings.routes(image_id, IMAGE)
        if (pod := snapshot.get(route.pod_id)) is not None and (not pod.is_up or pod.pod_id in silent)
    ]
    if not missed:
        return
    first = copies.found[0]
    delete = request.method == "DELETE" and request.path == f"/images/{image_id}"
    owner = str(first.image.get("owner") or request.context.project_id or "")
    await catch_up(gw, request, "image", image_id, first.pod, missed, delete=delete, project_id=owner)


def _warn_missed(request: GatewayRequest, copies: Copies) -> None:
    for pod in copies.silent:
        LOG.warning(
            "%s %s: pod %s did not answer and may keep its copy unchanged", request.method, request.path, pod.name
        )
