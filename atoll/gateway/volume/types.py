"""Volume types, QoS specs and group types: global, made in every up pod and read from one.

Cinder gives each of them an id of its own choosing (its creates take none), so one item has a
different id in each pod; Atoll finds the same item in the other pods by its name, which Cinder
keeps unique, and shows one id of its own for it whichever pods are up (`TypeIds`: the id of
the first copy Atoll saw, kept as a routing per pod). A call on `/types/{id}...` (and the
others) reaches each pod under that pod's own id, a volume create or retype naming a type by
id passes the type's name (Cinder takes either), and every id of these kinds in a reply or in
a volume (`volume_type_id`) or group is Atoll's.

A pod that is down or fails misses a write and gets a job (`atoll.gateway.catchup`): the item
copied by name from the pod that took it, or deleted there, once the pod is back (its copy then
gets the item's routing).
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
from atoll.gateway.fanout import Answer, ask_each, every_pod_missed, up_pods
from atoll.gateway.http import GatewayRequest, Reply
from atoll.gateway.router import Handler, Route
from atoll.gateway.services import VOLUME
from atoll.pods.client import PodResponse
from atoll.pods.info import PodInfo
from atoll.types import PodId, ProjectId, ResourceType

LOG = logging.getLogger(__name__)

READ = ("GET",)


@dataclasses.dataclass(frozen=True)
class Named:
    """A kind of global Cinder resource whose ids each pod chooses, matched across pods by name."""

    path: str
    member: str
    collection: str
    routing_type: ResourceType
    """The routings that keep Atoll's id of each item in each pod (`TypeIds`)."""
    job_type: str | None = None
    """The catch-up job's resource type for a pod that missed a write, if there is one."""
    list_query: tuple[tuple[str, str], ...] = ()
    microversion: str | None = None
    """The least Cinder microversion that serves this kind (group types: 3.11), for Atoll's own calls."""

    @property
    def headers(self) -> dict[str, str]:
        """What Atoll's own calls on this kind send (the caller's microversion may be lower)."""
        return {"OpenStack-API-Version": f"volume {self.microversion}"} if self.microversion else {}


VOLUME_TYPES = Named(
    "/types", "volume_type", "volume_types", ResourceType.VOLUME_TYPE, "volume_type", (("is_public", "None"),)
)
QOS_SPECS = Named("/qos-specs", "qos_specs", "qos_specs", ResourceType.QOS_SPECS, "qos_specs")
GROUP_TYPES = Named(
    "/group_types", "group_type", "group_types", ResourceType.GROUP_TYPE, "group_type", (("is_public", "None"),), "3.11"
)


async def name_in(
    gw: Gateway, request: GatewayRequest, pod: PodInfo, item_id: str, named: Named = VOLUME_TYPES
) -> str | None:
    path = f"{named.path}/{item_id}"
    response = await gw.forwarder.send(
        request, pod, method="GET", path=path, query=[], service=VOLUME, headers=named.headers
    )
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
        request, pod, method="GET", path=named.path, query=list(named.list_query), service=VOLUME, headers=named.headers
    )
    if response.status != 200:
        return None
    for item in response.json().get(named.collection, []):
        if isinstance(item, dict) and item.get("name") == name and isinstance(item.get("id"), str):
            return str(item["id"])
    return None


@dataclasses.dataclass
class TypeTable:
    """Volume types as the up pods list them, each under Atoll's own id (`TypeIds`)."""

    tops: dict[str, str] = dataclasses.field(default_factory=dict)
    """name -> Atoll's id."""
    names: dict[str, str] = dataclasses.field(default_factory=dict)
    """Atoll's id -> name."""
    bottoms: dict[tuple[PodId, str], str] = dataclasses.field(default_factory=dict)
    """(pod, the pod's own id) -> Atoll's id."""
    in_pods: dict[tuple[str, PodId], str] = dataclasses.field(default_factory=dict)
    """(Atoll's id, pod) -> the pod's own id."""

    def shown(self, pod: PodInfo | None, body: bytes) -> bytes:
        """`pod`'s own ids of volume types in a body written as Atoll's (any pod's: None; the ids are
        UUIDs, so one pod's id of a type names nothing in another)."""
        for (holder, bottom), top in self.bottoms.items():
            if (pod is None or holder == pod.pod_id) and bottom != top and bottom.encode() in body:
                body = body.replace(bottom.encode(), top.encode())
        return body


