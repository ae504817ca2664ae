"""Volume types, QoS specs and group types: global, made in every up pod and read from one.

Cinder gives each new type an id of its own choosing (its create takes no id), so one type
has a different id in each pod. Atoll shows the ids of the first up pod and finds the same
type in the other pods by its name, which Cinder keeps unique: a write to `/types/{id}...`
goes to the first pod as sent and to each other pod with that pod's id of the same name;
a volume create naming a type by id passes the type's name (Cinder takes either).

A pod that is down or fails misses a volume type's write and gets a job
(`atoll.gateway.catchup`): the type copied by name from the pod that took it, or deleted
there, once the pod is back. QoS specs and group types are matched by name the same way
(a QoS association names a volume type, whose id is mapped to each pod's too); a pod that
misses their write is logged, with no job yet.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable

from atoll.core import jsonfast
from atoll.core.errors import AtollError
from atoll.gateway.catchup import catch_up
from atoll.gateway.deps import Gateway
from atoll.gateway.fanout import every_pod_missed, one_pod, up_pods
from atoll.gateway.http import GatewayRequest, Reply
from atoll.gateway.router import Handler, Route
from atoll.gateway.services import VOLUME
from atoll.pods.info import PodInfo

LOG = logging.getLogger(__name__)

READ = ("GET",)


@dataclasses.dataclass(frozen=True)
class Named:
    """A kind of global Cinder resource whose ids each pod chooses, matched across pods by name."""

    path: str
    member: str
    collection: str
    job_type: str | None = None
    """The catch-up job's resource type for a pod that missed a write, if there is one."""
    list_query: tuple[tuple[str, str], ...] = ()


VOLUME_TYPES = Named("/types", "volume_type", "volume_types", "volume_type", (("is_public", "None"),))
QOS_SPECS = Named("/qos-specs", "qos_specs", "qos_specs", "qos_specs")
GROUP_TYPES = Named("/group_types", "group_type", "group_types", "group_type", (("is_public", "None"),))


async def name_in(
    gw: Gateway, request: GatewayRequest, pod: PodInfo, item_id: str, named: Named = VOLUME_TYPES
) -> str | None:
    path = f"{named.path}/{item_id}"
    response = await gw.forwarder.send(request, pod, method="GET", path=path, query=[], service=VOLUME)
    if response.status != 200:
        return None
    document = response.json().get(named.member)
    name = document.get("name") if isinstance(document, dict) else None
    return name if isinstance(name, str) else None


async def id_in(
    gw: Gateway, request: GatewayRequest, pod: PodInfo, name: str, named: Named = VOLUME_TYPES
) -> str | None:
    """The id of the item called `name` in `pod` (private ones included, for the admins who write them)."""
    response = await gw.forwarder.send(
        request, pod, method="GET", path=named.path, query=list(named.list_query), service=VOLUME
    )
    if response.status != 200:
        return None
    for item in response.json().get(named.collection, []):
        if isinstance(item, dict) and item.get("name") == name and isinstance(item.get("id"), str):
            return str(item["id"])
    return None


