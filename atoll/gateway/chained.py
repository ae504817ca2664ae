"""Lists that are not merged (nothing to merge them on): every up pod's items one pod after the
other, in pod order, and paged as one list where the service pages them.

Nova's migrations (2.59+) and hypervisors (2.33+), Glance's tasks and Cinder's messages (3.5+),
groups, group snapshots (3.29+), transfers (3.59+) and attachments take `limit` and `marker`
(Cinder's `offset` too) and, but for attachments, link a next page. Each pod pages only its own
items, so Atoll pages the chain as the service pages (`Paging`):

limit     the page holds at most `limit` items, taken pod after pod; every pod is asked for
          the whole page at once (one round trip), as one pod's items may fill it
marker    Atoll's own (`atollc1.`...: the pod the page stopped in and that pod's own marker,
          none to start it at its first item); a plain id (the CLI's `--marker`) is looked for
          in every pod, and the list goes on after it in its pod, then from the later pods
offset    counted over the chain, not in each pod
next      a link whenever the page stopped before the chain's end: cut at `limit`, or at a pod
          whose own page size ended its share (it links more); also after a full page that
          ends the chain, as Nova and Cinder link one after every full page

Before the microversion a list is paged from, it is every pod's items with the query passed as
it came, as for lists the service does not page; so is a list a pod did not page after all (it
gave more than it was asked for, or items without the marker field). Nova's server groups and
volume proxy lists, and Cinder's `/os-volume-transfer`, take `limit` and `offset` only: the chain
is cut the same way, and not linked (Nova links none). Cinder links no page of attachments
either: a client goes on with the last id as `marker`. A pod is asked for no `limit` the client
did not send (some lists read a parameter they do not know as a filter).

A pod that does not answer is named in `Atoll-Partial-Pods` and passed over; one that refuses
the caller (a 4xx) refuses for all.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from atoll.core import jsonfast
from atoll.core.errors import AtollError, InvalidInput
from atoll.gateway.deps import Gateway
from atoll.gateway.fanout import Adjust, Answer, gathered, partial_header, unanswered, unchanged, up_pods
from atoll.gateway.http import GatewayRequest, Reply, json_reply
from atoll.pods.client import PodResponse
from atoll.pods.info import PodInfo

LOG = logging.getLogger(__name__)

PREFIX = "atollc1."
"""Atoll's marker of a chained list (a merged list's are `atoll1.`...)."""

MAX_MARKER = 4096


@dataclasses.dataclass(frozen=True)
class Paging:
    """How the service pages a list."""

    marker: str | None = "id"
    """The item field its `marker` is; None: it pages by `limit` and `offset` only."""
    links: str | None = None
    """The member of its next link (Nova, Cinder: `<key>_links`, Glance: `next`); None: it links none."""
    since: tuple[int, int] | None = None
    """The microversion it pages from."""


@dataclasses.dataclass(frozen=True)
class Place:
    """Where a chained list stands: in `pod`, after its item `after` (at its first item when None)."""

    pod: str
    after: str | None = None

    def encode(self) -> str:
        packed = json.dumps([self.pod, self.after], separators=(",", ":")).encode()
        return PREFIX + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def decode(text: str) -> Place:
    """The place an Atoll marker of a chained list names; `InvalidInput` for anything else."""
    raw = text[len(PREFIX) :]
    document = None
    try:
        if len(text) <= MAX_MARKER:
            document = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError):
        pass
    match document:
        case [str(pod), str() | None as after]:
            return Place(pod, after)
    raise InvalidInput(f"Invalid marker: {text[:80]!r} is not a marker Atoll gave for this list.")


def concatenated(
    gw: Gateway, key: str, adjust: Adjust = unchanged, paging: Paging | None = None
) -> Callable[[GatewayRequest], Any]:
    """The handler of a chained list of `key`, paged as `paging` says (not at all when None)."""

    async def handle(request: GatewayRequest) -> Reply:
        version = request.microversion
        since = paging.since if paging is not None else None
        paged = paging if since is None or (version is not None and (version.major, version.minor) >= since) else None
        chain = _Chain(gw, request, key, adjust, paged)
        try:
            return await chain.answer()
        except _Refusal as refusal:
            return refusal.reply

    return handle


@dataclasses.dataclass
class _Listed:
    """One pod's answer in the chain."""

    pod: PodInfo
    document: dict[str, Any]
    items: list[Any]
    more: bool
    """The pod linked a next page of its own."""


