"""A stub cloud in the test's event loop, and tokens of its users."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from stubpods import CloudConfig, StubCloud
from stubpods.identity import USERS


async def issue_token(http: httpx.AsyncClient, auth_url: str, user: str) -> str:
    creds = USERS[user].credentials()
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": creds["username"], "password": creds["password"], "domain": {"id": "default"}}
                },
            },
            "scope": {"project": {"name": creds["project_name"], "domain": {"id": "default"}}},
        }
    }
    response = await http.post(auth_url + "/auth/tokens", json=body)
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


class Session:
    """An httpx client with one stub user's token."""

    def __init__(self, http: httpx.AsyncClient, cloud: StubCloud, token: str) -> None:
        self.http = http
        self.cloud = cloud
        self.token = token

    def url(self, pod: str, service_type: str, path: str = "") -> str:
        project = self.cloud.tokens.validate(self.token)
        assert project is not None
        base = self.cloud.pods[pod].endpoints()[service_type].replace("%(project_id)s", project.project.id)
        return base + path

    async def get(self, pod: str, service: str, path: str, **kwargs: object) -> httpx.Response:
        return await self.request("GET", pod, service, path, **kwargs)

    async def request(self, method: str, pod: str, service: str, path: str, **kwargs: object) -> httpx.Response:
        headers = {"X-Auth-Token": self.token, **dict(kwargs.pop("headers", {}) or {})}  # type: ignore[call-overload]
        return await self.http.request(method, self.url(pod, service, path), headers=headers, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def cloud() -> AsyncIterator[StubCloud]:
    config = CloudConfig.uniform(2, servers=3, volumes=3, images=2, networks=2)
    async with StubCloud(config) as stub:
        yield stub


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
async def demo(http: httpx.AsyncClient, cloud: StubCloud) -> Session:
    return Session(http, cloud, await issue_token(http, cloud.auth_url, "demo"))


@pytest.fixture
async def admin(http: httpx.AsyncClient, cloud: StubCloud) -> Session:
    return Session(http, cloud, await issue_token(http, cloud.auth_url, "admin"))
