"""The create path of a scheduled resource, as explicit steps.

    validate      the body is a JSON object holding the member key (a clear 400 otherwise);
                  nothing in it is dropped: the pod gets every field the client sent
    constrain     steps that pin the pod: a volume to boot from, a server group, a port
                  (co-location: a server and what it uses live in one pod)
    place         the pins agree (else 409 saying why), or the scheduler chooses
                  (requested AZ -> its pods -> binding -> weigher)
    prepare       steps run once the pod is known, before it is called: realize the top
                  network and ports there, copy the image there (the coming parts plug in here);
                  a step may leave `undo` callbacks (run when the create fails: the pod raised
                  or refused it) and `done` callbacks (run with the created id)
    reserve       a routing row (bottom id NULL) names the pod being asked
    call          the pod gets the body, its AZ rewritten to the pod's own AZ name
    confirm       the routing gets the real id (or the reservation goes, on failure)

A step is `async (gateway, plan) -> None`; it reads and changes the `CreatePlan`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from atoll.core.errors import BadRequest, Conflict, ServiceUnavailable
from atoll.gateway.deps import Gateway
from atoll.gateway.http import GatewayRequest, Reply
from atoll.pods.info import PodInfo
from atoll.pods.registry import PodSnapshot
from atoll.resources.spec import Resource
from atoll.types import ProjectId

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Pin:
    """A pod the new resource must go to, and why (for the 409 when pins disagree)."""

    pod: PodInfo
    reason: str


@dataclasses.dataclass
class CreatePlan:
    request: GatewayRequest
    resource: Resource
    document: dict[str, Any]
    """The whole request body, e.g. {"server": {...}, "os:scheduler_hints": {...}}."""
    snapshot: PodSnapshot
    az: str | None = None
    pins: list[Pin] = dataclasses.field(default_factory=list)
    pod: PodInfo | None = None
    undo: list[Callable[[], Awaitable[None]]] = dataclasses.field(default_factory=list)
    done: list[Callable[[str], Awaitable[None]]] = dataclasses.field(default_factory=list)
    created: str | None = None

    async def compensate(self) -> None:
        """Undo what the prepare steps made, latest first; an undo that fails is logged."""
        for undo in reversed(self.undo):
            try:
                await undo()
            except Exception:
                LOG.exception("Undoing a step of a failed %s create failed", self.resource.name)

    @property
    def member(self) -> dict[str, Any]:
        member: dict[str, Any] = self.document[self.resource.member_key]
        return member


Step = Callable[[Gateway, CreatePlan], Awaitable[None]]


def _az_of(plan: CreatePlan) -> str | None:
    value = plan.member.get("availability_zone")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(
            f"Invalid input for field/attribute availability_zone. Value: {value!r}. It must be a non-empty string."
        )
    return value.split(":", 1)[0] or None


def pod_az(requested: str, zone: str) -> str | None:
    """The AZ value to send to the pod: its own AZ name `zone`, keeping an admin's ":host[:node]" part."""
    _, sep, rest = requested.partition(":")
    if sep:
        return f"{zone}:{rest}"
    return zone or None


OwnZone = Callable[[Gateway, GatewayRequest, PodInfo], Awaitable[str]]
"""The pod's own name of its AZ, for a create that asks for an AZ (default: the pod's `pod_az_name`)."""


async def registered_zone(_gw: Gateway, _request: GatewayRequest, pod: PodInfo) -> str:
    return pod.pod_az_name


@dataclasses.dataclass
class CreatePipeline:
    resource: Resource
    constrain: Sequence[Step] = ()
    prepare: Sequence[Step] = ()
    own_zone: OwnZone = registered_zone

    async def plan(self, gw: Gateway, request: GatewayRequest) -> CreatePlan:
        document = await request.json()
        key = self.resource.member_key
        if not isinstance(document, dict) or not isinstance(document.get(key), dict):
            raise BadRequest(f"Invalid input: the request body must be a JSON object holding a '{key}' object.")
        plan = CreatePlan(request, self.resource, document, await gw.pods())
        plan.az = _az_of(plan)
        return plan

    async def run(self, gw: Gateway, request: GatewayRequest) -> Reply:
        plan = await self.plan(gw, request)
        for step in self.constrain:
            await step(gw, plan)
        plan.pod = await self.place(gw, plan)
        try:
            for step in self.prepare:
                await step(gw, plan)
            reply = await self.call(gw, plan)
        except BaseException:
            await plan.compensate()
            raise
        if plan.created is None:
            await plan.compensate()
        else:
            for done in plan.done:
                await done(plan.created)
        return reply

    async def place(self, gw: Gateway, plan: CreatePlan) -> PodInfo:
        project = ProjectId(plan.request.context.project_id or "")
        if not plan.pins:
            return await gw.scheduler.choose(plan.snapshot, project, plan.az)
        first = plan.pins[0]
        for other in plan.pins[1:]:
            if other.pod.pod_id != first.pod.pod_id:
                raise Conflict(
                    f"{first.reason} in availability zone {first.pod.az_name} and {other.reason} in "
                    f"availability zone {other.pod.az_name} are in different pods; a {self.resource.name} and "
                    "the volumes, ports and groups it uses must be in one pod."
                )
        if plan.az is not None and first.pod.az_name != plan.az:
            raise Conflict(
                f"{first.reason} in availability zone {first.pod.az_name}, not {plan.az} as requested; a "
                f"{self.resource.name} and the volumes, ports and groups it uses must be in one pod."
            )
        if not first.pod.is_up:
            raise ServiceUnavailable(
                f"{first.reason} in availability zone {first.pod.az_name}, whose pod does not answer now."
            )
        return first.pod

    async def call(self, gw: Gateway, plan: CreatePlan) -> Reply:
        assert plan.pod is not None
        assert self.resource.routing_type is not None
        pod, request = plan.pod, plan.request
        requested = plan.member.get("availability_zone")
        if isinstance(requested, str):
            rewritten = pod_az(requested, await self.own_zone(gw, request, pod))
            if rewritten is None:
                plan.member.pop("availability_zone")
            else:
                plan.member["availability_zone"] = rewritten
        project = ProjectId(request.context.project_id or "")
        reservation = await gw.routings.reserve(pod.pod_id, project, self.resource.routing_type)
        try:
            response = await gw.forwarder.send(request, pod, json_body=plan.document)
        except BaseException:
            await gw.routings.release(reservation)
            raise
        created = plan.created = _created_id(response.json() if response.status < 300 else None, self.resource)
        if created is None:
            await gw.routings.release(reservation)
        else:
            await gw.routings.confirm(reservation, created, created, project)
        return gw.forwarder.relay(request, pod, response)


def _created_id(document: Any, resource: Resource) -> str | None:
    if not isinstance(document, dict):
        return None
    member = document.get(resource.member_key)
    if isinstance(member, dict) and isinstance(member.get("id"), str):
        return str(member["id"])
    return None
