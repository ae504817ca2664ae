"""/v1.0/resources over fake pods on loopback registered in a real database: every kind in every pod,
exact pages at every size, a down or silent pod reported partial, and a project sees only itself."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from oslo_config import cfg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.api.app import create_app
from atoll.db import pods as pods_db
from atoll.inventory import ResourceView
from atoll.pods.pool import PodClients
from atoll.pods.registry import PodRegistry, db_loader
from atoll.types import PodStatus
from tests.conftest import ADMIN, MEMBER, FakeValidator
from tests.unit.api.helpers import fault
from tests.unit.inventory.fakecloud import FakeCloud
from tests.unit.pods.dbpods import set_pod
from tests.unit.pods.fakepod import serve

Sessions = async_sessionmaker[AsyncSession]
MEMBER_B = {"X-Auth-Token": "member-b"}
TYPES = ("server", "volume", "snapshot", "network", "port", "keypair", "image", "security_group")


@dataclasses.dataclass
class World:
    http: httpx.AsyncClient
    pods: dict[str, FakeCloud]
    central: FakeCloud
    sessions: Sessions
    registry: PodRegistry
    tokens: list[bool]

    async def set_status(self, name: str, status: PodStatus) -> None:
        pod = (await self.registry.snapshot()).by_name(name)
        assert pod is not None
        async with self.sessions.begin() as session:
            await set_pod(session, pod.pod_id, status=status)
        self.registry.invalidate()

    async def get(self, query: str = "", headers: dict[str, str] = MEMBER) -> httpx.Response:
        return await self.http.get(f"/v1.0/resources{query}", headers=headers)


async def _register(sessions: Sessions, name: str, az: str, url: str) -> None:
    async with sessions.begin() as session:
        pod = await pods_db.create(session, region_name=name, az_name=az)
        endpoints = {"compute": url + "/v2.1", "volumev3": url + "/v3/%(project_id)s", "image": url, "network": url}
        await set_pod(session, pod.pod_id, endpoints=endpoints, status=PodStatus.UP)


@pytest.fixture
def world_timeout() -> float:
    """The view's per-pod timeout: long enough for a loaded machine; short where a test waits it out."""
    return 5.0


@pytest.fixture
async def world(sessions: Sessions, conf: cfg.ConfigOpts, world_timeout: float) -> AsyncIterator[World]:
    one, two, central = FakeCloud(), FakeCloud(), FakeCloud()
    async with serve(one), serve(two), serve(central):
        async with sessions.begin() as session:
            await pods_db.create(session, region_name="RegionOne")
        await _register(sessions, "Pod1", "az1", one.url)
        await _register(sessions, "Pod2", "az2", two.url)
        registry = PodRegistry(db_loader(sessions))
        clients = PodClients()
        tokens: list[bool] = []

        async def token(renew: bool) -> str:
            tokens.append(renew)
            return "service-token"

        view = ResourceView(
            registry, clients, token, timeout=world_timeout, max_limit=1000, central_neutron_url=central.url
        )
        app = create_app(conf, sessions=sessions, validator=FakeValidator(), resource_view=view)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://atoll.test") as http:
            yield World(http, {"Pod1": one, "Pod2": two}, central, sessions, registry, tokens)
        await registry.close()
        await clients.close()


def fill(world: World) -> set[tuple[str, str, str]]:
    """Two of each kind of project-a in each pod (networks, ports and groups also in the central
    Neutron), one of project-b each; returns (type, id, pod) of project-a's."""
    expected = set()
    for pod_name, pod in [*world.pods.items(), ("RegionOne", world.central)]:
        for type_ in TYPES:
            if type_ == "keypair" or (pod is world.central and type_ not in ("network", "port", "security_group")):
                continue
            for _ in range(2):
                expected.add((type_, pod.add(type_, "project-a")["id"], pod_name))
            pod.add(type_, "project-b")
    for pod_name, pod in world.pods.items():
        pod.keypairs = {"user-a": [f"key-{pod_name}", "key-shared"], "user-b": ["key-b"]}
        expected |= {("keypair", f"key-{pod_name}", pod_name), ("keypair", "key-shared", pod_name)}
    return expected


