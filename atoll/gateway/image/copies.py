"""Where an image is: every up pod's answer to the caller's `GET /v2/images/{id}`.

The caller's token decides what the caller may see (a tenant never reaches another's
private image through Atoll); the pod of the image's first routing (where it was created
through Atoll) comes first, then the others in the pods' order.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from atoll.core.errors import AtollError, ServiceUnavailable
from atoll.gateway.deps import Gateway
from atoll.gateway.fanout import up_pods
from atoll.gateway.http import GatewayRequest, Reply
from atoll.gateway.services import IMAGE as GLANCE
from atoll.pods.client import PodResponse
from atoll.pods.info import PodInfo
from atoll.types import ResourceType


@dataclasses.dataclass(frozen=True)
class Copy:
    pod: PodInfo
    image: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Copies:
    found: list[Copy]
    refused: tuple[PodInfo, PodResponse] | None
    """A pod's answer other than 200 (its 404), relayed when no pod has the image."""
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
        return gw.forwarder.relay(request, *self.refused)


def image_path(image_id: str) -> str:
    return f"/images/{image_id}"


async def find(gw: Gateway, request: GatewayRequest, image_id: str, *, home_first: bool = True) -> Copies:
    """The copies the caller sees; with `home_first`, the pod it was created in first, else in the
    pods' order (the order the merged list picks the copy it shows by)."""
    pods = await up_pods(gw, request)
    path = image_path(image_id)
    answers = await asyncio.gather(
        *(gw.forwarder.send(request, p, method="GET", path=path, query=[], service=GLANCE) for p in pods),
        return_exceptions=True,
    )
    found: list[Copy] = []
    refused: tuple[PodInfo, PodResponse] | None = None
    silent: list[PodInfo] = []
    for pod, answer in zip(pods, answers, strict=True):
        if isinstance(answer, AtollError):
            silent.append(pod)
        elif isinstance(answer, BaseException):
            raise answer
        elif answer.status == 200:
            document = answer.json()
            if isinstance(document, dict):
                found.append(Copy(pod, document))
        elif answer.status >= 500:
            silent.append(pod)
        elif refused is None:
            refused = (pod, answer)
    home = await gw.routings.lookup(image_id, ResourceType.IMAGE) if home_first else None
    if home is not None:
        found.sort(key=lambda c: c.pod.pod_id != home.pod_id)
    return Copies(found, refused, silent)
