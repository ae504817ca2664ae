"""Calling several pods at once: writes to every pod (global resources, until the sync jobs
take them over), reads of one up pod, a read asked of every up pod (`ask_up_pods`, whose
answers the caller adds up or puts together, as `concatenated` does with lists), and a
call on an item no routing places, found in the pods (`first_found`)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, cast

from atoll.core import jsonfast
from atoll.core.errors import AtollError, Conflict, NotFound, ServiceUnavailable
from atoll.gateway.deps import Gateway
from atoll.gateway.http import GatewayRequest, Headers, Reply
from atoll.pods.client import PodResponse
from atoll.pods.errors import NotJson
from atoll.pods.info import PodInfo

LOG = logging.getLogger(__name__)

PARTIAL_HEADER = b"atoll-partial-pods"


def partial_header(names: Iterable[str]) -> Headers:
    """`Atoll-Partial-Pods` naming the pods left out of an answer (no header when none was)."""
    text = ",".join(names)
    return [(PARTIAL_HEADER, text.encode())] if text else []


async def up_pods(gw: Gateway, request: GatewayRequest) -> list[PodInfo]:
    pods = [p for p in (await gw.pods()).bottoms if p.is_up and p.has(request.service.name)]
    if not pods:
        raise ServiceUnavailable(f"No pod with a {request.service.name} service is available now. Try again later.")
    return pods


Answer = PodResponse | AtollError
"""A pod's answer to a call, or the Atoll error that says why it gave none."""


async def ask_each(gw: Gateway, request: GatewayRequest, pods: list[PodInfo], **variant: Any) -> list[Answer]:
    """The request (or a variant of it, `Forwarder.send`'s) sent to every pod at once: each pod's answer,
    in pod order. Any other exception is Atoll's own, and raised."""
    return await gathered(gw.forwarder.send(request, p, **variant) for p in pods)


async def gathered(calls: Iterable[Awaitable[PodResponse]]) -> list[Answer]:
    """Pod calls made at once: each one's answer, in order, or the Atoll error that says why it gave
    none. Any other exception is Atoll's own, and raised."""
    answers = await asyncio.gather(*calls, return_exceptions=True)
    for answer in answers:
        if isinstance(answer, BaseException) and not isinstance(answer, AtollError):
            raise answer
    return cast(list[Answer], answers)  # every other exception was raised


def _failure(gw: Gateway, request: GatewayRequest, pod: PodInfo, failure: Answer) -> Reply:
    """A pod's failure as the answer: its 5xx relayed, or the error that says why it gave none, raised."""
    if isinstance(failure, AtollError):
        raise failure
    return gw.forwarder.relay(request, pod, failure)


async def one_pod(gw: Gateway, request: GatewayRequest) -> Reply:
    """A read of something every pod has alike, from the first pod that is up."""
    pod = (await up_pods(gw, request))[0]
    return await gw.forwarder.forward(request, pod)


async def every_pod(gw: Gateway, request: GatewayRequest, body: bytes | None = None) -> tuple[Reply, PodResponse]:
    """A write to every up pod: the first one's answer decides; if it succeeds the others follow,
    concurrently. A pod that is down or fails is logged and misses the change. Returns the first
    pod's reply and raw response."""
    written = await every_pod_missed(gw, request, body)
    return written.reply, written.response


@dataclasses.dataclass(frozen=True)
class Written:
    reply: Reply
    response: PodResponse
    """The first pod's answer, which decided."""
    first: PodInfo
    missed: list[PodInfo]
    """Pods with the service that did not get the change: down, unreachable or refusing it
    (empty when the first pod refused it: then nobody has it)."""


async def every_pod_missed(gw: Gateway, request: GatewayRequest, body: bytes | None = None) -> Written:
    """`every_pod`, saying which pods missed the change (for a job that catches them up)."""
    first, *others = await up_pods(gw, request)
    down = [p for p in (await gw.pods()).bottoms if not p.is_up and p.has(request.service.name)]
    if body is None and request.method in ("POST", "PUT", "PATCH"):
        body = await request.body()
    response = await gw.forwarder.send(request, first, body=body)
    missed: list[PodInfo] = []
    if response.status < 300:
        missed = list(down)
        if others:
            results = await ask_each(gw, request, others, body=body)
            log_failures(request, others, results)
            missed += [p for p, r in zip(others, results, strict=True) if failed(r)]
    return Written(gw.forwarder.relay(request, first, response), response, first, missed)


