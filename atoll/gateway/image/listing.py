"""`GET /images`: one merged list over the pods, each image once however many pods hold a copy.

The pods' lists are merged by `MergedList` (Glance's sort, limit, marker, `first`/`next`).
Copies of one image sort apart (each pod's `created_at` is the time of its copy), so the
merge alone would show an image once per pod: an image is shown from the first pod, in the
pods' order, that lists it to the caller with the same filters (`Pager.copies`). For the
items a page would show, each earlier pod is asked once (`id=in:...` with the caller's token
and filters) which of them it lists, unless its own answer already holds them: one question
per pod and page, not one per pair of pods. A pod that does not answer that question does
not hide anything (a duplicate rather than a hole).

A plain image id as `marker` (what glanceclient and the CLI send) is found in the pods and
the list goes on strictly after it in every pod.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from typing import Any

from atoll.core.errors import AtollError, InvalidInput
from atoll.gateway.deps import Gateway
from atoll.gateway.http import GatewayRequest
from atoll.gateway.image.copies import Copy, find
from atoll.gateway.merged import MergedList
from atoll.gateway.services import IMAGE as GLANCE
from atoll.listing import Marker, is_atoll_marker
from atoll.pods.info import PodInfo
from atoll.resources.image import IMAGE

BATCH = 40
"""Ids asked of a pod in one `id=in:` filter (a URL stays well under 4 KiB)."""


def image_list(gw: Gateway) -> MergedList:
    return ImageList(gw, IMAGE, copies=functools.partial(listed_in, gw))


class ImageList(MergedList):
    async def _marker(self, request: GatewayRequest, text: str | None, spec: Any) -> Marker | None:
        if text is None or is_atoll_marker(text):
            return await super()._marker(request, text, spec)
        first = await shown_copy(self.gw, request, text)
        if first is None:
            raise InvalidInput(f"No image found with ID {text}")  # Glance's 400 for an unknown marker
        # The other pods' copies sort elsewhere (their own created_at), so those pods are sought by
        # the shown copy's values, and `Pager.copies` passes theirs over.
        return Marker.after_item(spec, first.image, {first.pod.name: text})


async def shown_copy(gw: Gateway, request: GatewayRequest, image_id: str) -> Copy | None:
    """The copy of an image the lists show (the first pod's, in the pods' order); None if no pod
    shows it to the caller (or none could be asked)."""
    try:
        copies = await find(gw, request, image_id, home_first=False)
    except AtollError:
        return None
    return copies.found[0] if copies.found else None


async def listed_in(
    gw: Gateway, request: GatewayRequest, pod: PodInfo, ids: list[str], filters: Sequence[tuple[str, str]]
) -> set[str]:
    """Which of `ids` the pod's Glance lists to the caller with Glance's `filters` (none if it is down or
    does not answer)."""
    if not pod.is_up:
        return set()
    rest = [(k, v) for k, v in filters if k != "id"]
    batches = [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]

    async def ask(batch: list[str]) -> set[str]:
        query = [*rest, ("id", "in:" + ",".join(batch)), ("limit", str(len(batch)))]
        try:
            response = await gw.forwarder.send(
                request, pod, method="GET", path="/images", query=query, timeout=gw.list_timeout, service=GLANCE
            )
        except AtollError:
            return set()
        if response.status != 200:
            return set()
        document = response.json()
        images = document.get("images") if isinstance(document, dict) else None
        return {str(i.get("id")) for i in images or [] if isinstance(i, dict)}

    found = await asyncio.gather(*(ask(b) for b in batches))
    return set().union(*found)
