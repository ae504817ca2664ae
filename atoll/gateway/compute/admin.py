"""Nova's operator APIs through Atoll: every pod's hypervisors, compute services and host
aggregates in one list, and the hypervisor statistics and instance usage audit summed over the
pods; a console's auth token is looked up in the pods.

Nova's policy in each pod decides who may call them (admins by default): Atoll forwards
the caller's token and relays a pod's refusal. Items have no routing: a call on one item
(a hypervisor or a service, whose ids are UUIDs from microversion 2.53, or a host) is found by
`first_found`: a read asks every up pod at once, a write asks them in turn until one knows
it. Host aggregates are a pod's own business (their hosts are the pod's): they are listed,
and shown, changed, deleted and given hosts or metadata in the pod that has the id (ids are
each pod's own integers: an id two pods have is a 409 naming both); one is created in its
pod's own region, which Atoll says in a 409. A compute service's, host's or aggregate's zone is the pod's Atoll
AZ, as in `openstack availability zone list`; Nova's `internal` zone stays.
"""

from __future__ import annotations

from typing import Any

from atoll.core import jsonfast
from atoll.core.errors import AtollError, Conflict
from atoll.gateway.chained import Paging, concatenated
from atoll.gateway.deps import Gateway
from atoll.gateway.fanout import ambiguous, ask_each, ask_up_pods, first_found, up_pods
from atoll.gateway.http import GatewayRequest, Reply, json_reply
from atoll.gateway.rewrite import AzFields
from atoll.gateway.router import Route
from atoll.gateway.volume.routed import atoll_az
from atoll.pods.info import PodInfo

READ = ("GET",)
INTERNAL_ZONE = "internal"
MIGRATIONS = Paging("uuid", "migrations_links", (2, 59))
"""Nova pages migrations from 2.59, newest first, by a migration's uuid."""
AGGREGATE_AZ = atoll_az(AzFields("availability_zone"))
"""An aggregate's zone, as its field and its metadata say it: the pod's Atoll AZ."""


def service_zones(reply: Reply, pod: PodInfo) -> Reply:
    """The pod's AZ name in each compute service's and host's `zone` (Nova's `internal` ones keep theirs)."""
    if not isinstance(reply.body, bytes) or reply.status != 200:
        return reply
    document = jsonfast.loads(reply.body)
    if not isinstance(document, dict):
        return reply
    listed = [item for key in ("services", "hosts") if isinstance(document.get(key), list) for item in document[key]]
    for item in [*listed, document.get("service")]:
        if isinstance(item, dict) and item.get("zone") not in (None, INTERNAL_ZONE):
            item["zone"] = pod.az_name
    reply.body = jsonfast.dumps(document)
    return reply


def summed(statistics: list[dict[str, Any]]) -> dict[str, Any]:
    """One `hypervisor_statistics` document: each numeric field added up over the pods."""
    total: dict[str, Any] = {}
    for one in statistics:
        for key, value in one.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                total[key] = total.get(key, 0) + value
    return total