def failed(result: object) -> bool:
    """A pod that did not answer a call, or answered it with a 5xx (it did not take a write, it has
    nothing to add to a read)."""
    return not isinstance(result, PodResponse) or result.status >= 500


def log_failures(request: GatewayRequest, pods: Sequence[PodInfo], results: Sequence[Answer]) -> None:
    for pod, result in zip(pods, results, strict=True):
        if isinstance(result, AtollError):
            LOG.warning("%s %s did not reach pod %s: %s", request.method, request.path, pod.name, result.message)
        elif result.status >= 300:
            LOG.warning("%s %s: pod %s answered %s", request.method, request.path, pod.name, result.status)


Adjust = Callable[[Reply, PodInfo], Reply]


def unchanged(reply: Reply, _pod: PodInfo) -> Reply:
    return reply


@dataclasses.dataclass(frozen=True)
class Asked:
    """Every up pod's answer to one read (`ask_up_pods`), sorted out."""

    documents: list[tuple[PodInfo, Reply, dict[str, Any]]]
    """The pods that answered 200 with a JSON object, in pod order: the reply relayed (and adjusted)
    and its document."""
    refusal: Reply | None
    """The first pod's refusal of the caller (another 2xx-4xx answer), relayed: the answer to the call."""
    unavailable: list[tuple[PodInfo, Answer]]
    """The pods that did not answer, answered a 5xx, or answered 200 with something that is not a
    JSON object (a proxy's error page): what they would add is left out."""

    @property
    def partial(self) -> Headers:
        """`Atoll-Partial-Pods` naming the unavailable pods (none when every pod answered)."""
        return partial_header(pod.name for pod, _ in self.unavailable)

    def first_failure(self, gw: Gateway, request: GatewayRequest) -> Reply:
        """The answer when no pod answered: the first unavailable pod's 5xx relayed, or its error raised."""
        assert self.unavailable, "a pod answered"
        pod, failure = self.unavailable[0]
        if isinstance(failure, PodResponse) and failure.status < 500:  # a 200 that is not a JSON object
            raise NotJson(f"A pod answered {failure.status} with a body that is not a JSON object. Try again later.")
        return _failure(gw, request, pod, failure)


async def ask_up_pods(
    gw: Gateway, request: GatewayRequest, *, adjust: Adjust = unchanged, accepted: int = 200, **variant: Any
) -> Asked:
    """The request (or a variant of it, `Forwarder.send`'s: another path, a timeout...) sent to every
    up pod at once, each answer relayed, adjusted and read as JSON. `accepted`: the status of an
    answer to put together (202 for a call the pods take on to do later); any other 2xx-4xx refuses."""
    pods = await up_pods(gw, request)
    answers = await ask_each(gw, request, pods, **variant)
    documents: list[tuple[PodInfo, Reply, dict[str, Any]]] = []
    refusal: Reply | None = None
    unavailable: list[tuple[PodInfo, Answer]] = []
    for pod, answer in zip(pods, answers, strict=True):
        if isinstance(answer, AtollError) or answer.status >= 500:
            LOG.warning("%s %s: pod %s left out: %s", request.method, request.path, pod.name, unanswered(answer))
            unavailable.append((pod, answer))
            continue
        if answer.status != accepted:
            refusal = refusal or gw.forwarder.relay(request, pod, answer)
            continue
        try:
            reply = adjust(gw.forwarder.relay(request, pod, answer), pod)
            document = jsonfast.loads(reply.body) if isinstance(reply.body, bytes) else None
        except ValueError:
            document = None
        if not isinstance(document, dict):
            LOG.warning("%s %s: pod %s left out: not a JSON object", request.method, request.path, pod.name)
            unavailable.append((pod, answer))
            continue
        documents.append((pod, reply, document))
    return Asked(documents, refusal, unavailable)