class AtollTypeIds:
    """Volume documents name their type's id (`volume_type_id`, 3.63+) in their own pod; Atoll shows the
    first up pod's id of the type of that name, the one its type list and show use.

    The first pod's name -> id map is cached for `ttl` seconds and read again when a document
    names a type the map does not know yet; a name that the last read did not find either (a
    type made in the volume's pod only, or gone) waits for the `ttl` like the rest, rather than
    costing a read on every call.
    """

    def __init__(self, gw: Gateway, ttl: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.gw = gw
        self.ttl = ttl
        self.clock = clock
        self._ids: dict[str, str] = {}
        self._absent: set[str] = set()
        self._pod: str | None = None
        self._read_at = float("-inf")

    async def ids(self, request: GatewayRequest, names: set[str]) -> dict[str, str]:
        pod = (await up_pods(self.gw, request))[0]
        stale = self.clock() - self._read_at > self.ttl or pod.pod_id != self._pod
        if stale or not names <= self._ids.keys() | self._absent:
            response = await self.gw.forwarder.send(
                request, pod, method="GET", path="/types", query=[("is_public", "None")], service=VOLUME
            )
            if response.status == 200:
                listed = response.json().get("volume_types", [])
                self._ids = {t["name"]: t["id"] for t in listed if isinstance(t, dict) and "name" in t and "id" in t}
                self._pod, self._read_at = pod.pod_id, self.clock()
                self._absent = (set() if stale else self._absent) | (names - self._ids.keys())
        return self._ids

    async def show(self, request: GatewayRequest, reply: Reply) -> Reply:
        if reply.status >= 300 or not isinstance(reply.body, bytes) or b'"volume_type_id"' not in reply.body:
            return reply
        document = jsonfast.loads(reply.body)
        listed = document.get("volumes") or [document.get("volume")]
        volumes = [v for v in listed if isinstance(v, dict) and isinstance(v.get("volume_type"), str)]
        if not volumes:
            return reply
        ids = await self.ids(request, {v["volume_type"] for v in volumes})
        changed = False
        for volume in volumes:
            shown = ids.get(volume["volume_type"])
            if shown is not None and volume.get("volume_type_id") and shown != volume["volume_type_id"]:
                volume["volume_type_id"], changed = shown, True
        if changed:
            reply.body = jsonfast.dumps(document)
        return reply

    def around(self, handler: Handler) -> Handler:
        async def handle(request: GatewayRequest) -> Reply:
            return await self.show(request, await handler(request))

        return handle


async def name_of(gw: Gateway, request: GatewayRequest, type_id: str) -> str | None:
    """The name of the type Atoll shows under `type_id` (the first up pod's id), if there is one."""
    pods = await up_pods(gw, request)
    return await name_in(gw, request, pods[0], type_id)


def routes(gw: Gateway) -> list[Route]:
    return [*named_routes(gw, VOLUME_TYPES), *named_routes(gw, QOS_SPECS), *named_routes(gw, GROUP_TYPES)]


def named_routes(gw: Gateway, named: Named) -> list[Route]:
    async def read(request: GatewayRequest) -> Reply:
        return await one_pod(gw, request)

    async def create(request: GatewayRequest) -> Reply:
        written = await every_pod_missed(gw, request)
        made = written.response.json().get(named.member, {}) if written.response.status < 300 else {}
        name = made.get("name") if isinstance(made, dict) else None
        if isinstance(name, str):
            await _missed(request, name, written.first, written.missed)
        return written.reply

    async def _missed(
        request: GatewayRequest, name: str, first: PodInfo, missed: list[PodInfo], delete: bool = False
    ) -> None:
        if named.job_type is not None:
            await catch_up(gw, request, named.job_type, name, first, missed, delete=delete)
        elif missed:
            LOG.warning("%s %s missed by pods %s", named.member, name, ", ".join(p.name for p in missed))

    async def write(request: GatewayRequest) -> Reply:
        """A change to one item: the first pod decides; the others get it under their own id."""
        first, *others = await up_pods(gw, request)
        down = [p for p in (await gw.pods()).bottoms if not p.is_up and p.has("volume")]
        item_id = request.params["item_id"]
        name = await name_in(gw, request, first, item_id, named)
        response = await gw.forwarder.send(request, first)
        if response.status >= 300 or name is None:
            return gw.forwarder.relay(request, first, response)
        body = await request.body() if request.method in ("POST", "PUT") else None
        taken = await asyncio.gather(*(_follow(request, first, pod, name, item_id, body) for pod in others))
        missed = down + [pod for pod, ok in zip(others, taken, strict=True) if not ok]
        delete = request.method == "DELETE" and "rest" not in request.params
        await _missed(request, name, first, missed, delete=delete)
        return gw.forwarder.relay(request, first, response)

    async def _follow(
        request: GatewayRequest, first: PodInfo, pod: PodInfo, name: str, item_id: str, body: bytes | None
    ) -> bool:
        """The change made in `pod` too; False when it missed it there (a job catches it up)."""
        try:
            bottom = await id_in(gw, request, pod, name, named)
            if bottom is None:
                LOG.warning("%s %s (%s) is missing in pod %s", named.member, name, item_id, pod.name)
                return False
            path = f"{named.path}/{bottom}" + request.path[len(f"{named.path}/{item_id}") :]
            query = await _pod_type_ids(request, first, pod)
            if query is None:
                return False
            answer = await gw.forwarder.send(request, pod, path=path, body=body, query=query)
            if answer.status >= 300:
                LOG.warning("%s %s: pod %s answered %s", request.method, path, pod.name, answer.status)
            return answer.status < 500
        except AtollError as error:
            LOG.warning("%s %s did not reach pod %s: %s", request.method, request.path, pod.name, error.message)
            return False

    async def _pod_type_ids(request: GatewayRequest, first: PodInfo, pod: PodInfo) -> list[tuple[str, str]] | None:
        """The request's query with a volume type id (`vol_type_id` of a QoS association) as `pod`
        knows that type; None when `pod` has no type of that name."""
        query = list(request.query)
        for index, (key, value) in enumerate(query):
            if key == "vol_type_id":
                type_name = await name_in(gw, request, first, value)
                mapped = None if type_name is None else await id_in(gw, request, pod, type_name)
                if mapped is None:
                    LOG.warning("Volume type %s has no copy in pod %s", value, pod.name)
                    return None
                query[index] = (key, mapped)
        return query

    base, item = named.path, f"{named.path}/{{item_id}}"
    association = [
        # Cinder changes QoS associations with GETs.
        Route(READ, f"{item}/{action}", write)
        for action in ("associate", "disassociate", "disassociate_all")
        if named is QOS_SPECS
    ]
    return [
        Route("POST", base, create),
        Route(READ, base, read),
        *association,
        Route(READ, item, read),
        Route(("PUT", "DELETE"), item, write),
        Route(READ, f"{item}/{{rest:path}}", read),
        Route(("POST", "PUT", "DELETE"), f"{item}/{{rest:path}}", write),
    ]
