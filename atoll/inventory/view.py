"""One page of a project's resources across every pod (and the central Neutron), merged by `atoll.listing`.

Each (kind, pod) pair is one *source* of the listing's pager: its own sorted
run, its own position in Atoll's opaque marker. The merge orders items by
(type, id, pod), which every source already is in (one type, one pod, ids
ascending), so pages are exact at any size: nothing repeats, nothing is
skipped. A source whose pod is down fails at once (no request, no timeout)
and keeps its position; its pod is named in the page's `partial` list.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from atoll.core.errors import AtollError, InvalidInput
from atoll.inventory.kinds import KEYPAIR, Kind
from atoll.listing import MarkerNotFound, Pager, PodAnswer, PodQuery, PodUnavailable, decode, is_marker_refusal
from atoll.listing.fields import Collection, fields
from atoll.listing.fields import Kind as FieldKind
from atoll.listing.ordering import SQLITE
from atoll.listing.spec import SortSpec
from atoll.pods.client import PodResponse
from atoll.pods.info import PodInfo
from atoll.pods.pool import PodClients
from atoll.pods.registry import PodRegistry
from atoll.types import PodId, PodStatus, RegionName, ServiceType

LOG = logging.getLogger(__name__)

ServiceToken = Callable[[bool], Awaitable[str]]
"""Atoll's service token; called with True it makes a new one (the old one was refused)."""

# The service type only names the collection in the marker's fingerprint: every source is
# asked in its own service's syntax by `Kind.params`, never by `SortSpec.pod_params`.
VIEW = Collection(
    ServiceType.COMPUTE,
    "resources",
    fields(("type", "type", FieldKind.STRING), ("id", "id", FieldKind.STRING), ("pod", "pod", FieldKind.STRING)),
    tiebreaker="pod",
)
SPEC = SortSpec(VIEW, tuple((VIEW.keys[key], True) for key in ("type", "id", "pod")), order=SQLITE)

_SERVICE_TYPES = {
    "compute": ServiceType.COMPUTE,
    "volume": ServiceType.BLOCK_STORAGE,
    "image": ServiceType.IMAGE,
    "network": ServiceType.NETWORK,
}


@dataclasses.dataclass(frozen=True)
class ViewQuery:
    project: str
    kinds: Sequence[Kind]
    user: str | None = None
    """Whose keypairs are listed (None: none are)."""
    pod: str | None = None
    az: str | None = None
    limit: int = 1000
    marker: str | None = None


@dataclasses.dataclass(frozen=True)
class ViewPage:
    items: list[dict[str, Any]]
    next: str | None
    """Atoll's marker of the next page; None on the last page."""
    partial: list[str]
    """Pods (by name) some of whose resources this page could not include."""


@dataclasses.dataclass(frozen=True)
class _Source:
    kind: Kind
    pod: PodInfo
    az: str | None