def unanswered(answer: Answer) -> str:
    """Why a pod gave no usable answer: the error that stopped the call, or its 5xx status."""
    return answer.message if isinstance(answer, AtollError) else f"answered {answer.status}"


def first_found(gw: Gateway, adjust: Adjust = unchanged, *, unique: bool = False) -> Callable[[GatewayRequest], Any]:
    """A handler of a call on an item without a routing: the first up pod (in pod order) that does
    not answer 404, its answer adjusted; else a pod's 404.

    A read is asked of every up pod at once, so it costs one round trip whatever the number of
    pods; a pod that does not answer it or answers a 5xx is passed over, and decides only when no
    pod has the item (its error, rather than a 404 that may not be true). `unique`: the id is each
    pod's own name for its own item (a host, a cluster, a hypervisor's integer id before compute
    microversion 2.53), so one that two pods show is a 409 naming them, not the first pod's item.
    A write goes to one pod after the other and stops at the first that knows the item."""

    async def read(request: GatewayRequest, pods: list[PodInfo]) -> Reply:
        missing: Reply | None = None
        failure: tuple[PodInfo, Answer] | None = None
        shown: list[tuple[PodInfo, PodResponse]] = []
        for pod, answer in zip(pods, await ask_each(gw, request, pods), strict=True):
            if isinstance(answer, AtollError) or answer.status >= 500:
                failure = failure or (pod, answer)
            elif answer.status != 404:
                shown.append((pod, answer))
            else:
                missing = missing or adjust(gw.forwarder.relay(request, pod, answer), pod)
        having = [pod.name for pod, answer in shown if answer.status == 200]
        if unique and len(having) > 1:
            raise ambiguous(_named(request), having)
        if shown:
            return adjust(gw.forwarder.relay(request, *shown[0]), shown[0][0])
        if failure is not None:
            return _failure(gw, request, *failure)
        assert missing is not None
        return missing

    async def handle(request: GatewayRequest) -> Reply:
        pods = await up_pods(gw, request)
        if request.method in ("GET", "HEAD"):
            return await read(request, pods)
        if unique:  # only the pod whose item it is, asked for first (the name may be another pod's too)
            shown = await ask_each(gw, request, pods, method="GET", query=[])
            having = [p for p, a in zip(pods, shown, strict=True) if isinstance(a, PodResponse) and a.status == 200]
            if len(having) > 1:
                raise ambiguous(_named(request), [pod.name for pod in having])
            pods = having or pods
        last: Reply | None = None
        for pod in pods:
            response = await gw.forwarder.send(request, pod)
            last = adjust(gw.forwarder.relay(request, pod, response), pod)
            if response.status != 404:
                return last
        if last is None:
            raise NotFound("The resource could not be found.")
        return last

    return handle


def _named(request: GatewayRequest) -> str:
    """The id or name a call on one item names (its route's first parameter)."""
    return next(iter(request.params.values()), request.path)


def ambiguous(name: str, pods: Sequence[str]) -> Conflict:
    """The error for a name (an id, a host) that several pods each give to an item of their own."""
    return Conflict(
        f"{name!r} names an item in more than one pod ({', '.join(pods)}): each pod's own item. Call it in "
        "its pod's own region."
    )


def first_accepting(gw: Gateway, adjust: Adjust = unchanged) -> Callable[[GatewayRequest], Any]:
    """A handler of a call meant for the one pod that has some host (an operator's enable, disable,
    freeze of a service host): sent to every up pod at once, the first (in pod order) that accepts
    it answers; when none does, the first pod's refusal."""

    async def handle(request: GatewayRequest) -> Reply:
        pods = await up_pods(gw, request)
        replies = []
        for pod, answer in zip(pods, await ask_each(gw, request, pods), strict=True):
            if isinstance(answer, AtollError):
                continue
            reply = adjust(gw.forwarder.relay(request, pod, answer), pod)
            if answer.status < 300:
                return reply
            replies.append(reply)
        if not replies:
            raise ServiceUnavailable(f"No pod with a {request.service.name} service answered. Try again later.")
        return replies[0]

    return handle
