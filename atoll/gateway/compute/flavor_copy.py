"""A server's flavor in its pod before Nova is asked to boot or resize it there.

Flavors made through Atoll are in every pod, and a pod that missed one gets a catch-up job. Yet a
pod can lack a flavor the others have: one registered after the flavor was made, one whose
catch-up job has not run yet, or a flavor made straight in a pod (outside Atoll). Atoll lists
and shows such a flavor (read from the first pod), so a create scheduled to a pod without it
failed with Nova's 400 "Flavor ... could not be found" in one AZ and worked in another.

Before a create (and a resize) in a pod, the pod is asked for the flavor with the caller's token
(one call, the common case). When it has none and another up pod shows it to the caller, Atoll
copies it there with its service credentials, as the `sync_flavor` job would (same id, sizes,
description, extra specs and access list; `atoll.sync.flavor`), then the call goes on. A flavor
no pod shows the caller is left to Nova's own 400.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from atoll.core.errors import AtollError, Conflict, ServiceUnavailable
from atoll.gateway.deps import Gateway
from atoll.gateway.fanout import up_pods
from atoll.gateway.http import GatewayRequest
from atoll.gateway.pipeline import CreatePlan
from atoll.jobs.outcomes import Fail, PermanentError, TemporaryError
from atoll.pods.info import PodInfo
from atoll.sync import flavor
from atoll.sync.calls import segment
from atoll.sync.task import SyncTask

LOG = logging.getLogger(__name__)


def flavor_ref(member: Any) -> str | None:
    """The flavor a server create or resize names (`flavorRef`: an id, or a URL ending in one)."""
    ref = member.get("flavorRef") if isinstance(member, dict) else None
    if not isinstance(ref, str | int) or isinstance(ref, bool) or not str(ref).strip():
        return None
    return str(ref).rstrip("/").rsplit("/", 1)[-1]


async def flavor_in_pod(gw: Gateway, plan: CreatePlan) -> None:
    """A create step: the server's flavor copied to its pod first, when that pod has none."""
    assert plan.pod is not None
    flavor_id = flavor_ref(plan.member)
    if flavor_id is not None:
        await ensure_in_pod(gw, plan.request, flavor_id, plan.pod)


async def ensure_in_pod(gw: Gateway, request: GatewayRequest, flavor_id: str, pod: PodInfo) -> None:
    if await _shown(gw, request, pod, flavor_id) is not False:
        return  # there (or the pod did not say: Nova answers the create itself)
    others = [p for p in await up_pods(gw, request) if p.pod_id != pod.pod_id]
    shown = await asyncio.gather(*(_shown(gw, request, p, flavor_id) for p in others))
    sources = [p for p, found in zip(others, shown, strict=True) if found]
    if not sources:
        return  # no pod shows it to the caller: Nova's own 400
    if gw.calls is None:
        zones = ", ".join(sorted({p.az_name for p in sources}))
        raise Conflict(
            f"Flavor {flavor_id} is not available in availability zone {pod.az_name}; it is in availability "
            f"zone(s) {zones}, and Atoll has no service credentials to copy it."
        )
    source = sources[0]
    LOG.info("Copying flavor %s from %s to %s for a server there", flavor_id, source.name, pod.name)
    context = request.context
    task = SyncTask(
        resource_type="flavor",
        resource=flavor_id,
        source=source.name,
        target=pod.name,
        force=False,  # a flavor of the same name and another id in the pod stays: the copy fails instead
        project_id=context.project_id or "",
        user_id=context.user_id or "",
        progress={},
        checkpoint=_unrecorded,
    )
    try:
        outcome = await flavor.sync(gw.calls, task)
    except TemporaryError as error:
        if await _shown(gw, request, pod, flavor_id):
            return  # another create copied it meanwhile
        raise ServiceUnavailable(
            f"Flavor {flavor_id} could not be copied to availability zone {pod.az_name} now: {error.reason}"
        ) from error
    except PermanentError as error:
        outcome = Fail(error.reason)
    if isinstance(outcome, Fail):
        raise Conflict(f"Flavor {flavor_id} could not be copied to availability zone {pod.az_name}: {outcome.reason}")


async def _shown(gw: Gateway, request: GatewayRequest, pod: PodInfo, flavor_id: str) -> bool | None:
    """Whether the pod shows the flavor to the caller; None when it did not say (down, 5xx, ...)."""
    try:
        path = f"/flavors/{segment(flavor_id)}"
        response = await gw.forwarder.send(request, pod, method="GET", path=path, query=[])
    except AtollError:
        return None
    if response.status == 200:
        return True
    return False if response.status == 404 else None


async def _unrecorded(progress: Mapping[str, Any]) -> None:
    """A copy made within a request has no job to record its progress in."""
