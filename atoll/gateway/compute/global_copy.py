"""A server's flavor and keypair in its pod before Nova is asked to boot (or resize) it there.

Flavors and keypairs made through Atoll are in every pod, and a pod that missed one gets a
catch-up job. Yet a pod can lack one the others have: a pod registered after it was made, one
whose catch-up job has not run yet, or one made straight in a pod (outside Atoll). Atoll lists
and shows it (read from the first pod), so a create scheduled to a pod without it failed with
Nova's 400 ("Flavor ... could not be found", "Invalid key_name provided") in one AZ and worked
in another.

Before a create (and, for the flavor, a resize) in a pod, the pod is asked for the item with the
caller's token (one call, the common case). When it has none and another up pod shows it to the
caller, Atoll copies it there with its service credentials, as the `sync_flavor` and
`sync_keypair` jobs would (`atoll.sync.flavor`: same id, sizes, description, extra specs and
access list; `atoll.sync.keypair`: the caller's keypair, same name and public key), then the call
goes on. An item no pod shows the caller is left to Nova's own 400; one of the same name that
differs in the pod is not replaced (a 409 says why).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from atoll.core.errors import AtollError, Conflict, ServiceUnavailable
from atoll.gateway.deps import Gateway
from atoll.gateway.fanout import up_pods
from atoll.gateway.http import GatewayRequest
from atoll.gateway.pipeline import CreatePlan
from atoll.jobs.outcomes import Fail, Outcome, PermanentError, TemporaryError
from atoll.pods.info import PodInfo
from atoll.sync import flavor, keypair
from atoll.sync.calls import PodCalls, segment
from atoll.sync.task import SyncTask

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Kind:
    title: str
    resource_type: str
    """The sync's name of the kind (its job is `sync_<resource_type>`)."""
    collection: str
    """Nova's path of the kind, where `/{id or name}` shows one to its owner."""
    sync: Callable[[PodCalls, SyncTask], Awaitable[Outcome]]


FLAVOR = Kind("Flavor", "flavor", "/flavors", flavor.sync)
KEYPAIR = Kind("Key pair", "keypair", "/os-keypairs", keypair.sync)


def reference(member: Any, field: str) -> str | None:
    """The item a server create or resize names in `field` (`flavorRef`: an id, or a URL ending in
    one; `key_name`: a name)."""
    value = member.get(field) if isinstance(member, dict) else None
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
        return None
    return str(value).rstrip("/").rsplit("/", 1)[-1]


async def flavor_and_keypair_in_pod(gw: Gateway, plan: CreatePlan) -> None:
    """A create step: the server's flavor and keypair copied to its pod first, where that pod has none."""
    assert plan.pod is not None
    wanted = [(kind, reference(plan.member, field)) for kind, field in ((FLAVOR, "flavorRef"), (KEYPAIR, "key_name"))]
    await asyncio.gather(*(ensure_in_pod(gw, plan.request, kind, ref, plan.pod) for kind, ref in wanted if ref))


async def ensure_in_pod(gw: Gateway, request: GatewayRequest, kind: Kind, ref: str, pod: PodInfo) -> None:
    if await _shown(gw, request, kind, pod, ref) is not False:
        return  # there (or the pod did not say: Nova answers the create itself)
    others = [p for p in await up_pods(gw, request) if p.pod_id != pod.pod_id]
    shown = await asyncio.gather(*(_shown(gw, request, kind, p, ref) for p in others))
    sources = [p for p, found in zip(others, shown, strict=True) if found]
    if not sources:
        return  # no pod shows it to the caller: Nova's own 400
    if gw.calls is None:
        zones = ", ".join(sorted({p.az_name for p in sources}))
        raise Conflict(
            f"{kind.title} {ref} is not available in availability zone {pod.az_name}; it is in availability "
            f"zone(s) {zones}, and Atoll has no service credentials to copy it."
        )
    source = sources[0]
    LOG.info("Copying %s %s from %s to %s for a server there", kind.resource_type, ref, source.name, pod.name)
    context = request.context
    task = SyncTask(
        resource_type=kind.resource_type,
        resource=ref,
        source=source.name,
        target=pod.name,
        force=False,  # one of the same name that differs in the pod stays: the copy fails instead
        project_id=context.project_id or "",
        user_id=context.user_id or "",
        progress={},
        checkpoint=_unrecorded,
    )
    try:
        outcome = await kind.sync(gw.calls, task)
    except TemporaryError as error:
        if await _shown(gw, request, kind, pod, ref):
            return  # another create copied it meanwhile
        raise ServiceUnavailable(
            f"{kind.title} {ref} could not be copied to availability zone {pod.az_name} now: {error.reason}"
        ) from error
    except PermanentError as error:
        outcome = Fail(error.reason)
    if isinstance(outcome, Fail):
        raise Conflict(f"{kind.title} {ref} could not be copied to availability zone {pod.az_name}: {outcome.reason}")


async def _shown(gw: Gateway, request: GatewayRequest, kind: Kind, pod: PodInfo, ref: str) -> bool | None:
    """Whether the pod shows the item to the caller; None when it did not say (down, 5xx, ...)."""
    try:
        path = f"{kind.collection}/{segment(ref)}"
        response = await gw.forwarder.send(request, pod, method="GET", path=path, query=[])
    except AtollError:
        return None
    if response.status == 200:
        return True
    return False if response.status == 404 else None


async def _unrecorded(progress: Mapping[str, Any]) -> None:
    """A copy made within a request has no job to record its progress in."""
