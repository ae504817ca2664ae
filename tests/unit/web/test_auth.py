"""The auth middleware: who gets through without a token, and what everyone else gets."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atoll.api.app import create_app
from atoll.core.errors import AtollError
from atoll.web.auth import AuthMiddleware, public_paths
from atoll.web.request_id import RequestIdMiddleware
from tests.conftest import ADMIN, FakeValidator
from tests.unit.api.helpers import REQUEST_ID, fault
from tests.unit.conftest import Override

AUTH_REQUIRED = "The request you have made requires authentication."


async def test_no_token_is_401_with_an_openstack_body(client: httpx.AsyncClient) -> None:
    for method, path in [("GET", "/v1.0/pods"), ("POST", "/v1.0/pods"), ("GET", "/v1.0/routings/1"), ("GET", "/x")]:
        response = await client.request(method, path)
        assert fault(response, 401, "unauthorized") == AUTH_REQUIRED
        assert response.headers["content-type"] == "application/json"
        assert "www-authenticate" not in response.headers


async def test_blank_and_bad_tokens_are_401(client: httpx.AsyncClient) -> None:
    for token in ("   ", "not-a-token", "ADMIN"):
        response = await client.get("/v1.0/pods", headers={"X-Auth-Token": token})
        assert fault(response, 401, "unauthorized") == AUTH_REQUIRED


async def test_the_token_never_appears_in_the_answer(client: httpx.AsyncClient) -> None:
    secret = "gAAAAABsecret-token-value"
    response = await client.get("/v1.0/pods", headers={"X-Auth-Token": secret})
    assert response.status_code == 401
    assert secret not in response.text
    assert all(secret not in value for value in response.headers.values())


async def test_version_documents_need_no_token(client: httpx.AsyncClient) -> None:
    root = await client.get("/")
    assert root.status_code == 300
    versions = root.json()["versions"]
    assert [v["id"] for v in versions] == ["v1.0"]
    assert versions[0]["links"] == [{"rel": "self", "href": "http://atoll.test/v1.0/"}]
    for path in ("/v1.0", "/v1.0/"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.json()["version"]["status"] == "CURRENT"
    assert (await client.get("/openapi.json")).status_code == 200


async def test_www_authenticate_names_keystone(
    sessions: async_sessionmaker[AsyncSession], conf: object, override: Override
) -> None:
    override("www_authenticate_uri", "https://keystone.example/v3", "keystone_authtoken")
    app = create_app(conf, sessions=sessions, validator=FakeValidator())  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://atoll.test") as http:
        response = await http.get("/v1.0/pods")
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Keystone uri="https://keystone.example/v3"'
        assert (await http.get("/v1.0/pods", headers=ADMIN)).status_code == 200


class Inner:
    """An ASGI app that records the scopes reaching it and would accept any websocket."""

    def __init__(self) -> None:
        self.reached: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.reached.append(scope)
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
        elif scope["type"] == "http":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})


async def _drive(app: ASGIApp, scope: Scope, incoming: list[Message]) -> list[Message]:
    sent: list[Message] = []
    queue = list(incoming)

    async def receive() -> Message:
        return queue.pop(0) if queue else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def _websocket(path: str, token: str | None) -> Scope:
    headers = [(b"x-auth-token", token.encode())] if token else []
    return {"type": "websocket", "path": path, "headers": headers, "state": {"request_id": "req-x"}}


@pytest.mark.parametrize("path", ["/v1.0/pods", "/", "/v1.0"])
@pytest.mark.parametrize("token", [None, "bogus", "admin"])
async def test_websockets_are_refused_before_reaching_the_app(path: str, token: str | None) -> None:
    inner = Inner()
    app = AuthMiddleware(inner, FakeValidator(), is_public=public_paths("/", "/v1.0"))
    sent = await _drive(app, _websocket(path, token), [{"type": "websocket.connect"}])
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]
    assert inner.reached == []


async def test_websocket_through_the_whole_app_is_refused(
    sessions: async_sessionmaker[AsyncSession], conf: object
) -> None:
    app = create_app(conf, sessions=sessions, validator=FakeValidator())  # type: ignore[arg-type]
    sent = await _drive(app, _websocket("/v1.0/pods", "admin"), [{"type": "websocket.connect"}])
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]


async def test_unknown_scope_types_raise_and_never_reach_the_app() -> None:
    inner = Inner()
    app = AuthMiddleware(inner, FakeValidator(), is_public=public_paths("/"))
    with pytest.raises(RuntimeError, match="'webtransport'"):
        await _drive(app, {"type": "webtransport", "path": "/", "headers": []}, [])
    assert inner.reached == []


async def test_lifespan_reaches_the_app() -> None:
    inner = Inner()
    app = AuthMiddleware(inner, FakeValidator(), is_public=public_paths())
    await _drive(app, {"type": "lifespan"}, [])
    assert [scope["type"] for scope in inner.reached] == ["lifespan"]


def neutron_fault(_scope: Scope, error: AtollError) -> Response:
    body = {"NeutronError": {"type": type(error).__name__, "message": error.message, "detail": ""}}
    return JSONResponse(body, status_code=error.status)


async def test_public_paths_and_fault_bodies_are_the_mounts_choice() -> None:
    """How the gateway reuses it: its own unauthenticated documents, its own error body."""

    def is_public(scope: Scope) -> bool:
        return scope["method"] == "GET" and scope["path"] in ("/network/", "/network/v2.0")

    inner = Inner()
    auth = AuthMiddleware(
        inner,
        FakeValidator(),
        is_public=is_public,
        render_fault=neutron_fault,
        www_authenticate_uri="https://keystone.example/v3",
    )
    app = RequestIdMiddleware(auth)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://atoll.test") as http:
        assert (await http.get("/network/")).status_code == 204
        refused = await http.post("/network/")
        assert refused.status_code == 401
        assert refused.json() == {"NeutronError": {"type": "Unauthorized", "message": AUTH_REQUIRED, "detail": ""}}
        assert refused.headers["www-authenticate"] == 'Keystone uri="https://keystone.example/v3"'
        assert REQUEST_ID.match(refused.headers["x-openstack-request-id"])
        assert (await http.get("/network/v2.0/networks", headers=ADMIN)).status_code == 204
    assert [scope["path"] for scope in inner.reached] == ["/network/", "/network/v2.0/networks"]
    assert inner.reached[-1]["state"]["context"].project_id == "admin-project"