class TypeIds:
    """Atoll's own, stable ids of volume types (and, one table each, of QoS specs and group types).

    Cinder chooses each type's id (its create takes none), so one type, matched across pods by
    its name (which Cinder keeps unique), has an id of its own in every pod. Atoll shows one id
    for it whichever pods are up: the id of the first copy it saw (the first up pod's, in pod
    order, the first time), kept as a routing per pod (top id -> that pod's own id,
    `ResourceType.VOLUME_TYPE`). Before, Atoll showed the first up pod's ids, so the ids of
    every type changed while that pod was down, and a type made then kept another pod's id
    only until the first pod got its copy: a client keeping ids (Terraform's state) saw
    them change.

    The table is read again every `ttl` seconds, and at once after a type is made or deleted
    through this process: every up pod's types (as the caller may see them) matched by name
    with the routings; a copy with no routing yet gets one, under the id its name already has
    in another pod, else its own. A copy only gets its routing while a pod that has one is up
    (a type first seen while the first pod is down keeps the id of the copy seen first).
    """

    def __init__(
        self, gw: Gateway, named: Named = VOLUME_TYPES, ttl: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.gw = gw
        self.named = named
        self.ttl = ttl
        self.clock = clock
        self._table: TypeTable | None = None
        self._read_at = float("-inf")
        self._pods: tuple[PodId, ...] = ()

    def invalidate(self) -> None:
        self._table = None

    async def table(self, request: GatewayRequest) -> TypeTable:
        pods = await up_pods(self.gw, request)
        ids = tuple(p.pod_id for p in pods)
        if self._table is None or self.clock() - self._read_at > self.ttl or ids != self._pods:
            try:
                self._table = await self._read(request, pods)
            except Exception:  # the routings cannot be read or written (the database is down)
                LOG.warning(
                    "The ids of %s could not be read; pods' own ids are shown", self.named.collection, exc_info=True
                )
                return TypeTable()  # not kept: the next call reads again
            self._read_at, self._pods = self.clock(), ids
        return self._table

    async def _lists(self, request: GatewayRequest, pods: list[PodInfo]) -> list[Answer]:
        """Every pod's types, private ones included: asked with Atoll's own service token when it has
        one (the table is the process's, not the caller's), else with the caller's."""
        calls, path, query, headers = self.gw.calls, self.named.path, list(self.named.list_query), self.named.headers
        if calls is None:
            variant = {"method": "GET", "path": path, "query": query, "service": VOLUME, "headers": headers}
            return await ask_each(self.gw, request, pods, **variant)

        async def listed(pod: PodInfo) -> Answer:
            try:
                return await calls.call(pod.region_name, "volume", "GET", path, params=query, headers=headers)
            except Exception as error:  # a pod or Keystone that does not answer: that pod is left out of the table
                LOG.warning("%s of pod %s could not be read: %s", self.named.collection, pod.name, error)
                return AtollError(str(error))

        return list(await asyncio.gather(*(listed(pod) for pod in pods)))

    async def _read(self, request: GatewayRequest, pods: list[PodInfo]) -> TypeTable:
        answers = await self._lists(request, pods)
        kind = self.named.routing_type
        routes = await self.gw.routings.of_type(kind)
        routed: dict[tuple[PodId, str], str] = {}
        for route in routes:  # oldest first: a copy routed twice (two processes at once) keeps the first
            routed.setdefault((route.pod_id, route.bottom_id), route.top_id)
        copies: dict[str, list[tuple[PodId, str]]] = {}
        for pod, answer in zip(pods, answers, strict=True):
            if isinstance(answer, AtollError) or answer.status != 200:
                continue
            try:
                listed = answer.json().get(self.named.collection, [])
            except (ValueError, AttributeError):
                continue
            for item in listed if isinstance(listed, list) else []:
                if isinstance(item, dict) and isinstance(item.get("name"), str) and isinstance(item.get("id"), str):
                    copies.setdefault(item["name"], []).append((pod.pod_id, item["id"]))
        table = TypeTable()
        for name, found in copies.items():
            known = [routed[copy] for copy in found if copy in routed]
            top = known[0] if known else found[0][1]
            for pod_id, bottom in found:
                if (pod_id, bottom) not in routed:
                    await self.gw.routings.adopt(top, bottom, pod_id, ProjectId(""), kind)
                table.bottoms[(pod_id, bottom)] = top
                table.in_pods[(top, pod_id)] = bottom
                table.in_pods.setdefault((routed.get((pod_id, bottom), top), pod_id), bottom)
            table.tops[name], table.names[top] = top, name
        return table

    async def in_pod(self, request: GatewayRequest, pod: PodInfo, type_id: str, name: str | None = None) -> str | None:
        """`pod`'s own id of the type Atoll shows as `type_id`; None when neither the table nor the
        pods (by its `name`, else the name the first up pod gives it, with the caller's token) know one."""
        found = (await self.table(request)).in_pods.get((type_id, pod.pod_id))
        if found is None and (name := name or await self.name_of(request, type_id)) is not None:
            found = await id_in(self.gw, request, pod, name, self.named)
        return found

    async def name_of(self, request: GatewayRequest, type_id: str) -> str | None:
        """The name of the type Atoll shows as `type_id`. One the table does not hold (a private type
        the caller who read it last may not see, one made in a pod meanwhile) is looked up in the
        first up pod with the caller's token, as Cinder would look it up for them."""
        name = (await self.table(request)).names.get(type_id)
        if name is None:
            name = await name_in(self.gw, request, (await up_pods(self.gw, request))[0], type_id, self.named)
        return name

    async def show(self, request: GatewayRequest, reply: Reply) -> Reply:
        """Volume documents name their type's id (`volume_type_id`, 3.63+) in their own pod: Atoll's
        id of the type of that name is shown instead."""
        if reply.status >= 300 or not isinstance(reply.body, bytes) or b'"volume_type_id"' not in reply.body:
            return reply
        document = jsonfast.loads(reply.body)
        listed = document.get("volumes") or [document.get("volume")]
        volumes = [v for v in listed if isinstance(v, dict) and isinstance(v.get("volume_type"), str)]
        if not volumes:
            return reply
        tops = (await self.table(request)).tops
        changed = False
        for volume in volumes:
            shown = tops.get(volume["volume_type"])
            if shown is not None and volume.get("volume_type_id") and shown != volume["volume_type_id"]:
                volume["volume_type_id"], changed = shown, True
        if changed:
            reply.body = jsonfast.dumps(document)
        return reply

    def around(self, handler: Handler) -> Handler:
        async def handle(request: GatewayRequest) -> Reply:
            return await self.show(request, await handler(request))

        return handle


class GlobalIds:
    """Atoll's ids of volume types, group types and QoS specs, one `TypeIds` table each. A reply may name
    items of each kind (a volume type its QoS specs, a QoS spec its volume types, a group both
    types): `shown` writes every pod id of any kind as Atoll's."""

    def __init__(self, gw: Gateway) -> None:
        self.types = TypeIds(gw, VOLUME_TYPES)
        self.group_types = TypeIds(gw, GROUP_TYPES)
        self.qos_specs = TypeIds(gw, QOS_SPECS)

    def of(self, named: Named) -> TypeIds:
        return {VOLUME_TYPES: self.types, GROUP_TYPES: self.group_types, QOS_SPECS: self.qos_specs}[named]

    async def shown(self, request: GatewayRequest, pod: PodInfo | None, body: bytes) -> bytes:
        for ids in (self.types, self.group_types, self.qos_specs):
            body = (await ids.table(request)).shown(pod, body)
        return body

    def shown_in(self, handler: Handler) -> Handler:
        """Replies of `handler` with any pod's ids of these kinds written as Atoll's (a group's
        `group_type` and `volume_types`)."""

        async def handle(request: GatewayRequest) -> Reply:
            reply = await handler(request)
            if reply.status < 300 and isinstance(reply.body, bytes) and reply.body:
                reply.body = await self.shown(request, None, reply.body)
            return reply

        return handle


def routes(gw: Gateway, ids: GlobalIds) -> list[Route]:
    return [route for named in (VOLUME_TYPES, QOS_SPECS, GROUP_TYPES) for route in NamedApi(gw, named, ids).routes()]


class NamedApi:
    """The calls on one kind of named item, under Atoll's ids (`GlobalIds`): a call on `{path}/{id}...`
    reaches each pod under its own id, and every id of these kinds in a reply is Atoll's."""

    def __init__(self, gw: Gateway, named: Named, ids: GlobalIds) -> None:
        self.gw = gw
        self.named = named
        self.all = ids
        self.ids = ids.of(named)

    def routes(self) -> list[Route]:
        named = self.named
        base, item = named.path, f"{named.path}/{{item_id}}"
        association = [
            # Cinder changes QoS associations with GETs.
            Route(READ, f"{item}/{action}", self.write)
            for action in ("associate", "disassociate", "disassociate_all")
            if named is QOS_SPECS
        ]
        return [
            Route("POST", base, self.create),
            Route(READ, base, self.read),
            *association,
            Route(READ, item, self.read),
            Route(("PUT", "DELETE"), item, self.write),
            Route(READ, f"{item}/{{rest:path}}", self.read),
            Route(("POST", "PUT", "DELETE"), f"{item}/{{rest:path}}", self.write),
        ]

    def _path(self, request: GatewayRequest, item_id: str, bottom: str) -> str:
        return f"{self.named.path}/{bottom}" + request.path[len(f"{self.named.path}/{item_id}") :]

    async def read(self, request: GatewayRequest) -> Reply:
        pod = (await up_pods(self.gw, request))[0]
        table = await self.ids.table(request)
        item_id = request.params.get("item_id")
        bottom = table.in_pods.get((item_id, pod.pod_id)) if item_id else None
        path = self._path(request, item_id, bottom) if item_id and bottom else None
        reply = self.gw.forwarder.relay(request, pod, await self.gw.forwarder.send(request, pod, path=path))
        if isinstance(reply.body, bytes):
            reply.body = await self.all.shown(request, pod, reply.body)
        return reply

    async def create(self, request: GatewayRequest) -> Reply:
        written = await every_pod_missed(self.gw, request)
        self.ids.invalidate()
        if written.response.status < 300:
            # Read at once, while the pods that made it are up: each copy gets its routing under the
            # new item's id now, not whenever a later read comes (perhaps with the first pod down).
            try:
                await self.ids.table(request)
            except Exception:  # the create is done: the next read records the routings
                LOG.warning("The ids of %s could not be recorded after a create", self.named.collection, exc_info=True)
        made = written.response.json().get(self.named.member, {}) if written.response.status < 300 else {}
        name = made.get("name") if isinstance(made, dict) else None
        if isinstance(name, str):
            await self._missed(request, name, written.first, written.missed)
        return written.reply

    async def _missed(
        self, request: GatewayRequest, name: str, first: PodInfo, missed: list[PodInfo], delete: bool = False
    ) -> None:
        if self.named.job_type is not None:
            await catch_up(self.gw, request, self.named.job_type, name, first, missed, delete=delete)
        elif missed:
            LOG.warning("%s %s missed by pods %s", self.named.member, name, ", ".join(p.name for p in missed))

    async def write(self, request: GatewayRequest) -> Reply:
        """A change to one item: the first pod decides; the others get it under their own id."""
        gw = self.gw
        first, *others = await up_pods(gw, request)
        down = [p for p in (await gw.pods()).bottoms if not p.is_up and p.has("volume")]
        item_id = request.params["item_id"]
        name = await self.ids.name_of(request, item_id)
        own = await self.ids.in_pod(request, first, item_id, name) if name is not None else None
        path = self._path(request, item_id, own) if own is not None else None
        query = await self._pod_type_ids(request, first)
        response = await gw.forwarder.send(request, first, path=path, query=query)
        if response.status >= 300 or name is None:
            return await self._shown(request, first, response)
        body = await request.body() if request.method in ("POST", "PUT") else None
        taken = await asyncio.gather(*(self._follow(request, pod, name, item_id, body) for pod in others))
        missed = down + [pod for pod, ok in zip(others, taken, strict=True) if not ok]
        delete = request.method == "DELETE" and "rest" not in request.params
        if delete:
            await gw.routings.forget(item_id, self.named.routing_type, delete=True)
            self.ids.invalidate()
        await self._missed(request, name, first, missed, delete=delete)
        return await self._shown(request, first, response)

    async def _shown(self, request: GatewayRequest, pod: PodInfo, response: PodResponse) -> Reply:
        reply = self.gw.forwarder.relay(request, pod, response)
        if isinstance(reply.body, bytes) and reply.body:
            reply.body = await self.all.shown(request, pod, reply.body)
        return reply

    async def _follow(self, request: GatewayRequest, pod: PodInfo, name: str, item_id: str, body: bytes | None) -> bool:
        """The change made in `pod` too; False when it missed it there (a job catches it up)."""
        try:
            bottom = await self.ids.in_pod(request, pod, item_id, name)
            if bottom is None:
                LOG.warning("%s %s (%s) is missing in pod %s", self.named.member, name, item_id, pod.name)
                return False
            path = self._path(request, item_id, bottom)
            query = await self._pod_type_ids(request, pod)
            if query is None:
                return False
            answer = await self.gw.forwarder.send(request, pod, path=path, body=body, query=query)
            if answer.status == 404 and request.method != "DELETE":
                # The pod's copy is gone (deleted behind Atoll's back): missed, and a job copies it there.
                LOG.warning("%s %s (%s) is missing in pod %s", self.named.member, name, item_id, pod.name)
                self.ids.invalidate()
                return False
            if answer.status >= 300:
                LOG.warning("%s %s: pod %s answered %s", request.method, path, pod.name, answer.status)
            return answer.status < 500
        except AtollError as error:
            LOG.warning("%s %s did not reach pod %s: %s", request.method, request.path, pod.name, error.message)
            return False

    async def _pod_type_ids(self, request: GatewayRequest, pod: PodInfo) -> list[tuple[str, str]] | None:
        """The request's query with a volume type id (`vol_type_id` of a QoS association) as `pod`
        knows that type; None when `pod` has no type of that name."""
        query = list(request.query)
        for index, (key, value) in enumerate(query):
            if key == "vol_type_id":
                table = await self.all.types.table(request)
                mapped = table.in_pods.get((value, pod.pod_id))
                if mapped is None and (type_name := table.names.get(value)) is not None:
                    mapped = await id_in(self.gw, request, pod, type_name)
                if mapped is None:
                    LOG.warning("Volume type %s has no copy in pod %s", value, pod.name)
                    return None
                query[index] = (key, mapped)
        return query
