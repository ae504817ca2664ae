"""Bringing storage a pod's backend already holds under Cinder, through Atoll: Cinder's
manageable volumes and snapshots (`/manageable_volumes`, 3.8+, and the older `/os-volume-manage`;
the same for snapshots).

A volume is managed on a backend named by `host` (`host@backend#pool`) or `cluster`: the pod
whose Cinder has that volume service (asked of every up pod at once) is the one it goes to, made
as a volume create is (its AZ checked and written the pod's way, a routing recorded, the answer
showing Atoll's AZ). A snapshot is managed in its volume's pod. The lists of what a backend holds
are asked of that backend's pod. A backend name two pods have is a 409 naming them; one no pod
that answers has is a 400 (Cinder answers 503 "Host ... not found"; from Atoll it is bad input).
"""

from __future__ import annotations

from atoll.core.errors import BadRequest, ServiceUnavailable
from atoll.gateway.deps import Gateway
from atoll.gateway.fanout import ambiguous, ask_up_pods, one_pod
from atoll.gateway.http import GatewayRequest, Reply
from atoll.gateway.pipeline import CreatePipeline, CreatePlan, Pin
from atoll.gateway.router import Route
from atoll.gateway.volume import types
from atoll.gateway.volume.dependents import volume_pin
from atoll.gateway.volume.volumes import run, type_by_name
from atoll.pods.info import PodInfo
from atoll.resources.volume import SNAPSHOT, VOLUME

READ = ("GET",)


async def backend_pods(gw: Gateway, request: GatewayRequest, field: str, name: str) -> list[PodInfo]:
    """The up pods with a Cinder volume service on backend `name` (`host@backend`, a pool after `#`
    left out, as Cinder reads it), or in cluster `name` when `field` is "cluster"."""
    asked = await ask_up_pods(gw, request, method="GET", path="/os-services", query=[("binary", "cinder-volume")])
    if asked.refusal is not None:
        raise _Refused(asked.refusal)
    backend = name.split("#", 1)[0]
    having: list[PodInfo] = []
    for pod, _reply, document in asked.documents:
        services = document.get("services")
        listed = services if isinstance(services, list) else []
        if any(isinstance(s, dict) and s.get(field) == backend for s in listed):
            having.append(pod)
    if len(having) > 1:
        raise ambiguous(name, [pod.name for pod in having])
    if not having:
        missing = f"{'Host' if field == 'host' else 'Cluster'} '{name}' not found"
        down = [p for p in (await gw.pods()).bottoms if not p.is_up and p.has(request.service.name)]
        silent = [pod.name for pod in down] + [pod.name for pod, _ in asked.unavailable]
        if silent:
            names = ", ".join(silent)
            raise ServiceUnavailable(f"{missing} in the pods that answer; {names} did not answer. Try again later.")
        raise BadRequest(f"{missing}: no pod has a Cinder volume service of that name.")
    return having


class _Refused(Exception):
    def __init__(self, reply: Reply) -> None:
        self.reply = reply


def _backend(document: dict[str, object]) -> tuple[str, str] | None:
    """The field (`host` or `cluster`) naming where the storage is, and its value."""
    for field in ("host", "cluster"):
        value = document.get(field)
        if isinstance(value, str) and value:
            return field, value
    return None


async def backend_pin(gw: Gateway, plan: CreatePlan) -> None:
    """A managed volume is made in the pod whose backend holds it."""
    found = _backend(plan.member)
    if found is None:
        return  # Cinder's own 400 for a body naming neither
    field, name = found
    [pod] = await backend_pods(gw, plan.request, field, name)
    plan.pins.append(Pin(pod, f"{field} {name}"))


def routes(gw: Gateway, type_ids: types.TypeIds) -> list[Route]:
    volumes = CreatePipeline(VOLUME, constrain=[backend_pin], prepare=[type_by_name(type_ids)])
    snapshots = CreatePipeline(SNAPSHOT, constrain=[volume_pin])

    async def manage_volume(request: GatewayRequest) -> Reply:
        try:
            return await run(gw, volumes, request)
        except _Refused as refused:
            return refused.reply

    async def manage_snapshot(request: GatewayRequest) -> Reply:
        return await run(gw, snapshots, request)

    async def manageable(request: GatewayRequest) -> Reply:
        """What a backend holds, from that backend's pod (without `host` or `cluster`, a pod's 400)."""
        found = _backend(dict(request.query))
        if found is None:
            return await one_pod(gw, request)
        try:
            [pod] = await backend_pods(gw, request, *found)
        except _Refused as refused:
            return refused.reply
        return await gw.forwarder.forward(request, pod)

    return [
        route
        for volume_path, snapshot_path in (
            ("/manageable_volumes", "/manageable_snapshots"),
            ("/os-volume-manage", "/os-snapshot-manage"),
        )
        for route in (
            Route("POST", volume_path, manage_volume),
            Route(READ, volume_path, manageable),
            Route(READ, f"{volume_path}/detail", manageable),
            Route("POST", snapshot_path, manage_snapshot),
            Route(READ, snapshot_path, manageable),
            Route(READ, f"{snapshot_path}/detail", manageable),
        )
    ]