def keys(items: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(item["type"], item["id"], item["pod"]) for item in items]


async def test_lists_every_kind_in_every_pod_and_the_central_neutron(world: World) -> None:
    expected = fill(world)
    response = await world.get()
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["partial_pods"] == []
    assert body["resources_links"] == []
    assert "atoll-partial-pods" not in response.headers
    items = body["resources"]
    assert set(keys(items)) == expected
    assert len(items) == len(expected)
    assert keys(items) == sorted(keys(items))  # by type name, then id, then pod
    server = next(i for i in items if i["type"] == "server" and i["pod"] == "Pod2")
    assert set(server) == {"id", "type", "name", "status", "pod", "az", "project_id", "created_at"}
    assert (server["az"], server["status"], server["project_id"]) == ("az2", "ACTIVE", "project-a")
    assert server["created_at"] == "2026-11-23T10:00:00Z"
    volume = next(i for i in items if i["type"] == "volume")
    assert volume["created_at"] == "2026-11-23T10:00:00Z"
    central = [i for i in items if i["pod"] == "RegionOne"]
    assert {i["type"] for i in central} == {"network", "port", "security_group"}
    assert {i["az"] for i in central} == {None}
    # each service was asked with its own project filter and Atoll's service token
    seen = world.pods["Pod1"].seen
    servers = next(s for s in seen if s["path"] == "/v2.1/servers/detail")
    assert "all_tenants=1" in servers["query"]
    assert "project_id=project-a" in servers["query"]
    assert next(s for s in seen if s["path"] == "/v2/images")["query"].startswith("owner=project-a")
    keypairs = next(s for s in seen if s["path"] == "/v2.1/os-keypairs")
    assert keypairs["query"] == "user_id=user-a"
    assert keypairs["headers"]["OpenStack-API-Version"] == "compute 2.10"
    assert {s["headers"]["X-Auth-Token"] for s in seen} == {"service-token"}


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 8, 13, 1000])
async def test_pages_are_exact_at_every_size(world: World, limit: int) -> None:
    expected = fill(world)
    url: str | None = f"/v1.0/resources?type=server,volume,keypair,network&limit={limit}"
    seen: list[tuple[str, str, str]] = []
    pages = 0
    while url is not None:
        response = await world.http.get(url, headers=MEMBER)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["resources"]) <= limit
        seen += keys(body["resources"])
        links = body["resources_links"]
        url = None
        if links:
            assert [link["rel"] for link in links] == ["next"]
            parts = urlsplit(links[0]["href"])
            assert "type=server%2Cvolume%2Ckeypair%2Cnetwork" in parts.query
            url = f"{parts.path}?{parts.query}"
        pages += 1
        assert pages < 200
    wanted = {k for k in expected if k[0] in ("server", "volume", "keypair", "network")}
    assert len(seen) == len(set(seen))
    assert set(seen) == wanted
    assert pages >= len(wanted) // limit


async def test_pages_stay_exact_when_an_item_is_deleted_between_pages(world: World) -> None:
    fill(world)
    first = (await world.get("?type=volume&limit=3")).json()
    taken = keys(first["resources"])
    pod = world.pods[taken[-1][2]]
    pod.items["volume"] = [v for v in pod.items["volume"] if v["id"] != taken[-1][1]]  # the marker's item is gone
    href = urlsplit(first["resources_links"][0]["href"])
    rest = (await world.http.get(f"{href.path}?{href.query}", headers=MEMBER)).json()
    remaining = {
        ("volume", v["id"], name)
        for name, p in world.pods.items()
        for v in p.items["volume"]
        if v["os-vol-tenant-attr:tenant_id"] == "project-a"
    }
    assert set(keys(rest["resources"])) == remaining - set(taken)


