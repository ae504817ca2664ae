"""Volumes: create through the pipeline, everything else forwarded to the volume's pod.

A new volume goes where what it is made from lives: the pod of its source snapshot,
source volume, backup or group (a 409 if those disagree or contradict the requested AZ);
otherwise the scheduler chooses (requested AZ -> its pods -> binding -> weigher). Once
the pod is known, an image to make it from is copied there if that pod has none
(`atoll.gateway.image.copy`), and a volume type given by id is passed by name, since each pod's
Cinder gives the same type its own id.
"""

from __future__ import annotations

import re
from typing import Any

from atoll.core.errors import BadRequest
from atoll.gateway.deps import Gateway, VolumeTypeNames
from atoll.gateway.fanout import Adjust, ask_up_pods
from atoll.gateway.http import GatewayRequest, Reply, json_reply
from atoll.gateway.image import copy as image_copy
from atoll.gateway.locate import locate
from atoll.gateway.pipeline import CreatePipeline, CreatePlan, Pin, Step
from atoll.gateway.router import Route
from atoll.gateway.volume import routed, types
from atoll.resources.spec import Resource
from atoll.resources.volume import BACKUP, GROUP, SNAPSHOT, VOLUME

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")

_SOURCES: tuple[tuple[str, Resource], ...] = (
    ("snapshot_id", SNAPSHOT),
    ("source_volid", VOLUME),
    ("backup_id", BACKUP),
    ("group_id", GROUP),
)


def pinned_by(sources: tuple[tuple[str, Resource], ...]) -> Step:
    """A create step: the new item is made in the pod of the item each `field` names."""

    async def step(gw: Gateway, plan: CreatePlan) -> None:
        for field, resource in sources:
            value = plan.member.get(field)
            if value is None:
                continue
            if not isinstance(value, str):
                raise BadRequest(f"Invalid input for field/attribute {field}. Value: {value!r}. It must be a string.")
            located = await locate(gw, plan.request, resource, value)
            plan.pins.append(Pin(located.pod, f"{resource.name.replace('_', ' ')} {value}"))

    return step


sources_pin = pinned_by(_SOURCES)
"""A volume made from a snapshot, a volume or a backup is made in that one's pod, and one
made into a group in the group's pod."""


async def image_in_pod(gw: Gateway, plan: CreatePlan) -> None:
    """The image a volume is made from, copied to the chosen pod first when that pod has none."""
    ref = plan.member.get("imageRef")
    if not isinstance(ref, str) or not _UUID.match(ref):
        return  # absent, or an image name, which the pod's Cinder resolves itself
    assert plan.pod is not None
    await image_copy.ensure_in_pod(
        gw, plan.request, ref, plan.pod, "Invalid image identifier or unable to access requested image."
    )


def type_by_name(type_ids: VolumeTypeNames) -> Step:
    """A volume type named by Atoll's id is passed by its name (the pod's id of it differs)."""

    async def step(_gw: Gateway, plan: CreatePlan) -> None:
        value = plan.member.get("volume_type")
        if isinstance(value, str) and _UUID.match(value):
            name = await type_ids.name_of(plan.request, value)
            if name is not None:
                plan.member["volume_type"] = name

    return step


CONSTRAINTS: list[Step] = [sources_pin]


def routes(gw: Gateway, type_ids: types.TypeIds) -> list[Route]:
    pipeline = CreatePipeline(VOLUME, constrain=CONSTRAINTS, prepare=[image_in_pod, type_by_name(type_ids)])

    async def create(request: GatewayRequest) -> Reply:
        return await run(gw, pipeline, request)

    async def summary(request: GatewayRequest) -> Reply:
        """`/volumes/summary` (3.12): the pods' summaries added up (a pod that did not answer is named in
        `Atoll-Partial-Pods`)."""
        asked = await ask_up_pods(gw, request, timeout=gw.list_timeout)
        if asked.refusal is not None:
            return asked.refusal
        if not asked.documents:
            return asked.first_failure(gw, request)
        total: dict[str, Any] = {"total_size": 0, "total_count": 0}
        metadata: dict[str, list[Any]] = {}
        with_metadata = False
        for _pod, _reply, document in asked.documents:
            part = document.get("volume-summary")
            part = part if isinstance(part, dict) else {}
            with_metadata = with_metadata or "metadata" in part
            total["total_size"] += _number(part.get("total_size"))
            total["total_count"] += _number(part.get("total_count"))
            listed = part.get("metadata")
            for key, values in (listed if isinstance(listed, dict) else {}).items():
                merged = metadata.setdefault(key, [])
                merged += [v for v in values if v not in merged] if isinstance(values, list) else []
        if with_metadata:
            total["metadata"] = metadata
        return json_reply(200, {"volume-summary": total}, asked.partial)

    actions = routed.sub_resource(gw, VOLUME)

    async def action(request: GatewayRequest) -> Reply:
        """`os-retype` naming the new type by Atoll's id passes its name: the volume's pod has its own id
        for it (Cinder takes a name or an id). Every other action goes to the volume's pod as sent."""
        if request.params["rest"] != "action":
            return await actions(request)
        try:
            document = await request.json()
        except BadRequest:
            return await actions(request)  # the pod's own answer to a body that is not JSON
        retype = document.get("os-retype") if isinstance(document, dict) else None
        new_type = retype.get("new_type") if isinstance(retype, dict) else None
        name = (
            await type_ids.name_of(request, new_type) if isinstance(new_type, str) and _UUID.match(new_type) else None
        )
        if name is None or not isinstance(retype, dict):
            return await actions(request)
        retype["new_type"] = name
        located = await locate(gw, request, VOLUME, request.params["item_id"])
        return routed.show_atoll_az(await gw.forwarder.forward(request, located.pod, json_body=document), located.pod)

    return [
        Route("POST", "/volumes", type_ids.around(create)),
        Route("GET", "/volumes/summary", summary),
        Route("POST", "/volumes/{item_id}/{rest:path}", action),
        Route(("GET", "PUT", "DELETE"), "/volumes/{item_id}", type_ids.around(routed.member(gw, VOLUME))),
        Route(("GET", "POST", "PUT", "DELETE"), "/volumes/{item_id}/{rest:path}", routed.sub_resource(gw, VOLUME)),
    ]


def _number(value: object) -> int | float:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


async def run(
    gw: Gateway, pipeline: CreatePipeline, request: GatewayRequest, adjust: Adjust = routed.show_atoll_az
) -> Reply:
    """The pipeline's steps, with the created document showing Atoll's AZ (Cinder answers a
    create with the whole volume, AZ included; `adjust` finds it)."""
    plan = await pipeline.plan(gw, request)
    if plan.az is not None and plan.az not in plan.snapshot.azs():
        raise BadRequest(f"Availability zone '{plan.az}' is invalid.")  # Cinder's words for it
    for step in pipeline.constrain:
        await step(gw, plan)
    plan.pod = await pipeline.place(gw, plan)
    for step in pipeline.prepare:
        await step(gw, plan)
    return adjust(await pipeline.call(gw, plan), plan.pod)
