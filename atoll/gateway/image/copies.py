"""Where an image is: every up pod's answer to the caller's `GET /v2/images/{id}`.

The caller's token decides what the caller may see (a tenant never reaches another's
private image through Atoll); the pod of the image's first routing (where it was created
through Atoll) comes first, then the others in the pods' order.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from atoll.core.errors import ServiceUnavailable
from atoll.gateway.deps import Gateway
from atoll.gateway.fanout import ask_up_pods
from atoll.gateway.http import GatewayRequest, Reply
from atoll.gateway.services import IMAGE as GLANCE
from atoll.pods.info import PodInfo
from atoll.types import ResourceType


@dataclasses.dataclass(frozen=True)
class Copy:
    pod: PodInfo
    image: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Copies:
    found: list[Copy]
    refused: Reply | None
    """A pod's answer other than 200 (its 404), relayed: the answer when no pod has the image."""
    silent: list[PodInfo]
    """Up pods that did not answer."""

    def active(self) -> list[Copy]:
        return [c for c in self.found if c.image.get("status") == "active"]

    def in_pod(self, pod: PodInfo) -> Copy | None:
        return next((c for c in self.found if c.pod.pod_id == pod.pod_id), None)

    def none_reply(self, gw: Gateway, request: GatewayRequest, image_id: str) -> Reply:
        """What to answer when no pod showed the image: 503 if a pod did not answer, else a pod's 404."""
        if self.silent:
            zones = ", ".join(sorted({p.az_name for p in self.silent}))
            raise ServiceUnavailable(
                f"No image found with ID {image_id} in the pods that answer; availability zone(s) {zones} did "
                "not answer. Try again later."
            )
        assert self.refused is not None
        return self.refused


def image_path(image_id: str) -> str:
    return f"/images/{image_id}"


async def find(gw: Gateway, request: GatewayRequest, image_id: str, *, home_first: bool = True) -> Copies:
    """The copies the caller sees; with `home_first`, the pod it was created in first, else in the
    pods' order (the order the merged list picks the copy it shows by)."""
    asked = await ask_up_pods(gw, request, method="GET", path=image_path(image_id), query=[], service=GLANCE)
    found = [Copy(pod, document) for pod, _reply, document in asked.documents]
    home = await gw.routings.lookup(image_id, ResourceType.IMAGE) if home_first else None
    if home is not None:
        found.sort(key=lambda c: c.pod.pod_id != home.pod_id)
    return Copies(found, asked.refusal, [pod for pod, _why in asked.unavailable])