async def test_a_down_pod_is_partial_at_once_and_asked_nothing(world: World) -> None:
    expected = fill(world)
    await world.set_status("Pod2", PodStatus.DOWN)
    world.pods["Pod2"].seen.clear()
    response = await world.get()
    assert response.status_code == 200, response.text
    assert response.json()["partial_pods"] == ["Pod2"]
    assert response.headers["Atoll-Partial-Pods"] == "Pod2"
    assert world.pods["Pod2"].seen == []
    assert set(keys(response.json()["resources"])) == {k for k in expected if k[2] != "Pod2"}


@pytest.mark.parametrize("world_timeout", [0.5])
async def test_a_silent_pod_is_partial_after_its_timeout_and_comes_on_a_later_page(world: World) -> None:
    expected = fill(world)
    world.pods["Pod1"].hanging.add("/v3/volumes/detail")
    response = await world.get("?type=volume,server")
    assert response.status_code == 200
    body = response.json()
    assert body["partial_pods"] == ["Pod1"]
    got = set(keys(body["resources"]))
    assert ("volume", "Pod1") not in {(t, p) for t, _, p in got}
    world.pods["Pod1"].hanging.clear()
    href = urlsplit(body["resources_links"][0]["href"])
    rest = (await world.http.get(f"{href.path}?{href.query}", headers=MEMBER)).json()
    assert rest["partial_pods"] == []
    assert got | set(keys(rest["resources"])) == {k for k in expected if k[0] in ("volume", "server")}


async def test_a_pod_that_ignores_the_project_filter_leaks_nothing(world: World) -> None:
    fill(world)
    world.pods["Pod1"].ignore_filter = True
    body = (await world.get("?type=server,image")).json()
    assert body["partial_pods"] == ["Pod1"]
    assert {i["project_id"] for i in body["resources"]} == {"project-a"}
    assert {i["pod"] for i in body["resources"]} == {"Pod2"}


async def test_a_project_sees_only_itself(world: World) -> None:
    fill(world)
    fault(await world.get("?project_id=project-a", MEMBER_B), 403, "forbidden")
    own = (await world.get("", MEMBER_B)).json()["resources"]
    assert own
    assert {i["project_id"] for i in own} == {"project-b"}
    assert {i["id"] for i in own if i["type"] == "keypair"} == {"key-b"}
    admin = (await world.get("?project_id=project-b&type=server,keypair", ADMIN)).json()["resources"]
    assert {i["type"] for i in admin} == {"server"}  # keypairs are a user's: the admin's own, not project-b's
    assert len(admin) == 2


async def test_filters_by_pod_and_az(world: World) -> None:
    expected = fill(world)
    by_pod = (await world.get("?pod=Pod1")).json()["resources"]
    assert set(keys(by_pod)) == {k for k in expected if k[2] == "Pod1"}
    by_az = (await world.get("?az=az2&type=network")).json()["resources"]
    assert set(keys(by_az)) == {k for k in expected if k[2] == "Pod2" and k[0] == "network"}
    top = (await world.get("?pod=RegionOne")).json()["resources"]
    assert set(keys(top)) == {k for k in expected if k[2] == "RegionOne"}


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("?type=server,flavor", "flavor"),
        ("?type=", "Unknown resource type"),
        ("?pod=Pod9", "Pod9"),
        ("?az=az9", "az9"),
        ("?marker=atoll1.AAAA", "marker"),
        ("?marker=not-ours", "marker"),
        ("?limit=0", "limit"),
        ("?all_tenants=1", "all_tenants"),
    ],
)
async def test_bad_input_is_a_400_naming_it(world: World, query: str, words: str) -> None:
    assert words in fault(await world.get(query), 400, "badRequest")


async def test_without_service_credentials_the_view_is_unavailable(sessions: Sessions, conf: cfg.ConfigOpts) -> None:
    app = create_app(conf, sessions=sessions, validator=FakeValidator())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://atoll.test") as http:
        response = await http.get("/v1.0/resources", headers=MEMBER)
    assert "service_auth" in fault(response, 503, "serviceUnavailable")
