from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from atoll.pods.health import MAX_BODY, Health, probe
from atoll.types import PodStatus
from tests.unit.pods.versions_docs import BY_SERVICE, CINDER, GLANCE, NEUTRON, NOVA, ROOT_STATUS

ENDPOINTS = {
    "compute": "http://nova.pod1:8774/v2.1",
    "network": "http://neutron.pod1:9696",
    "volumev3": "http://cinder.pod1:8776/v3/0123456789abcdef0123456789abcdef",
}
DOCS = {"nova.pod1": ("compute", NOVA), "neutron.pod1": ("network", NEUTRON), "cinder.pod1": ("volumev3", CINDER)}


def _client(failures: dict[str, Exception | int | tuple[int, Any]], seen: list[str] | None = None) -> httpx.AsyncClient:
    """Every host serves its service's version document at its root unless `failures` names it."""

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(str(request.url))
        failure = failures.get(request.url.host)
        if isinstance(failure, Exception):
            raise failure
        if isinstance(failure, int):
            return httpx.Response(failure, json={"error": "nope"})
        if isinstance(failure, tuple):
            return httpx.Response(failure[0], json=failure[1])
        service, document = DOCS[request.url.host]
        if request.url.path != "/":
            return httpx.Response(404)
        return httpx.Response(ROOT_STATUS[service], json=document)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def _probe(client: httpx.AsyncClient, endpoints: dict[str, str], timeout: float) -> Health:
    """`probe` with a client of its own, closed afterwards."""
    async with client:
        return await probe(client, endpoints, timeout)


async def test_up_when_every_service_answers_as_itself() -> None:
    seen: list[str] = []
    assert await _probe(_client({}, seen), ENDPOINTS, 5.0) == Health(PodStatus.UP, "", True)
    # One GET per service, at its root: version and project id dropped from the catalog URL.
    assert sorted(seen) == ["http://cinder.pod1:8776/", "http://neutron.pod1:9696/", "http://nova.pod1:8774/"]


@pytest.mark.parametrize(
    ("failure", "why"),
    [
        (httpx.ConnectError("Connection refused"), "network: unreachable (ConnectError)"),
        (503, "network: HTTP 503"),
        (500, "network: HTTP 500"),
        (httpx.ReadTimeout("timed out"), "network: no answer within 2.5s"),
        (httpx.ConnectTimeout("timed out"), "network: no answer within 2.5s"),
    ],
)
async def test_down_names_the_failing_service(failure: Exception | int, why: str) -> None:
    health = await _probe(_client({"neutron.pod1": failure}), ENDPOINTS, 2.5)
    assert health == Health(PodStatus.DOWN, why, True)


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (404, "answered HTTP 404 without network's version document"),
        (401, "answered HTTP 401 without network's version document"),
        ((200, {"hello": "world"}), "answered HTTP 200 without network's version document"),
        ((200, NOVA), "serves compute's version document, not network's"),
        ((300, GLANCE), "serves image's version document, not network's"),
        ((300, CINDER), "serves volumev3's version document, not network's"),
    ],
)
async def test_a_wrong_endpoint_is_reported_as_misconfigured(answer: int | tuple[int, Any], why: str) -> None:
    health = await _probe(_client({"neutron.pod1": answer}), ENDPOINTS, 1)
    assert health == Health(PodStatus.DOWN, f"network: misconfigured endpoint: http://neutron.pod1:9696/ {why}", True)


async def test_an_answer_that_is_not_json_is_no_version_document() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>It works!</html>")

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    health = await _probe(client, {"image": "http://web/image"}, 1)
    assert (
        health.reason
        == "image: misconfigured endpoint: http://web/image/ answered HTTP 200 without image's version document"
    )
    assert (health.status, health.answered) == (PodStatus.DOWN, False)


async def test_a_huge_answer_is_read_no_further_than_max_body() -> None:
    read: list[int] = []

    async def stream() -> Any:
        for _ in range(100):
            read.append(1)
            yield b" " * 16384

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=stream())

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    health = await _probe(client, {"compute": "http://big/v2.1"}, 1)
    assert "misconfigured endpoint" in health.reason
    assert len(read) * 16384 <= MAX_BODY + 16384


async def test_every_failure_is_named_and_nothing_answered() -> None:
    refused = httpx.ConnectError("refused")
    failures: dict[str, Exception | int | tuple[int, Any]] = {
        "nova.pod1": refused,
        "neutron.pod1": 502,
        "cinder.pod1": refused,
    }
    health = await _probe(_client(failures), ENDPOINTS, 1)
    assert health.status == PodStatus.DOWN
    assert (
        health.reason == "compute: unreachable (ConnectError); network: HTTP 502; volumev3: unreachable (ConnectError)"
    )
    assert health.answered is False


async def test_no_endpoints_is_down() -> None:
    health = await _probe(_client({}), {}, 1)
    assert health.status == PodStatus.DOWN
    assert "no endpoints" in health.reason
    assert health.answered is False


async def test_the_timeout_is_passed_to_each_request() -> None:
    seen: list[object] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json=NOVA)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    await _probe(client, {"compute": "http://nova"}, 3.0)
    assert seen == [{"connect": 3.0, "read": 3.0, "write": 3.0, "pool": 3.0}]


@pytest.mark.parametrize("service", sorted(BY_SERVICE))
async def test_each_service_is_recognised_by_its_own_document_only(service: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=json.dumps(BY_SERVICE[request.url.host]).encode())

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        for other, document in BY_SERVICE.items():
            same = BY_SERVICE[other] is BY_SERVICE[service]
            health = await probe(client, {service: f"http://{other}/"}, 1)
            assert (health.status == PodStatus.UP) is same, (service, other, document, health)
