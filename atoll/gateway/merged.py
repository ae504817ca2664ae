"""Lists merged across pods, with `atoll.listing` doing the sorting, merging and paging.

parse        the request's sort, limit and marker as the service reads them (400s included)
marker       Atoll's own (opaque, every pod's position); a plain id (the openstack CLI's
             `--marker`) is looked up and the list continues strictly after that item
fan out      `Pager.page` asks every pod that has the service, each within `list_timeout`,
             for the items after its own position, sorted as the merge sorts
relay        each pod's answer with its URLs rewritten, parsed, its items' AZ names made
             Atoll's (`zones`), then merged; a pod that did not answer is named in
             `Atoll-Partial-Pods`
first page   while at most one pod lists anything, that pod's own page, relayed as it came
             but for its URLs and AZ names (`MergedList._one_pods_list`)
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import cachetools

from atoll.core import jsonfast
from atoll.core.errors import AtollError, InvalidInput, NotFound
from atoll.gateway.deps import Gateway
from atoll.gateway.fanout import ask_each, partial_header, unanswered
from atoll.gateway.http import GatewayRequest, Reply, json_reply
from atoll.gateway.locate import locate
from atoll.gateway.rewrite import AzFields
from atoll.listing import (
    Marker,
    MarkerNotFound,
    Pager,
    PodAnswer,
    PodQuery,
    PodUnavailable,
    decode,
    is_atoll_marker,
    is_marker_refusal,
    links,
    parse,
)
from atoll.listing.declared import ALL as COLLECTIONS
from atoll.listing.fields import Collection
from atoll.pods.client import PodResponse
from atoll.pods.info import PodInfo
from atoll.resources.spec import Resource
from atoll.types import ServiceType

LOG = logging.getLogger(__name__)

Listed = Callable[[GatewayRequest, PodInfo, list[str], Sequence[tuple[str, str]]], Awaitable[set[str]]]
"""Which of `ids` a pod lists to the caller with the list's filters: `listed(request, pod, ids, filters)`
(for resources copied between pods under one id: a later pod's copy is passed over, `Pager.copies`)."""

BRIEF = ("id", "name", "links")
"""What an item of a brief list shows (Nova's `GET /servers`, Cinder's `GET /volumes` and `/backups`)."""

SPREAD_TTL = 300.0
"""Seconds a project found to have items in two or more pods is listed by merging at once."""

ALL_PROJECTS = frozenset({"all_tenants", "all_projects", "project_id", "tenant_id", "owner"})
"""Query parameters of a list that reaches beyond the caller's own project."""

_SERVICE_TYPES = {"compute": ServiceType.COMPUTE, "volume": ServiceType.BLOCK_STORAGE, "image": ServiceType.IMAGE}


def collection_for(resource: Resource) -> Collection:
    """The listing's declaration of the same collection (its sort keys and tie-breaker)."""
    service = _SERVICE_TYPES.get(resource.service, ServiceType.NETWORK)
    return next(c for c in COLLECTIONS if c.service is service and c.name == resource.collection_key)


class MergedList:
    """The list handler of a merged resource; `zones` are the items' fields that name the pod's AZ."""

    def __init__(
        self,
        gw: Gateway,
        resource: Resource,
        zones: AzFields | None = None,
        *,
        brief: tuple[str, ...] = (),
        az_filter: bool = False,
        copies: Listed | None = None,
    ) -> None:
        self.gw = gw
        self.resource = resource
        self.zones = zones
        self.brief = brief
        """The fields of the brief list (`resource.path`) when it shows fewer than the detailed one."""
        self.az_filter = az_filter
        """`availability_zone=<Atoll AZ>` asks only that AZ's pods, each by its own AZ name."""
        self.collection = collection_for(resource)
        self.copies = copies
        self._spread: cachetools.TTLCache[str, bool] = cachetools.TTLCache(maxsize=4096, ttl=SPREAD_TTL)
        """Projects whose items a first page found in two or more pods lately: merged at once."""

    async def __call__(self, request: GatewayRequest) -> Reply:
        version = request.microversion
        listed = parse(
            self.collection,
            request.query,
            max_limit=int(self.gw.conf.api.max_limit),
            microversion=(version.major, version.minor) if version else (2, 1),
        )
        pods = {p.name: p for p in (await self.gw.pods()).bottoms if p.has(request.service.name)}
        filters = {name: list(listed.filters) for name in pods}
        if self.az_filter:
            pods, filters = _by_az(pods, list(listed.filters))
        # A brief list (`GET /servers`: id, name, links) has none of the values it is sorted on, so it is
        # merged from the pods' detailed lists and each item cut down to the brief shape afterwards.
        brief = bool(self.brief) and self.resource.detail_path is not None and request.path == self.resource.path
        # A first page while at most one pod lists anything is that pod's own page (`_one_pods_list`).
        known: dict[str, PodAnswer | PodUnavailable] = {}
        zoned = self.az_filter and any(key == AZ_FILTER for key, _ in listed.filters)
        if listed.marker is None and not listed.offset and self.copies is None and not zoned:
            alone = await self._one_pods_list(request, pods, listed.limit, brief, known)
            if alone is not None:
                return alone
        marker = await self._marker(request, listed.marker, listed.spec)
        asking = _Asking(request, self.resource.detail_path if brief else None, self.gw.list_timeout)

        async def fetch(pod: str, query: PodQuery) -> PodAnswer:
            if query.marker is None and (first := known.pop(pod, None)) is not None:
                if isinstance(first, PodUnavailable):
                    raise first  # it failed the first page's question a moment ago: not asked again
                return first  # it has nothing to list, in any order
            params = [*filters[pod], *query.params()]
            return await self._fetch(asking, pods[pod], params, query.marker)

        async def lists(pod: str, ids: list[str]) -> set[str]:
            assert self.copies is not None
            return await self.copies(request, pods[pod], ids, filters[pod])

        copies = None if self.copies is None else lists
        pager = Pager(fetch, timeout=asking.timeout, pod_max_limit=int(self.gw.conf.api.max_limit), copies=copies)
        hot = await self._hot(request, pods)
        try:
            page = await pager.page(list(pods), listed.spec, listed.offset + listed.limit, marker, hot)
        except _Refused:
            return asking.failures[0]
        if listed.offset:
            page = dataclasses.replace(page, entries=page.entries[listed.offset :])
        for pod, why in page.partial.items():
            LOG.warning("List of %s: pod %s left out: %s", self.collection.name, pod, why)
        if page.next is None and page.entries and len(page.entries) == listed.limit:
            # Nova and Cinder link a next page after every full page, the last one too (they cannot
            # tell it is the last); Tempest checks they do. That page is empty, with no link.
            last = listed.spec.values(page.entries[-1].item)
            page = dataclasses.replace(page, next=Marker.finished(listed.spec, list(pods), last))
        items = [{k: item[k] for k in self.brief if k in item} for item in page.items] if brief else page.items
        document: dict[str, Any] = {self.collection.name: items}
        if self.collection.service is ServiceType.IMAGE:
            # Glance's links are relative to the image endpoint, and its list names its schema.
            base = request.service.version + request.path
            document["schema"] = f"{request.service.version}/schemas/{self.collection.name}"
        else:
            base = request.public_root + request.service.version + request.path
        document |= links(listed.spec, base, request.query, page)
        headers = partial_header(page.partial)
        return json_reply(200, document, headers)

    async def _one_pods_list(
        self,
        request: GatewayRequest,
        pods: Mapping[str, PodInfo],
        limit: int,
        brief: bool,
        known: dict[str, PodAnswer | PodUnavailable],
    ) -> Reply | None:
        """A first page from the pods' own lists (the request as it came), when at most one pod lists
        anything: that pod's page, relayed as it came but for its URLs and AZ names, is the merged
        page (its order is the requested one, and its next link, whose marker is a plain id,
        continues the merged list).

        The common case (a project's servers in the one pod it is bound to) costs a relay, not a
        parse, merge and rewrite of every page: Atoll's CPU per 20-server detailed list halves.
        For `GET /servers` it also spares the pods their detailed lists, which cost Nova several
        times the brief one (on the test bed, 150 ms against 50 for three servers).

        None when two or more pods list something (or the routings say they will, or a first page
        found it within `SPREAD_TTL`), or a pod does not answer: the list is merged. What was learnt
        is kept in `known` for that: a pod with nothing to list has nothing in any order, and one
        that failed is not asked again. Pods holding items are asked again (in the merge's order,
        which is not always the pod's own), so a project spread over pods without routings (items
        made straight in the pods) pays that once per `SPREAD_TTL`, not on every list."""
        project = request.context.project_id or ""
        if not pods or any(name in ALL_PROJECTS for name, _ in request.query) or project in self._spread:
            return None
        if len(await self._hot(request, pods)) > 1:
            return None
        asked = list(pods.values())
        query = _limited(request.query, limit)
        answers = await ask_each(self.gw, request, asked, query=query, timeout=self.gw.list_timeout)
        empty: list[tuple[PodInfo, PodResponse]] = []
        holders: list[tuple[PodInfo, PodResponse]] = []
        for pod, answer in zip(asked, answers, strict=True):
            if isinstance(answer, AtollError) or answer.status >= 500:
                known[pod.name] = PodUnavailable(unanswered(answer))
            elif answer.status != 200:
                return self.gw.forwarder.relay(request, pod, answer)  # the pod refused the caller: so does Atoll
            else:
                holds = _holds_items(answer.body, self.collection.name)
                if holds is None:
                    known[pod.name] = PodUnavailable(f"answered no {self.collection.name} list")
                elif holds:
                    holders.append((pod, answer))
                else:
                    known[pod.name] = PodAnswer([], False)
                    empty.append((pod, answer))
        if len(holders) > 1:
            self._spread[project] = True  # what the routings did not say: its next lists are merged at once
            return None
        if len(holders) + len(empty) < len(asked):
            return None
        # The one pod with items, or (nothing anywhere) the first pod's empty page.
        pod, answer = holders[0] if holders else empty[0]
        reply = self.gw.forwarder.relay(request, pod, answer)
        if self.zones is not None and not brief and isinstance(reply.body, bytes):
            reply.body = self.zones.body(reply.body, pod.az_name)
        return reply

    async def _hot(self, request: GatewayRequest, pods: Mapping[str, PodInfo]) -> frozenset[str]:
        """The pods the routings say hold the caller's project's items (asked for a whole page at
        once, see `atoll.listing.sizing`); none for a list of every project's."""
        project = request.context.project_id
        kind = self.resource.routing_type
        if kind is None or not project or any(name in ALL_PROJECTS for name, _ in request.query):
            return frozenset()
        try:
            holding = await self.gw.routings.pods_holding(project, kind)
        except Exception:  # only a hint: the list is exact without it
            LOG.warning(
                "List of %s: the routings could not be read; asking every pod for a share",
                self.resource.name,
                exc_info=True,
            )
            return frozenset()
        return frozenset(name for name, pod in pods.items() if pod.pod_id in holding)

    async def _marker(self, request: GatewayRequest, text: str | None, spec: Any) -> Marker | None:
        if text is None:
            return None
        if is_atoll_marker(text):
            return decode(text, spec)
        try:
            located = await locate(self.gw, request, self.resource, text)
        except AtollError:
            raise unknown_marker(request, text) from None
        return await self._after(request, located.pod, text, spec)

    async def _after(self, request: GatewayRequest, pod: PodInfo, text: str, spec: Any) -> Marker:
        """The marker just after the item `text` (a plain id), as `pod` shows it."""
        path = f"{self.resource.path}/{text}"
        shown = await self.gw.forwarder.send(request, pod, method="GET", path=path, query=[])
        if shown.status != 200:
            raise unknown_marker(request, text)
        item = self._items(self.gw.forwarder.relay(request, pod, shown), True)
        if self.zones is not None:
            self.zones.items(item, pod.az_name)
        return Marker.after_item(spec, item[0], {pod.name: text})

    async def _fetch(
        self, asking: _Asking, pod: PodInfo, params: Sequence[tuple[str, str]], marker: str | None
    ) -> PodAnswer:
        request = asking.request
        try:
            send = self.gw.forwarder.send
            response = await send(request, pod, path=asking.path, query=params, timeout=asking.timeout)
        except AtollError as error:
            raise PodUnavailable(error.message) from error
        if response.status >= 500:
            raise PodUnavailable(f"answered {response.status}")
        if response.status != 200:
            text = response.body.decode("utf-8", "replace")
            if marker is not None and is_marker_refusal(self.collection.service, response.status, text, marker):
                raise MarkerNotFound(marker)
            asking.failures.append(self.gw.forwarder.relay(request, pod, response))
            raise _Refused  # the pod refused the caller (400, 401, 403): so does Atoll
        rewritten = self.gw.forwarder.rewriter(request, pod).body(response.body)  # its headers are not relayed
        try:
            document = jsonfast.loads(rewritten)
        except ValueError as error:
            raise PodUnavailable("answered a body that is not JSON") from error
        if not isinstance(document, Mapping) or not isinstance(document.get(self.collection.name), list):
            raise PodUnavailable(f"answered no {self.collection.name} list")
        more = bool(document.get(f"{self.collection.name}_links") or document.get("next"))
        items = document[self.collection.name]
        if self.zones is not None:
            self.zones.items(items, pod.az_name)
        return PodAnswer(items, more)

    def _items(self, reply: Reply, single: bool) -> list[dict[str, Any]]:
        assert isinstance(reply.body, bytes)
        document = jsonfast.loads(reply.body)
        return [document[self.resource.member_key]] if single else list(document[self.collection.name])


@dataclasses.dataclass(frozen=True)
class _Asking:
    """One list request, as each of its pod calls needs it."""

    request: GatewayRequest
    path: str | None
    """The path the pods are asked (the detailed list behind a brief one); None: the request's."""
    timeout: float
    """`list_timeout`, read once per list rather than once per pod call."""
    failures: list[Reply] = dataclasses.field(default_factory=list)
    """A pod's refusal of the caller, relayed (the list's answer)."""


AZ_FILTER = "availability_zone"


def _limited(query: Sequence[tuple[str, str]], limit: int) -> list[tuple[str, str]]:
    """The request's query, its `limit` lowered to Atoll's `max_limit` where it asked for more."""
    given = [value for key, value in query if key == "limit"]
    if not given or given[-1] == str(limit):
        return list(query)
    return [*((key, value) for key, value in query if key != "limit"), ("limit", str(limit))]


_ITEMS_AHEAD = 4096
"""Bodies up to this size are parsed to tell whether they list anything; longer ones are looked into first."""


def _holds_items(body: bytes, name: str) -> bool | None:
    """Whether a pod's list body lists any item, without parsing a long one; None when it is no list.

    A long body (an empty list is ~20 bytes, a server ~1.5 KB) is relayed as it came when it is the
    only one with items, so it is only looked into: its key followed by a list's first object."""
    if len(body) > _ITEMS_AHEAD and _first_item(name).search(body):
        return True
    try:
        document = jsonfast.loads(body)
    except ValueError:
        return None
    items = document.get(name) if isinstance(document, dict) else None
    return bool(items) if isinstance(items, list) else None


@functools.lru_cache(maxsize=32)
def _first_item(name: str) -> re.Pattern[bytes]:
    return re.compile(rb'"' + re.escape(name.encode()) + rb'"\s*:\s*\[\s*\{')


def _by_az(
    pods: dict[str, PodInfo], filters: list[tuple[str, str]]
) -> tuple[dict[str, PodInfo], dict[str, list[tuple[str, str]]]]:
    """The pods of the Atoll AZ the filter names, each with the filter in its own AZ name (none when the
    pod has no `pod_az_name`: everything in that pod is in the AZ)."""
    wanted = [value for key, value in filters if key == AZ_FILTER]
    if not wanted:
        return pods, {name: filters for name in pods}
    rest = [(key, value) for key, value in filters if key != AZ_FILTER]
    chosen = {name: pod for name, pod in pods.items() if pod.az_name == wanted[-1]}
    own = {name: rest + ([(AZ_FILTER, pod.pod_az_name)] if pod.pod_az_name else []) for name, pod in chosen.items()}
    return chosen, own


class _Refused(Exception):
    """A pod answered the caller with a 4xx; the pager cancels the others and the reply is relayed."""


def unknown_marker(request: GatewayRequest, marker: str) -> AtollError:
    """What the service answers a list whose marker it does not know: Cinder a 404 (its
    MarkerNotFound), Nova and the others a 400."""
    if request.service.name == "volume":
        return NotFound(f"Marker {marker} could not be found.")
    return InvalidInput(f"marker [{marker}] not found")