def merged_audit(logs: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """One instance usage audit log of every pod's (pod name, log): the counts added up, the hosts put
    together, and the overall status worded as Nova words it over all of them. A host name that an
    earlier pod's log holds too is keyed `host@pod` (hosts are named per pod)."""
    if not logs:
        return {}
    merged: dict[str, Any] = {key: logs[0][1].get(key) for key in ("period_beginning", "period_ending")}
    for key in AUDIT_COUNTS:
        merged[key] = sum(log.get(key, 0) for _pod, log in logs if isinstance(log.get(key, 0), int))
    merged["hosts_not_run"] = [host for _pod, log in logs for host in log.get("hosts_not_run") or []]
    hosts: dict[str, Any] = {}
    for pod, log in logs:
        for host, entry in (log.get("log") or {}).items():
            hosts[f"{host}@{pod}" if host in hosts else host] = entry
    merged["log"] = hosts
    done, every = merged["num_hosts_done"], merged["num_hosts"]
    merged["overall_status"] = (
        f"{'ALL' if done == every else f'{done} of {every}'} hosts done. {merged['total_errors']} errors."
    )
    return merged


def _lists_id(document: dict[str, Any], key: str, item_id: str) -> bool:
    listed = document.get(key)
    return isinstance(listed, list) and any(isinstance(i, dict) and str(i.get("id")) == item_id for i in listed)


def _aggregate_name(body: bytes) -> str:
    try:
        document = jsonfast.loads(body)
        return str(document["aggregate"]["name"])
    except (ValueError, KeyError, TypeError):
        return "?"


def _sets_zone(document: object) -> bool:
    """Whether an aggregate's update (`aggregate`) or `set_metadata` action sets its zone."""
    if not isinstance(document, dict):
        return False
    changes = [document.get("aggregate"), (document.get("set_metadata") or {}).get("metadata")]
    return any(isinstance(one, dict) and one.get("availability_zone") is not None for one in changes)


AUDIT_COUNTS = (
    "num_hosts",
    "num_hosts_done",
    "num_hosts_running",
    "num_hosts_not_run",
    "total_instances",
    "total_errors",
)


def routes(gw: Gateway) -> list[Route]:
    async def audit_log(request: GatewayRequest) -> Reply:
        """Nova's instance usage audit of the last completed period (or the one before a time), over
        every up pod that answered (the others named in `Atoll-Partial-Pods`)."""
        asked = await ask_up_pods(gw, request)
        if asked.refusal is not None:
            return asked.refusal
        if not asked.documents:
            return asked.first_failure(gw, request)
        key = "instance_usage_audit_log" if "before_timestamp" in request.params else "instance_usage_audit_logs"
        logs = [
            (pod.name, document[key])
            for pod, _reply, document in asked.documents
            if isinstance(document.get(key), dict)
        ]
        return json_reply(200, {key: merged_audit(logs)}, asked.partial)

    async def statistics(request: GatewayRequest) -> Reply:
        """Summed over the up pods that answered (the others named in `Atoll-Partial-Pods`); a pod's
        refusal or error (e.g. 404 from 2.88) is the answer."""
        asked = await ask_up_pods(gw, request)
        if asked.refusal is not None:
            return asked.refusal
        if not asked.documents:
            return asked.first_failure(gw, request)
        found = [document.get("hypervisor_statistics") for _pod, _reply, document in asked.documents]
        total = summed([one for one in found if isinstance(one, dict)])
        return json_reply(200, {"hypervisor_statistics": total}, asked.partial)

    async def new_aggregate(request: GatewayRequest) -> Reply:
        regions = ", ".join(p.name for p in (await gw.pods()).bottoms if p.has(request.service.name))
        raise Conflict(
            "A host aggregate groups one pod's hosts: create it in that pod's own region "
            f"({regions}); through Atoll aggregates are listed and changed."
        )

    async def aggregate(request: GatewayRequest) -> Reply:
        """An aggregate's call, in the one pod that has an aggregate of that id. Every up pod is asked
        for it first (at once): ids are each pod's own integers, so an id two pods have is a 409
        naming both, not a call on whichever comes first. A call that would move its hosts to
        another zone is refused: a pod's hosts are in the pod's own zone, which is its Atoll AZ."""
        if request.method in ("PUT", "POST") and _sets_zone(await request.json()):
            raise Conflict(
                "An aggregate's availability zone cannot be set through Atoll: a pod's hosts are all in "
                "the pod's AZ. Set it in the pod's own region if the pod's zones are to change."
            )
        aggregate_id = request.params["aggregate_id"]
        pods = await up_pods(gw, request)
        path = f"/os-aggregates/{aggregate_id}"
        answers = await ask_each(gw, request, pods, method="GET", path=path, query=[])
        found = [(pod, a) for pod, a in zip(pods, answers, strict=True) if not isinstance(a, AtollError)]
        having = [(pod, a) for pod, a in found if a.status == 200]
        if len(having) > 1:
            names = ", ".join(f"{pod.name} ({_aggregate_name(answer.body)})" for pod, answer in having)
            raise Conflict(
                f"Aggregate {aggregate_id} is an id in more than one pod: {names}. Aggregate ids are each "
                "pod's own; call it in its pod's own region."
            )
        if not having:  # no pod has it (404), or the pods' refusal or failure (403, 5xx): theirs
            if found:
                return gw.forwarder.relay(request, *min(found, key=lambda f: f[1].status == 404))
            raise next(a for a in answers if isinstance(a, AtollError))
        pod, shown = having[0]
        response = shown if request.method == "GET" else await gw.forwarder.send(request, pod)
        return AGGREGATE_AZ(gw.forwarder.relay(request, pod, response), pod)

    by_id = first_found(gw, unique=True)
    hypervisors = concatenated(gw, "hypervisors", paging=Paging("id", "hypervisors_links", (2, 33)))
    in_its_pod = first_found(gw, service_zones)

    async def service(request: GatewayRequest) -> Reply:
        """A compute service's update or delete in its pod. Before 2.53 its id is each pod's own
        integer: a delete by one is sent to the pod that lists it, and is a 409 when two pods do."""
        service_id = request.params["service_id"]
        if request.method == "DELETE" and service_id.isdigit():
            asked = await ask_up_pods(gw, request, method="GET", path="/os-services", query=[])
            if asked.refusal is not None:
                return asked.refusal
            having = [pod for pod, _reply, document in asked.documents if _lists_id(document, "services", service_id)]
            if len(having) > 1:
                raise ambiguous(service_id, [pod.name for pod in having])
            if having:
                return service_zones(await gw.forwarder.forward(request, having[0]), having[0])
        reply: Reply = await in_its_pod(request)
        return reply

    return [
        Route(READ, "/os-hypervisors", hypervisors),
        Route(READ, "/os-hypervisors/detail", hypervisors),
        Route(READ, "/os-hypervisors/statistics", statistics),
        Route(READ, "/os-hypervisors/{hypervisor_id}", by_id),
        Route(READ, "/os-hypervisors/{hypervisor_id}/{rest:path}", by_id),
        Route(READ, "/os-services", concatenated(gw, "services", service_zones)),
        Route(("PUT", "DELETE"), "/os-services/{service_id}", service),
        Route(READ, "/os-aggregates", concatenated(gw, "aggregates", AGGREGATE_AZ)),
        Route("POST", "/os-aggregates", new_aggregate),
        Route(("GET", "PUT", "DELETE"), "/os-aggregates/{aggregate_id}", aggregate),
        Route("POST", "/os-aggregates/{aggregate_id}/action", aggregate),
        Route("POST", "/os-aggregates/{aggregate_id}/images", aggregate),
        # Hosts (deprecated, gone from 2.43): every pod's, a host's show, update and power actions in its pod.
        Route(READ, "/os-hosts", concatenated(gw, "hosts", service_zones)),
        Route(READ, "/os-hosts/{host_name}", by_id),
        Route("PUT", "/os-hosts/{host_name}", by_id),
        Route(READ, "/os-hosts/{host_name}/{action}", by_id),
        # Every pod's migrations one pod after the other (a migration stays in its server's pod);
        # from 2.59 paged by `limit` and `marker` (a migration's uuid) over the chain.
        Route(READ, "/os-migrations", concatenated(gw, "migrations", paging=MIGRATIONS)),
        Route(READ, "/os-instance_usage_audit_log", audit_log),
        Route(READ, "/os-instance_usage_audit_log/{before_timestamp}", audit_log),
        # A console's token is known to the pod of its server only.
        Route(READ, "/os-console-auth-tokens/{console_token}", by_id),
    ]