class ResourceView:
    def __init__(
        self,
        registry: PodRegistry,
        clients: PodClients,
        token: ServiceToken,
        *,
        timeout: float,
        max_limit: int,
        central_neutron_url: str | None = None,
    ) -> None:
        self._registry = registry
        self._clients = clients
        self._token = token
        self._timeout = timeout
        self._max_limit = max_limit
        self._central_url = central_neutron_url

    async def page(self, query: ViewQuery) -> ViewPage:
        marker = decode(query.marker, SPEC) if query.marker is not None else None
        sources = await self._sources(query)

        async def fetch(name: str, asked: PodQuery) -> PodAnswer:
            return await self._fetch(sources[name], query, asked)

        pager = Pager(fetch, timeout=self._timeout, pod_max_limit=self._max_limit, collapse=False)
        page = await pager.page(list(sources), SPEC, query.limit, marker)
        partial: list[str] = []
        for name, why in page.partial.items():
            LOG.warning("Resources of project %s: %s left out: %s", query.project, name, why)
            pod = sources[name].pod.name
            if pod not in partial:
                partial.append(pod)
        return ViewPage([dict(item) for item in page.items], page.next.encode() if page.next else None, partial)

    async def _sources(self, query: ViewQuery) -> dict[str, _Source]:
        snapshot = await self._registry.snapshot()
        central = self._central(snapshot.top.name if snapshot.top else "RegionOne")
        names = {pod.name for pod in snapshot.bottoms} | ({central.name} if central else set())
        if query.pod is not None and query.pod not in names:
            raise InvalidInput(f"There is no pod named {query.pod!r}.")
        if query.az is not None and query.az not in snapshot.azs():
            raise InvalidInput(f"There is no availability zone named {query.az!r}.")
        pods = [pod for pod in snapshot.bottoms if query.pod in (None, pod.name) and query.az in (None, pod.az_name)]
        sources: dict[str, _Source] = {}
        for kind in query.kinds:
            if kind is KEYPAIR and query.user is None:
                continue
            for pod in pods:
                if pod.has(kind.service):
                    sources[f"{kind.type}:{pod.name}"] = _Source(kind, pod, pod.az_name)
            if kind.central and central is not None and query.pod in (None, central.name) and query.az is None:
                sources[f"{kind.type}:{central.name}"] = _Source(kind, central, None)
        return sources

    def _central(self, name: str) -> PodInfo | None:
        if not self._central_url:
            return None
        return PodInfo(
            pod_id=PodId("central-neutron"),
            region_name=RegionName(name),
            az_name="",
            pod_az_name="",
            is_top=True,
            endpoints={"network": self._central_url},
            status=PodStatus.UP,
        )

    async def _fetch(self, source: _Source, query: ViewQuery, asked: PodQuery) -> PodAnswer:
        pod, kind = source.pod, source.kind
        if not pod.is_up:
            raise PodUnavailable(f"pod {pod.name} is {pod.status}")  # known down: no request, no timeout
        if kind is KEYPAIR and query.user is not None:  # (`_sources` makes none without a user)
            return await self._keypairs(source, query.user, query.project, asked)
        params = [*kind.params(query.project), ("limit", str(asked.limit))]
        if asked.marker is not None:
            params.append(("marker", asked.marker))
        response = await self._get(pod, kind, params)
        body = response.body.decode("utf-8", "replace")
        if asked.marker is not None and is_marker_refusal(
            _SERVICE_TYPES[kind.service], response.status, body, asked.marker
        ):
            raise MarkerNotFound(asked.marker)
        document = _document(pod, kind, response)
        items = document[kind.collection]
        for item in items:
            if not isinstance(item, Mapping) or kind.project_of(item) != query.project:
                raise PodUnavailable(f"pod {pod.name} listed {kind.collection} of another project: not shown")
        views = [kind.view(item, pod.name, source.az, query.project) for item in items]
        return PodAnswer(views, _more(kind, document))

    async def _keypairs(self, source: _Source, user: str, project: str, asked: PodQuery) -> PodAnswer:
        """All of the user's keypairs in the pod (a quota's worth), ordered and cut here by name."""
        response = await self._get(source.pod, source.kind, [("user_id", user)])
        listed = _document(source.pod, source.kind, response)["keypairs"]
        try:
            pairs = sorted(({**entry["keypair"], "id": entry["keypair"]["name"]} for entry in listed), key=_name)
        except (KeyError, TypeError):
            raise PodUnavailable(f"pod {source.pod.name} answered a malformed keypair list") from None
        after = [pair for pair in pairs if asked.marker is None or pair["id"] > asked.marker]
        views = [source.kind.view(pair, source.pod.name, source.az, project) for pair in after]
        return PodAnswer(views[: asked.limit], len(views) > asked.limit)

    async def _get(self, pod: PodInfo, kind: Kind, params: list[tuple[str, str]]) -> PodResponse:
        headers = {"OpenStack-API-Version": f"compute {kind.microversion}"} if kind.microversion else None
        try:
            url = pod.url(kind.service) + kind.path
            for renew in (False, True):
                token = await self._token(renew)
                response = await self._clients(pod).request(
                    "GET", url, token=token, params=params, headers=headers, timeout=self._timeout
                )
                if response.status != 401:
                    return response
        except AtollError as error:
            raise PodUnavailable(error.message) from error
        raise PodUnavailable(f"pod {pod.name} refused Atoll's service token")


def _document(pod: PodInfo, kind: Kind, response: PodResponse) -> dict[str, Any]:
    if response.status != 200:
        raise PodUnavailable(f"pod {pod.name} answered {response.status} to its list of {kind.collection}")
    try:
        document = json.loads(response.body)
    except ValueError:
        document = None
    if not isinstance(document, dict) or not isinstance(document.get(kind.collection), list):
        raise PodUnavailable(f"pod {pod.name} answered no list of {kind.collection}")
    return document


def _more(kind: Kind, document: Mapping[str, Any]) -> bool:
    if kind.service == "image":
        return bool(document.get("next"))
    links = document.get(f"{kind.collection}_links") or []
    return any(isinstance(link, Mapping) and link.get("rel") == "next" for link in links)


def _name(pair: Mapping[str, Any]) -> str:
    return str(pair["id"])
