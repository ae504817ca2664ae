"""`H1PodClient` against a raw HTTP/1.1 server on loopback, for what a fake aiohttp pod cannot do:
count connections, close them at awkward moments, answer with chunks, no length, 100 Continue."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from atoll.pods.client import AiohttpPodClient, PodClient, PodLimits
from atoll.pods.errors import PodTimeout, PodUnreachable
from atoll.pods.h1 import H1PodClient, InvalidHeader

Answer = Callable[[int, bytes, asyncio.StreamWriter], Awaitable[bool]]
"""(index of the request on its connection, request head, writer) -> keep the connection open?"""


def ok(body: bytes = b'{"a": 1}', extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s" % (
        len(body),
        extra,
        body,
    )


class RawServer:
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.heads: list[bytes] = []
        self.bodies: list[bytes] = []
        self.url = ""

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        index = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                self.heads.append(head)
                self.bodies.append(await reader.readexactly(length))
                keep = await self.answer(index, head, writer)
                await writer.drain()
                index += 1
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[RawServer]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        async with server:
            yield self
            server.close()


@pytest.fixture
async def client() -> AsyncIterator[H1PodClient]:
    pod_client = H1PodClient("Pod1", PodLimits(timeout=0.5, connect_timeout=0.5))
    yield pod_client
    await pod_client.close()


async def always_ok(_index: int, _head: bytes, writer: asyncio.StreamWriter) -> bool:
    writer.write(ok())
    return True


async def test_keeps_one_connection_alive_across_calls(client: H1PodClient) -> None:
    async with RawServer(always_ok).running() as server:
        for _ in range(5):
            response = await client.request("GET", server.url + "/v2.1/servers", token="t")
            assert (response.status, response.json()) == (200, {"a": 1})
    assert server.connections == 1


async def test_calls_at_once_open_their_own_connections_up_to_the_limit() -> None:
    client = H1PodClient("Pod1", PodLimits(timeout=2, connections=3))

    async def slow(_index: int, _head: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(0.05)
        writer.write(ok())
        return True

    async with RawServer(slow).running() as server:
        answers = await asyncio.gather(*(client.request("GET", server.url + "/", token=None) for _ in range(9)))
    await client.close()
    assert [a.status for a in answers] == [200] * 9
    assert server.connections == 3


async def test_a_connection_the_pod_closed_while_idle_is_not_used(client: H1PodClient) -> None:
    async def once(_index: int, _head: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(ok())  # keep-alive by its headers, yet closed right after (a pod's idle timeout)
        return False

    async with RawServer(once).running() as server:
        await client.request("GET", server.url + "/", token=None)
        await asyncio.sleep(0.05)
        response = await client.request("GET", server.url + "/", token=None)
    assert response.status == 200
    assert server.connections == 2


def closing_on_reuse(index: int) -> bool:
    return index > 0


async def test_an_idempotent_call_on_a_connection_closed_under_it_is_sent_once_more(client: H1PodClient) -> None:
    async def second_unanswered(index: int, _head: bytes, writer: asyncio.StreamWriter) -> bool:
        if closing_on_reuse(index):
            return False  # closed without a word: the race with a pod's idle timeout
        writer.write(ok())
        return True

    async with RawServer(second_unanswered).running() as server:
        await client.request("GET", server.url + "/", token=None)
        response = await client.request("DELETE", server.url + "/v2.1/servers/x", token=None)
    assert response.status == 200
    assert server.connections == 2
    assert [head.split(b" ")[0] for head in server.heads] == [b"GET", b"DELETE", b"DELETE"]


async def test_a_post_on_a_connection_closed_under_it_is_not_sent_twice(client: H1PodClient) -> None:
    async def second_unanswered(index: int, _head: bytes, writer: asyncio.StreamWriter) -> bool:
        if closing_on_reuse(index):
            return False
        writer.write(ok())
        return True

    async with RawServer(second_unanswered).running() as server:
        await client.request("GET", server.url + "/", token=None)
        with pytest.raises(PodUnreachable) as caught:
            await client.request("POST", server.url + "/v2.1/servers", token=None, json_body={"server": {}})
    assert caught.value.message == "Pod Pod1 could not be reached (ConnectionLost)."
    assert [head.split(b" ")[0] for head in server.heads] == [b"GET", b"POST"]


async def test_a_fresh_connection_closed_unanswered_is_unreachable_not_retried(client: H1PodClient) -> None:
    async def never(_index: int, _head: bytes, _writer: asyncio.StreamWriter) -> bool:
        return False

    async with RawServer(never).running() as server:
        with pytest.raises(PodUnreachable):
            await client.request("GET", server.url + "/", token=None)
    assert server.connections == 1


async def test_chunked_and_until_close_bodies(client: H1PodClient) -> None:
    async def chunked(index: int, _head: bytes, writer: asyncio.StreamWriter) -> bool:
        if index == 0:
            chunks = b'4\r\n{"a"\r\n3\r\n: 2\r\n1\r\n}\r\n0\r\n\r\n'
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks)
            return True
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b'{"b": 3}')
        return False

    async with RawServer(chunked).running() as server:
        first = await client.request("GET", server.url + "/", token=None)
        second = await client.request("GET", server.url + "/", token=None)
    assert first.json() == {"a": 2}
    assert "Transfer-Encoding" in first.headers
    assert second.json() == {"b": 3}
    assert server.connections == 1


async def test_head_answer_has_no_body_whatever_its_length(client: H1PodClient) -> None:
    async def answer(_index: int, head: bytes, writer: asyncio.StreamWriter) -> bool:
        if head.startswith(b"HEAD"):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nX-Image-Meta-Size: 1234\r\n\r\n")
        else:
            writer.write(ok())
        return True

    async with RawServer(answer).running() as server:
        head = await client.request("HEAD", server.url + "/v1/images/x", token=None)
        after = await client.request("GET", server.url + "/", token=None)
    assert (head.status, head.body, head.headers["X-Image-Meta-Size"]) == (200, b"", "1234")
    assert after.json() == {"a": 1}


async def test_informational_answer_is_skipped(client: H1PodClient) -> None:
    async def continued(_index: int, _head: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b'{"c": 1}'))
        return True

    async with RawServer(continued).running() as server:
        response = await client.request("PUT", server.url + "/x", token=None, body=b"abc")
    assert (response.status, response.json()) == (200, {"c": 1})
    assert server.bodies == [b"abc"]


async def test_a_timed_out_connection_is_never_reused(client: H1PodClient) -> None:
    calls = []

    async def first_hangs(_index: int, _head: bytes, writer: asyncio.StreamWriter) -> bool:
        calls.append(1)
        first = len(calls) == 1
        if first:
            await asyncio.sleep(1.0)
        writer.write(ok(b'{"late": true}' if first else b'{"a": 1}'))
        return True

    async with RawServer(first_hangs).running() as server:
        with pytest.raises(PodTimeout):
            await client.request("GET", server.url + "/", token=None)
        response = await client.request("GET", server.url + "/", token=None)
    assert response.json() == {"a": 1}  # not the late answer to the first call
    assert server.connections == 2


async def test_an_invalid_answer_is_unreachable(client: H1PodClient) -> None:
    async def garbage(_index: int, _head: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 2xx Fine\r\n\r\n")
        return True

    async with RawServer(garbage).running() as server:
        with pytest.raises(PodUnreachable):
            await client.request("GET", server.url + "/", token=None)


async def test_a_header_that_would_split_the_request_is_refused(client: H1PodClient) -> None:
    async with RawServer(always_ok).running() as server:
        with pytest.raises(InvalidHeader):
            await client.request("GET", server.url + "/", token=None, headers={"X-A": "1\r\nX-Injected: 2"})
    assert server.heads == []


async def test_sends_what_aiohttp_sends_for_the_same_call() -> None:
    """Path, query and body bytes the same as aiohttp's (the client Atoll used before), headers the
    same but for the ones aiohttp adds on its own (Accept-Encoding; nothing here asks for gzip)."""
    calls = [
        ("GET", "/v2.1/os-keypairs/my key", [("name", "a b&c+d/é"), ("limit", "2")], None),
        ("GET", "/v2.1/servers/detail?all_tenants=1", [("changes-since", "2026-01-01T00:00:00+01:00")], None),
        ("POST", "/v2.1/servers/x/action", [], b'{"reboot": {"type": "SOFT"}}'),
        ("PUT", "/v3/p/volumes/x%2Fy", [], None),
    ]
    clients: dict[str, PodClient] = {
        "h1": H1PodClient("Pod1", PodLimits()),
        "aiohttp": AiohttpPodClient("Pod1", PodLimits()),
    }
    sent: dict[str, list[tuple[bytes, bytes]]] = {}
    async with RawServer(always_ok).running() as server:
        for kind, pod_client in clients.items():
            del server.heads[:], server.bodies[:]
            for method, path, params, body in calls:
                await pod_client.request(method, server.url + path, token="tok", params=params, body=body)
            await pod_client.close()
            rows = []
            for head, body in zip(server.heads, server.bodies, strict=True):
                line, *fields = head.rstrip(b"\r\n").split(b"\r\n")
                kept = sorted(f.lower() for f in fields if not f.lower().startswith(b"accept-encoding"))
                rows.append((line + b"\n" + b"\n".join(kept), body))
            sent[kind] = rows
    assert sent["h1"] == sent["aiohttp"]


def test_the_same_on_uvloop() -> None:
    """atoll-api runs on uvloop, whose transports differ from asyncio's; the tests above run on asyncio's."""
    import uvloop

    async def scenario() -> None:
        client = H1PodClient("Pod1", PodLimits(timeout=0.5, connect_timeout=0.5))
        try:
            async with RawServer(always_ok).running() as server:
                for _ in range(3):
                    assert (await client.request("GET", server.url + "/", token=None)).json() == {"a": 1}
            assert server.connections == 1
            await test_chunked_and_until_close_bodies(client)
            await test_a_timed_out_connection_is_never_reused(client)
            await test_an_idempotent_call_on_a_connection_closed_under_it_is_sent_once_more(client)
        finally:
            await client.close()

    uvloop.run(scenario())
