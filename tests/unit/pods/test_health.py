from __future__ import annotations

import httpx
import pytest

from atoll.pods.health import Health, probe
from atoll.types import PodStatus

ENDPOINTS = {
    "compute": "http://nova.pod1:8774/v2.1",
    "network": "http://neutron.pod1:9696",
    "volumev3": "http://cinder.pod1:8776/v3",
}


def _client(failures: dict[str, Exception | int]) -> httpx.AsyncClient:
    """Every host answers 200 (compute 401, as an API root may) unless `failures` names it."""

    def handler(request: httpx.Request) -> httpx.Response:
        failure = failures.get(request.url.host)
        if isinstance(failure, Exception):
            raise failure
        if isinstance(failure, int):
            return httpx.Response(failure)
        return httpx.Response(401 if request.url.host == "nova.pod1" else 200)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_up_when_every_service_answers() -> None:
    assert await probe(_client({}), ENDPOINTS, 5.0) == Health(PodStatus.UP, "", True)


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
    health = await probe(_client({"neutron.pod1": failure}), ENDPOINTS, 2.5)
    assert health == Health(PodStatus.DOWN, why, True)


async def test_every_failure_is_named_and_nothing_answered() -> None:
    refused = httpx.ConnectError("refused")
    failures: dict[str, Exception | int] = {"nova.pod1": refused, "neutron.pod1": 502, "cinder.pod1": refused}
    health = await probe(_client(failures), ENDPOINTS, 1)
    assert health.status == PodStatus.DOWN
    assert (
        health.reason == "compute: unreachable (ConnectError); network: HTTP 502; volumev3: unreachable (ConnectError)"
    )
    assert health.answered is False


async def test_no_endpoints_is_down() -> None:
    health = await probe(_client({}), {}, 1)
    assert health.status == PodStatus.DOWN
    assert "no endpoints" in health.reason
    assert health.answered is False


async def test_the_timeout_is_passed_to_each_request() -> None:
    seen: list[object] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    await probe(client, {"compute": "http://nova"}, 3.0)
    assert seen == [{"connect": 3.0, "read": 3.0, "write": 3.0, "pool": 3.0}]