class _Refusal(Exception):
    def __init__(self, reply: Reply) -> None:
        self.reply = reply


class _Chain:
    def __init__(self, gw: Gateway, request: GatewayRequest, key: str, adjust: Adjust, paging: Paging | None) -> None:
        self.gw, self.request, self.key, self.adjust = gw, request, key, adjust
        self.field = paging.marker if paging is not None else None
        self.links = paging.links if paging is not None else None
        query = request.query
        names = {"limit", "offset"} | ({"marker"} if self.field else set())
        first = {name: value for name, value in reversed(query) if name in names}  # the first of each
        self.limit, self.offset = _count(first.get("limit")), _count(first.get("offset"))
        # Atoll pages a list the service pages, with counts it can read (others are the pods' to refuse).
        self.pages = paging is not None and all(_count(first[n]) is not None for n in ("limit", "offset") if n in first)
        if self.limit == 0:
            self.pages = False  # the services read it as "no limit" or as an empty page: theirs to say
        self.marker = first.get("marker") if self.pages else None
        self.params = [(n, v) for n, v in query if n not in names] if self.pages else list(query)
        self.partial: list[str] = []
        self.skip = self.offset or 0

    async def answer(self) -> Reply:
        up = await up_pods(self.gw, self.request)
        if self.marker is not None and self.marker.startswith(PREFIX):
            listed = await self.from_place(up, decode(self.marker))
        elif self.marker is not None:
            listed = await self.after_plain(up, self.marker)
        else:
            listed = await self.listed(up, [None] * len(up))
        return self.reply(listed, up)

    def ask(self, marker: str | None) -> list[tuple[str, str]]:
        """The query asked of a pod: the filters, its own marker, and enough items for the page. No
        `limit` the client did not send: some lists read a parameter they do not know as a filter
        (Cinder's transfers before 3.59 look for transfers whose `limit` is 1000, and find none)."""
        params = list(self.params)
        if self.pages and self.limit is not None:
            params.append(("limit", str(self.limit + self.skip)))
        if marker is not None:
            params.append(("marker", marker))
        return params

    async def listed(self, pods: list[PodInfo], markers: Sequence[str | None]) -> list[_Listed]:
        send = self.gw.forwarder.send
        timeout = self.gw.list_timeout
        calls = (send(self.request, p, query=self.ask(m), timeout=timeout) for p, m in zip(pods, markers, strict=True))
        answers = await gathered(calls)
        return [one for pod, answer in zip(pods, answers, strict=True) if (one := self.read(pod, answer))]

    async def from_place(self, up: list[PodInfo], place: Place) -> list[_Listed]:
        """The chain from an Atoll marker's place: its pod after its item, then the later pods."""
        order = [p.name for p in (await self.gw.pods()).bottoms if p.has(self.request.service.name)]
        if place.pod not in order:
            raise InvalidInput(f"Invalid marker: it names pod {place.pod!r}, which Atoll no longer has.")
        start = order.index(place.pod)
        rest = [p for p in up if p.name in order and order.index(p.name) >= start]
        if not rest or rest[0].name != place.pod:
            self.partial.append(place.pod)  # down now: what it has left is passed over, and said so
        return await self.listed(rest, [place.after if p.name == place.pod else None for p in rest])

    async def after_plain(self, up: list[PodInfo], marker: str) -> list[_Listed]:
        """The chain after a plain id: every pod is asked with it; the first that knows it goes on
        after it, and the pods after that one are asked again from their start."""
        send = self.gw.forwarder.send
        query, timeout = self.ask(marker), self.gw.list_timeout
        answers = await gathered(send(self.request, p, query=query, timeout=timeout) for p in up)
        refusal: Reply | None = None
        for index, (pod, answer) in enumerate(zip(up, answers, strict=True)):
            if isinstance(answer, PodResponse) and answer.status in (400, 404) and marker in _text(answer):
                refusal = refusal or self.gw.forwarder.relay(self.request, pod, answer)
                continue  # not this pod's item
            if (found := self.read(pod, answer)) is not None:
                later = up[index + 1 :]
                return [found, *(await self.listed(later, [None] * len(later)))]
        if refusal is not None:
            raise _Refusal(refusal)  # no pod has it: the pods' own answer (Nova's 400, Cinder's 404)
        return []

    def read(self, pod: PodInfo, answer: Answer) -> _Listed | None:
        """A pod's answer as a link of the chain; None (and the pod named partial) when it gave none."""
        if isinstance(answer, AtollError) or answer.status >= 500:
            self.left_out(pod, unanswered(answer))
            return None
        reply = self.adjust(self.gw.forwarder.relay(self.request, pod, answer), pod)
        if answer.status != 200:
            raise _Refusal(reply)  # the pod refused the caller (400, 403...): so does Atoll
        try:
            document = jsonfast.loads(reply.body) if isinstance(reply.body, bytes) else None
        except ValueError:
            document = None
        if not isinstance(document, dict):
            self.left_out(pod, "not a JSON object")
            return None
        items = document.get(self.key)
        more = bool(document.get(self.links)) if self.links else False
        return _Listed(pod, document, items if isinstance(items, list) else [], more)

    def left_out(self, pod: PodInfo, why: str) -> None:
        LOG.warning("%s %s: pod %s left out: %s", self.request.method, self.request.path, pod.name, why)
        self.partial.append(pod.name)

    def reply(self, listed: list[_Listed], up: list[PodInfo]) -> Reply:
        place: Place | None = None
        if self.pages and not self._unpaged(listed):
            items, place = self._page(listed, up)
        else:
            items = [item for one in listed for item in one.items]
        document: dict[str, Any] = {}
        if listed:  # the first pod's other members (Glance's `schema` and `first`...)
            dropped = (self.key, self.links, f"{self.key}_links")  # a pod's own link is not the chain's
            document = {k: v for k, v in listed[0].document.items() if k not in dropped}
            counts = [one.document.get("count") for one in listed]
            if all(isinstance(count, int) and not isinstance(count, bool) for count in counts):
                document["count"] = sum(counts)  # Cinder's `with_count`: the whole chain's
        document[self.key] = items
        if place is not None and self.field is not None and self.links is not None:
            document[self.links] = self._link(place)
        return json_reply(200, document, partial_header(self.partial))

    def _page(self, listed: list[_Listed], up: list[PodInfo]) -> tuple[list[Any], Place | None]:
        """The page's items, and where the next one starts (None at the chain's end)."""
        items: list[Any] = []
        for one in listed:
            shown = one.items[self.skip :]
            self.skip = max(0, self.skip - len(one.items))
            room = None if self.limit is None else self.limit - len(items)
            if room is not None and len(shown) >= room:
                items += shown[:room]
                if len(shown) > room or one.more:  # the pod has more after the page's last item
                    return items, Place(one.pod.name, self._marker_of(items[-1]))
                # A full page that ends this pod's items: the next starts at the next pod, or (the
                # chain's end) is an empty one, as Nova and Cinder link after every full page.
                later = [p for p in up if _after(up, p, one.pod)]
                return items, Place(later[0].name) if later else Place(one.pod.name, self._marker_of(items[-1]))
            items += shown
            if one.more and one.items:  # its own page size ended its share: the page stops here
                return items, Place(one.pod.name, self._marker_of(one.items[-1]))
        return items, None

    def _unpaged(self, listed: list[_Listed]) -> bool:
        """A pod did not page (more items than asked, or items without the marker field)."""
        wanted = None if self.limit is None else self.limit + (self.offset or 0)
        for one in listed:
            if wanted is not None and len(one.items) > wanted:
                return True
            if self.field is not None and any(self._marker_of(item) is None for item in one.items):
                return True
        return False

    def _marker_of(self, item: Any) -> str | None:
        value = item.get(self.field) if isinstance(item, dict) and self.field else None
        if isinstance(value, bool) or not isinstance(value, str | int):
            return None
        return str(value)

    def _link(self, place: Place) -> Any:
        pairs = [(name, value) for name, value in self.request.query if name not in ("marker", "offset")]
        if self.skip:
            pairs.append(("offset", str(self.skip)))  # what the offset had yet to pass over
        pairs.append(("marker", place.encode()))
        if self.request.service.name == "image":  # Glance's links are relative to its endpoint
            return f"{self.request.service.version}{self.request.path}?{urlencode(pairs)}"
        base = self.request.public_root + self.request.service.version + self.request.path
        return [{"rel": "next", "href": f"{base}?{urlencode(pairs)}"}]


def _after(up: list[PodInfo], pod: PodInfo, than: PodInfo) -> bool:
    names = [p.name for p in up]
    return than.name in names and names.index(pod.name) > names.index(than.name)


def _count(text: str | None) -> int | None:
    """A count as the services read one (digits); None when absent or not one."""
    return int(text) if text is not None and text.isdigit() and len(text) < 10 else None


def _text(answer: PodResponse) -> str:
    return answer.body.decode("utf-8", "replace")
