"""Nova's usage reports (`/os-simple-tenant-usage`, `openstack usage list|show`) over every pod.

Nova reports a project's usage from the instances of each of its cells, one cell after the
other; through Atoll the pods are those cells:

- each tenant's totals (`total_hours`, `total_vcpus_usage`, `total_memory_mb_usage`,
  `total_local_gb_usage`) are added up over the pods, and its `server_usages` put together,
  in pod order;
- from microversion 2.40 a report is paged over instances (`limit`, `marker`: the last
  instance's id) as Nova pages it over cells: the pods are asked one after the other, the
  marker's pod from the marker on (a pod that does not have it answers that it cannot find
  it, and the next is asked), each later pod from its start, until `limit` instances are
  reported; a full page links the next (`tenant_usages_links`, `tenant_usage_links`).
  To count the instances each pod reported, pods are asked for the detailed list and the
  `server_usages` left out when the caller did not ask for them (`detailed=1`, as Nova reads it;
  a tenant's report is always detailed);
- before 2.40 there is no paging: every up pod is asked at once.

A pod that is down or does not answer is left out and named in `Atoll-Partial-Pods`; a pod's
refusal (a 400 for a bad date, a 403) is the answer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from atoll.core import jsonfast
from atoll.core.errors import AtollError
from atoll.gateway.deps import Gateway
from atoll.gateway.fanout import ask_up_pods, partial_header, up_pods
from atoll.gateway.http import GatewayRequest, Reply, json_reply
from atoll.gateway.router import Route
from atoll.pods.info import PodInfo

PAGED_FROM = (2, 40)
TOTALS = ("total_hours", "total_vcpus_usage", "total_memory_mb_usage", "total_local_gb_usage")
PATH = "/os-simple-tenant-usage"


def merge_usages(reports: Sequence[list[Any]], detailed: bool) -> list[dict[str, Any]]:
    """One tenant usage per tenant, in the order tenants first appear: totals added up, server
    usages put together (only when `detailed`)."""
    merged: dict[str, dict[str, Any]] = {}
    for usages in reports:
        for usage in usages:
            if not isinstance(usage, dict) or not usage:  # a tenant with no usage in a pod: {}
                continue
            tenant = str(usage.get("tenant_id"))
            kept = merged.get(tenant)
            if kept is None:
                kept = merged[tenant] = dict(usage)
                kept["server_usages"] = list(usage.get("server_usages") or [])
                continue
            for total in TOTALS:
                if _number(usage.get(total)) and _number(kept.get(total)):
                    kept[total] += usage[total]
            kept["server_usages"] += usage.get("server_usages") or []
    for usage in merged.values():
        if not detailed:
            usage.pop("server_usages")
    return list(merged.values())


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _marker_unknown(body: bytes, marker: str) -> bool:
    text = body.decode("utf-8", "replace")
    return f"Marker {marker} could not be found" in text or f"marker [{marker}] not found" in text


@dataclasses.dataclass
class _Walk:
    """What the pods reported to one paged call, in pod order."""

    reports: list[list[Any]] = dataclasses.field(default_factory=list)
    instances: list[str] = dataclasses.field(default_factory=list)
    """The ids of the instances reported, in order (the next page's marker is the last)."""
    left_out: list[PodInfo] = dataclasses.field(default_factory=list)


class UsageReports:
    def __init__(self, gw: Gateway) -> None:
        self.gw = gw

    def routes(self) -> list[Route]:
        return [Route("GET", PATH, self.report), Route("GET", PATH + "/{tenant_id}", self.report)]

    async def report(self, request: GatewayRequest) -> Reply:
        tenant = request.params.get("tenant_id")
        version = request.microversion
        if version is None or (version.major, version.minor) < PAGED_FROM:
            return await self._everywhere(request, tenant)
        return await self._paged(request, tenant)

    async def _everywhere(self, request: GatewayRequest, tenant: str | None) -> Reply:
        asked = await ask_up_pods(self.gw, request, timeout=self.gw.list_timeout)
        if asked.refusal is not None:
            return asked.refusal
        if not asked.documents:
            return asked.first_failure(self.gw, request)
        if tenant is None:
            reports = [document.get("tenant_usages") or [] for _pod, _reply, document in asked.documents]
            return json_reply(200, {"tenant_usages": merge_usages(reports, _detailed(request))}, asked.partial)
        shown = [[document.get("tenant_usage") or {}] for _pod, _reply, document in asked.documents]
        merged = merge_usages(shown, True)
        return json_reply(200, {"tenant_usage": merged[0] if merged else {}}, asked.partial)

    async def _paged(self, request: GatewayRequest, tenant: str | None) -> Reply:
        given = dict(request.query)
        max_limit = int(self.gw.conf.api.max_limit)
        try:
            limit = min(int(given.get("limit", max_limit)) or max_limit, max_limit)  # 0: Nova's max
        except ValueError:
            limit = -1
        if limit < 0:
            return await self._first_pods_answer(request)  # the pod's own 400 for a bad limit
        walk = await self._walk(request, tenant, limit, given.get("marker"))
        if isinstance(walk, Reply):
            return walk
        key = "tenant_usage" if tenant else "tenant_usages"
        merged = merge_usages(walk.reports, True if tenant else _detailed(request))
        document: dict[str, Any] = {key: (merged[0] if merged else {}) if tenant else merged}
        if walk.instances and len(walk.instances) >= limit:
            following = [(k, v) for k, v in request.query if k != "marker"] + [("marker", walk.instances[-1])]
            href = request.public_root + request.service.version + request.path + "?" + urlencode(following)
            document[f"{key}_links"] = [{"href": href, "rel": "next"}]
        left_out = walk.left_out
        partial = partial_header(p.name for p in left_out)
        return json_reply(200, document, partial)

    async def _walk(self, request: GatewayRequest, tenant: str | None, limit: int, marker: str | None) -> _Walk | Reply:
        """The pods asked one after the other until `limit` instances are reported (Nova's walk of its cells)."""
        query = [(k, v) for k, v in request.query if k not in ("limit", "marker", "detailed")]
        walk = _Walk()
        for pod in await up_pods(self.gw, request):
            if len(walk.instances) >= limit:
                break
            # A tenant's report is always detailed, and Nova's schema for it refuses `detailed`.
            asked = [*query, *([] if tenant else [("detailed", "1")]), ("limit", str(limit - len(walk.instances)))]
            asked += [("marker", marker)] if marker is not None else []
            try:
                response = await self.gw.forwarder.send(request, pod, query=asked, timeout=self.gw.list_timeout)
            except AtollError:
                walk.left_out.append(pod)
                continue
            if response.status == 400 and marker is not None and _marker_unknown(response.body, marker):
                continue  # the marker is in a later pod
            if 200 < response.status < 500:
                return self.gw.forwarder.relay(request, pod, response)
            try:
                document = jsonfast.loads(response.body) if response.status == 200 else None
            except ValueError:
                document = None
            if not isinstance(document, dict):
                walk.left_out.append(pod)  # a 5xx, or a 200 that is not a JSON object
                continue
            usages = [document.get("tenant_usage") or {}] if tenant else document.get("tenant_usages") or []
            walk.reports.append(usages)
            walk.instances += [
                str(server.get("instance_id"))
                for usage in usages
                if isinstance(usage, dict)
                for server in usage.get("server_usages") or []
                if isinstance(server, dict)
            ]
            marker = None  # found: the later pods from their start
        if marker is not None and not walk.reports and not walk.left_out:
            return await self._first_pods_answer(request)  # no pod has the marker: the first pod's 400
        return walk

    async def _first_pods_answer(self, request: GatewayRequest) -> Reply:
        pod = (await up_pods(self.gw, request))[0]
        return self.gw.forwarder.relay(request, pod, await self.gw.forwarder.send(request, pod))


def routes(gw: Gateway) -> list[Route]:
    return UsageReports(gw).routes()


def _detailed(request: GatewayRequest) -> bool:
    return dict(request.query).get("detailed", "0") == "1"
