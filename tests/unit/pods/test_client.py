from __future__ import annotations

import hashlib
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from atoll.pods.client import AiohttpPodClient, PodClient, PodLimits
from atoll.pods.errors import PodTimeout, PodUnreachable
from atoll.pods.h1 import H1PodClient
from atoll.types import RequestId
from tests.unit.pods.fakepod import FakePod, hang, serve

REQ = RequestId("req-11111111-2222-4333-8444-555555555555")


@pytest.fixture(params=[H1PodClient, AiohttpPodClient])
async def client(request: pytest.FixtureRequest) -> AsyncIterator[PodClient]:
    """Both clients answer the same: `H1PodClient` (the default) and the aiohttp one its streams use."""
    pod_client = request.param("Pod1", PodLimits(timeout=0.5, connect_timeout=0.5, read_timeout=0.5))
    yield pod_client
    await pod_client.close()


async def test_request_sends_token_request_id_and_json(client: PodClient) -> None:
    pod = FakePod()

    async def echo(request: web.Request) -> web.StreamResponse:
        return web.json_response({"got": await request.json()}, status=202, headers={"Location": "http://x/1"})

    pod.route("POST", "/v2.1/servers", echo)
    async with serve(pod):
        response = await client.request(
            "POST",
            pod.url + "/v2.1/servers",
            token="tok-1",
            request_id=REQ,
            headers={"OpenStack-API-Version": "compute 2.37"},
            params=[("a", "1"), ("a", "2")],
            json_body={"server": {"name": "vm"}},
        )
    assert response.status == 202
    assert response.json() == {"got": {"server": {"name": "vm"}}}
    assert response.headers["Location"] == "http://x/1"
    [seen] = pod.seen
    assert seen["headers"]["X-Auth-Token"] == "tok-1"
    assert seen["headers"]["X-OpenStack-Request-ID"] == REQ
    assert seen["headers"]["OpenStack-API-Version"] == "compute 2.37"
    assert seen["headers"]["Content-Type"] == "application/json"
    assert seen["query"] == "a=1&a=2"


async def test_no_token_no_auth_header(client: PodClient) -> None:
    pod = FakePod()
    pod.json("GET", "/", {"versions": []}, status=300)
    async with serve(pod):
        response = await client.request("GET", pod.url + "/", token=None)
    assert response.status == 300
    assert "X-Auth-Token" not in pod.seen[0]["headers"]
    assert "X-OpenStack-Request-ID" not in pod.seen[0]["headers"]


async def test_error_statuses_are_answers_not_exceptions(client: PodClient) -> None:
    pod = FakePod()
    pod.json("GET", "/v2.1/servers/x", {"itemNotFound": {"code": 404, "message": "nope"}}, status=404)
    async with serve(pod):
        response = await client.request("GET", pod.url + "/v2.1/servers/x", token="t")
    assert response.status == 404
    assert response.json()["itemNotFound"]["message"] == "nope"


async def test_timeout_names_the_pod_not_its_url(client: PodClient) -> None:
    pod = FakePod()
    pod.route("GET", "/slow", hang)
    async with serve(pod):
        with pytest.raises(PodTimeout) as caught:
            await client.request("GET", pod.url + "/slow", token="secret-token")
    assert caught.value.status == 503
    assert caught.value.pod == "Pod1"
    assert caught.value.message == "Pod Pod1 did not answer within 0.5 s."


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_refused_connection_is_pod_unreachable(client: PodClient) -> None:
    with pytest.raises(PodUnreachable) as caught:
        await client.request("GET", f"http://127.0.0.1:{_closed_port()}/", token="secret-token")
    assert caught.value.message.startswith("Pod Pod1 could not be reached (")
    assert "127.0.0.1" not in caught.value.message
    assert "secret-token" not in caught.value.message


async def test_stream_both_ways_in_chunks(client: PodClient) -> None:
    size = 5 * 1024 * 1024 + 3
    pod = FakePod()
    received: dict[str, object] = {}

    async def upload(request: web.Request) -> web.StreamResponse:
        digest = hashlib.sha256()
        chunks = 0
        async for chunk in request.content.iter_any():
            digest.update(chunk)
            chunks += 1
        received.update(sha=digest.hexdigest(), chunks=chunks, te=request.headers.get("Transfer-Encoding"))
        return web.Response(status=204)

    async def download(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await response.prepare(request)
        for _ in range(size // 65536):
            await response.write(b"x" * 65536)
        await response.write(b"x" * (size % 65536))
        return response

    pod.route("PUT", "/v2/images/i/file", upload)
    pod.route("GET", "/v2/images/i/file", download)

    async def source() -> AsyncIterator[bytes]:
        for _ in range(size // 65536):
            yield b"y" * 65536
        yield b"y" * (size % 65536)

    async with serve(pod):
        async with client.stream(
            "PUT",
            pod.url + "/v2/images/i/file",
            token="t",
            headers={"Content-Type": "application/octet-stream"},
            body=source(),
        ) as put:
            assert put.status == 204
        largest = 0
        digest = hashlib.sha256()
        async with client.stream("GET", pod.url + "/v2/images/i/file", token="t") as got:
            assert got.status == 200
            assert got.headers["Content-Type"] == "application/octet-stream"
            async for chunk in got.iter_chunks():
                largest = max(largest, len(chunk))
                digest.update(chunk)
    assert received["sha"] == hashlib.sha256(b"y" * size).hexdigest()
    assert received["te"] == "chunked"
    assert digest.hexdigest() == hashlib.sha256(b"x" * size).hexdigest()
    assert largest <= AiohttpPodClient.CHUNK


async def test_one_session_per_client_reused() -> None:
    client = AiohttpPodClient("Pod1", PodLimits())
    pod = FakePod()
    pod.json("GET", "/", {})
    async with serve(pod):
        await client.request("GET", pod.url + "/", token=None)
        first = client._session
        await client.request("GET", pod.url + "/", token=None)
        assert client._session is first
    await client.close()
    assert client._session is None
