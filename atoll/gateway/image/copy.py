"""Copies of an image in other pods: before a server or volume is made from it there, and on an
operator's request (Glance's `copy-image` import, pods as stores).

Before a create (`ensure_in_pod`): the caller must see the image (their own token, in any
pod); if the chosen pod has no active copy, Atoll makes one with its service credentials
(same id, owner, visibility and properties; data piped pod to pod and checked against the
source's checksum, `atoll.sync.imagedata`), then the create goes on. The copy is made once:
the routing of (image, pod) is reserved by the first caller, and concurrent creates needing
the same copy wait for it (`atoll.network.once.Once`).

`POST /images/{id}/import` with `{"method": {"name": "copy-image"}, "stores": [...]}` or
`"all_stores": true` copies the image to the pods named (region names) or to every pod, as
an os-sync request: one `sync_image` job per pod, retried while a pod is down, visible in
`/v1.0/jobs` and `/v1.0/{project}/os-sync`. Answered 202 as Glance does.
"""

from __future__ import annotations

import logging
from typing import Any

from atoll.core.errors import AtollError, BadRequest, Conflict, Forbidden, ServiceUnavailable
from atoll.gateway.deps import Gateway
from atoll.gateway.http import GatewayRequest, Reply
from atoll.gateway.image.copies import find, image_path
from atoll.gateway.services import IMAGE as GLANCE
from atoll.jobs.outcomes import PermanentError, TemporaryError
from atoll.network.once import Once
from atoll.pods.info import PodInfo
from atoll.sync import imagedata
from atoll.sync.request import SyncItem, build
from atoll.types import ProjectId, ResourceType

LOG = logging.getLogger(__name__)

COPY_RULE = "atoll:images:copy_to_pods"
COPY_WAIT = 600.0
"""Seconds a create waits for another caller's copy of its image before taking the copy over."""


async def ensure_in_pod(
    gw: Gateway, request: GatewayRequest, image_id: str, pod: PodInfo, missing: str | None = None
) -> None:
    """The image active in `pod` before a create there. When the caller sees it in no pod, a 400
    with `missing` as its message, or (None) the create goes on and the pod's service answers."""
    if not pod.has("image"):
        return
    if await _active_in(gw, request, image_id, pod):
        return  # the common case: one call, to the chosen pod only
    copies = await find(gw, request, image_id)
    here = copies.in_pod(pod)
    if here is not None and here.image.get("status") == "active":
        return
    sources = [c for c in copies.active() if c.pod.pod_id != pod.pod_id]
    if not sources:
        if here is not None or copies.silent or missing is None:
            return  # being stored there, or a silent pod may have it: the pod's own service answers
        raise BadRequest(missing)
    if gw.calls is None:
        zones = ", ".join(sorted({c.pod.az_name for c in sources}))
        raise Conflict(
            f"Image {image_id} is not available in availability zone {pod.az_name}; it is in availability "
            f"zone(s) {zones}, and Atoll has no service credentials to copy it. Create it there instead."
        )
    source = sources[0]
    calls = gw.calls
    owner = ProjectId(str(source.image.get("owner") or request.context.project_id or ""))

    async def make() -> str:
        document = await imagedata.read(calls, source.pod.name, image_id)
        if document is None or document.get("status") != "active":
            raise PermanentError(f"Image {image_id} is no longer active in {source.pod.name}.")
        LOG.info("Copying image %s from %s to %s for a create there", image_id, source.pod.name, pod.name)
        await imagedata.ensure_copy(calls, source.pod.name, pod.name, document)
        return image_id

    try:
        await Once(gw.routings, stale_after=COPY_WAIT).bottom_id(image_id, ResourceType.IMAGE, pod.pod_id, owner, make)
    except TemporaryError as error:
        raise ServiceUnavailable(
            f"Image {image_id} could not be copied to availability zone {pod.az_name} now: {error.reason}"
        ) from error
    except PermanentError as error:
        raise Conflict(
            f"Image {image_id} could not be copied to availability zone {pod.az_name}: {error.reason}"
        ) from error


async def _active_in(gw: Gateway, request: GatewayRequest, image_id: str, pod: PodInfo) -> bool:
    try:
        response = await gw.forwarder.send(
            request, pod, method="GET", path=image_path(image_id), query=[], service=GLANCE
        )
    except AtollError:
        return False
    if response.status != 200:
        return False
    document = response.json()
    return isinstance(document, dict) and document.get("status") == "active"


async def import_image(gw: Gateway, request: GatewayRequest) -> Reply | None:
    """`copy-image` handled by Atoll (202), or None: another import method, for the image's pod."""
    document: Any = await request.json()
    method = document.get("method") if isinstance(document, dict) else None
    if not isinstance(method, dict) or method.get("name") != "copy-image":
        return None
    context = request.context
    if gw.authorizer is None or not gw.authorizer.check(context, COPY_RULE, {"project_id": context.project_id}):
        raise Forbidden(f"Policy doesn't allow {COPY_RULE} to be performed.")
    image_id = request.params["image_id"]
    pods = [p for p in (await gw.pods()).bottoms if p.has("image")]
    targets = _targets(document, [p.name for p in pods])
    copies = await find(gw, request, image_id)
    active = copies.active()
    if not active:
        if not copies.found:
            return copies.none_reply(gw, request, image_id)
        raise Conflict(f"Image {image_id} is {copies.found[0].image.get('status')}; only an active image is copied.")
    source = active[0]
    holders = {c.pod.name for c in active}
    wanted = [t for t in targets if t not in holders]
    if wanted:
        if gw.jobs is None or gw.enqueue is None:
            raise ServiceUnavailable("Atoll cannot enqueue copies in this process.")
        owner = str(source.image.get("owner") or context.project_id or "")
        item = SyncItem("image", [image_id], [source.pod.name], wanted)
        try:
            job = build(gw.jobs, owner, context.user_id or "", [item], [p.name for p in pods])
        except AtollError as error:
            raise BadRequest(error.message) from error
        job_id = await gw.enqueue(job)
        LOG.info("Image %s: copy to %s as sync job %s", image_id, ", ".join(wanted), job_id)
    return Reply(202, [(b"content-type", b"text/html; charset=UTF-8")], b"")


def _targets(document: dict[str, Any], pods: list[str]) -> list[str]:
    stores, every = document.get("stores"), document.get("all_stores", False)
    if not isinstance(every, bool):
        raise BadRequest("all_stores must be a boolean.")
    if every:
        if stores:
            raise BadRequest("All stores was given and so were stores: give one or the other.")
        return pods
    if not isinstance(stores, list) or not stores or not all(isinstance(s, str) for s in stores):
        raise BadRequest("Name the pods to copy the image to in stores (a list of region names), or set all_stores.")
    unknown = [s for s in stores if s not in pods]
    if unknown:
        raise BadRequest(f"Unknown store(s) {', '.join(unknown)}: the stores are the pods {', '.join(pods)}.")
    return list(dict.fromkeys(stores))
