"""When a top object is deleted, its copies in the pods go too.

A top network's copies take their subnets with them (Neutron deletes a network's
subnets); a copy already gone is not an error. A pod that refuses or does not answer
keeps its copy: it is logged and its routing stays, so a later delete can retry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from atoll.core.errors import AtollError
from atoll.network import neutron
from atoll.network.neutron import Neutron
from atoll.routing.store import RoutingStore
from atoll.types import PodId, ResourceType

LOG = logging.getLogger(__name__)

COLLECTIONS = {
    ResourceType.NETWORK: "networks",
    ResourceType.SUBNET: "subnets",
    ResourceType.SECURITY_GROUP: "security-groups",
}

PodNeutron = Callable[[PodId], Neutron | None]
"""A pod's Neutron, None if the pod is gone or down."""


async def remove_copies(
    routings: RoutingStore,
    kind: ResourceType,
    top_id: str,
    pods: PodNeutron,
    *,
    with_subnets: Sequence[str] = (),
) -> None:
    """Delete the copies of a deleted top object (`with_subnets`: a network's top subnets)."""
    for route in await routings.routes(top_id, kind):
        pod = pods(route.pod_id)
        if pod is None:
            LOG.warning("The copy of %s %s in pod %s stays: the pod is down or gone", kind, top_id, route.pod_id)
            continue
        try:
            await _delete(pod, f"/{COLLECTIONS[kind]}/{route.bottom_id}")
        except AtollError as error:
            LOG.warning("The copy of %s %s in %s stays: %s", kind, top_id, pod.name, error.message)
            continue
        await routings.forget_in(top_id, kind, route.pod_id)
        for subnet in with_subnets:
            await routings.forget_in(subnet, ResourceType.SUBNET, route.pod_id)


async def _delete(pod: Neutron, path: str) -> None:
    response = await pod.call("DELETE", path)
    if response.status >= 300 and response.status != 404:
        await neutron.call(pod, "DELETE", path)  # raises the refusal
