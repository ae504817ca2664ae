"""Nova's image API through Atoll (`/compute/v2.1/images`): Glance's images in Nova's shape.

Nova answers it up to microversion 2.35 (404 from 2.36, which the pods say themselves) by
passing each call to its own Glance; Tempest's compute image tests and older clients still use
it. Through Atoll it shows what Atoll's image API shows:

- the lists are every pod's Nova list merged (Glance's order: newest first), each image once,
  from the first pod in the pods' order that lists it, as `GET /image/v2/images` shows it
  (`Pager.copies`; the pods' Glance is asked which of a page's ids it lists);
- an image and its metadata are read from that same pod;
- a delete and a metadata write reach every pod holding a copy (the first pod's answer is
  Atoll's), and a copy in a pod that is down gets it by a job once back
  (`atoll.gateway.image.images.write`).

An image no pod shows is the first up pod's own 404 ("Image not found.").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from atoll.gateway.deps import Gateway
from atoll.gateway.fanout import first_found
from atoll.gateway.http import GatewayRequest, Reply
from atoll.gateway.image import images
from atoll.gateway.image.copies import find
from atoll.gateway.image.listing import listed_in, shown_copy
from atoll.gateway.merged import BRIEF, MergedList, unknown_marker
from atoll.gateway.router import Route
from atoll.listing import Marker, is_atoll_marker
from atoll.pods.info import PodInfo
from atoll.resources.compute import NOVA_IMAGE

READ = ("GET",)

_GLANCE_FILTERS = {"name": "name", "status": "status"}
"""Nova's list filters that mean the same to Glance (its `status` lowercased, as Nova sends it); the
others (server, type, minRam, minDisk, changes-since) are the same for every copy of an image."""


def glance_filters(filters: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The caller's Nova filters Glance reads alike, in Glance's words."""
    kept = [(_GLANCE_FILTERS[k], v) for k, v in filters if k in _GLANCE_FILTERS]
    return [(k, v.lower() if k == "status" else v) for k, v in kept]


class NovaImageList(MergedList):
    async def _marker(self, request: GatewayRequest, text: str | None, spec: Any) -> Marker | None:
        if text is None or is_atoll_marker(text):
            return await super()._marker(request, text, spec)
        copy = await shown_copy(self.gw, request, text)  # a plain image id: the copy the list shows
        if copy is None:
            raise unknown_marker(request, text)
        return await self._after(request, copy.pod, text, spec)


def routes(gw: Gateway) -> list[Route]:
    async def listed(
        request: GatewayRequest, pod: PodInfo, ids: list[str], filters: Sequence[tuple[str, str]]
    ) -> set[str]:
        return await listed_in(gw, request, pod, ids, glance_filters(filters))

    merged = NovaImageList(gw, NOVA_IMAGE, brief=BRIEF, copies=listed)
    any_pod = first_found(gw)

    async def in_first_pod(request: GatewayRequest) -> Reply:
        """The call to the pod of the copy the lists show; with none, the first up pod's own answer."""
        copies = await find(gw, request, request.params["image_id"], home_first=False)
        if not copies.found:
            nowhere: Reply = await any_pod(request)
            return nowhere
        return await gw.forwarder.forward(request, copies.found[0].pod)

    async def everywhere(request: GatewayRequest) -> Reply:
        return await images.write(gw, request, missing=any_pod)

    return [
        Route(READ, "/images", merged),
        Route(READ, "/images/detail", merged),
        Route(READ, "/images/{image_id}", in_first_pod),
        Route("DELETE", "/images/{image_id}", everywhere),
        Route(READ, "/images/{image_id}/metadata", in_first_pod),
        Route(("PUT", "POST"), "/images/{image_id}/metadata", everywhere),
        Route(READ, "/images/{image_id}/metadata/{key}", in_first_pod),
        Route(("PUT", "DELETE"), "/images/{image_id}/metadata/{key}", everywhere),
    ]
