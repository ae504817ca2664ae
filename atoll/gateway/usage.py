"""A project's limits and quota usage, read from every pod: usage added up, limits as the first pod has them.

Until the global quota exists, each pod keeps and enforces its own quota (Atoll writes a change to every
pod), but a project's servers and volumes are spread over pods, so what one pod says it uses is only
part of it. `GET /limits` (Nova's and Cinder's `absolute` counters `total...Used`) and
`GET /os-quota-sets/{project}` with usage (Nova's `/detail`, Cinder's `?usage=True`: each resource's
`in_use`, `reserved`, `allocated`) are asked of every up pod and the usage summed over the pods that
answered; one that did not (or answered no JSON object) is named in `Atoll-Partial-Pods`. The
limits shown are the first pod's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from atoll.gateway.deps import Gateway
from atoll.gateway.fanout import ask_up_pods
from atoll.gateway.http import GatewayRequest, Reply, json_reply

USAGE_FIELDS = ("in_use", "reserved", "allocated")


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def add_usage(total: dict[str, Any], other: dict[str, Any]) -> None:
    """Add `other`'s usage (a limits or quota set document of another pod) into `total`."""
    absolute = (total.get("limits") or {}).get("absolute")
    more = (other.get("limits") or {}).get("absolute")
    if isinstance(absolute, dict) and isinstance(more, dict):
        for key, value in more.items():
            if key.startswith("total") and key.endswith("Used") and _count(value) and _count(absolute.get(key)):
                absolute[key] += value
    quota, more_quota = total.get("quota_set"), other.get("quota_set")
    if isinstance(quota, dict) and isinstance(more_quota, dict):
        for name, entry in more_quota.items():
            mine = quota.get(name)
            if isinstance(entry, dict) and isinstance(mine, dict):
                for field in USAGE_FIELDS:
                    if _count(entry.get(field)) and _count(mine.get(field)):
                        mine[field] += entry[field]


def summed_usage(gw: Gateway) -> Callable[[GatewayRequest], Any]:
    async def handle(request: GatewayRequest) -> Reply:
        asked = await ask_up_pods(gw, request)
        if asked.refusal is not None:  # the pod refused the caller (403, 404, 400): so does Atoll
            return asked.refusal
        if not asked.documents:
            return asked.first_failure(gw, request)
        (_pod, reply, document), *others = asked.documents
        for _other, _reply, more in others:
            add_usage(document, more)
        kept = [(name, value) for name, value in reply.headers if name != b"content-type"]
        return json_reply(200, document, kept + asked.partial)

    return handle
