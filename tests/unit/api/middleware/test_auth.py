from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.api.app import create_app
from tests.conftest import ADMIN, FakeValidator
from tests.unit.api.helpers import fault
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
