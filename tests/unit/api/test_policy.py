"""Who may do what: admins everything; project readers only their own routings; every scope
decision a policy rule, also under a policy.yaml written by the test."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import pathlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import yaml
from oslo_config import cfg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.api.app import create_app
from atoll.openstack.keystone import TokenInfo
from tests.conftest import ADMIN, MEMBER, READER_B, FakeValidator
from tests.unit.api.helpers import create_binding, create_pod, create_routing, fault, snapshot
from tests.unit.conftest import Override

MEMBER_B = {"X-Auth-Token": "member-b"}
BASE = "http://atoll.test"


@pytest.fixture
async def world(client: httpx.AsyncClient) -> dict[str, Any]:
    """A top pod, a bottom pod, a binding, and one routing in each of project-a and project-b."""
    top = await create_pod(client, "RegionOne", "")
    pod = await create_pod(client, "Pod1", "az1")
    binding = await create_binding(client, "project-a", pod["pod_id"])
    routing_a = await create_routing(client, pod["pod_id"], "top-a", project="project-a")
    routing_b = await create_routing(client, pod["pod_id"], "top-b", project="project-b")
    return {"top": top, "pod": pod, "binding": binding, "routing_a": routing_a, "routing_b": routing_b}


def _admin_only_calls(world: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    pod_id = world["pod"]["pod_id"]
    binding_id = world["binding"]["id"]
    routing_id = world["routing_a"]["id"]
    return [
        ("GET", "/v1.0/pods", None),
        ("GET", f"/v1.0/pods/{pod_id}", None),
        ("POST", "/v1.0/pods", {"pod": {"region_name": "Pod9", "az_name": "az9"}}),
        ("PUT", f"/v1.0/pods/{pod_id}", {"pod": {"dc_name": "dc"}}),
        ("DELETE", f"/v1.0/pods/{pod_id}", None),
        ("GET", "/v1.0/bindings", None),
        ("GET", f"/v1.0/bindings/{binding_id}", None),
        ("POST", "/v1.0/bindings", {"pod_binding": {"tenant_id": "project-a", "pod_id": pod_id}}),
        ("PUT", f"/v1.0/bindings/{binding_id}", {"pod_binding": {"is_binding": False}}),
        ("DELETE", f"/v1.0/bindings/{binding_id}", None),
        (
            "POST",
            "/v1.0/routings",
            {"routing": {"top_id": "x", "pod_id": pod_id, "project_id": "project-a", "resource_type": "server"}},
        ),
        ("PUT", f"/v1.0/routings/{routing_id}", {"routing": {"bottom_id": "other"}}),
        ("DELETE", f"/v1.0/routings/{routing_id}", None),
    ]


async def test_member_is_forbidden_every_admin_call(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    before = await snapshot(client)
    for method, path, body in _admin_only_calls(world):
        response = await client.request(method, path, json=body, headers=MEMBER)
        message = fault(response, 403, "forbidden")
        assert "Policy doesn't allow atoll:" in message, (method, path)
    assert await snapshot(client) == before


async def test_member_reads_own_project_routings(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    listed = await client.get("/v1.0/routings", headers=MEMBER)
    assert listed.status_code == 200, listed.text
    assert [r["id"] for r in listed.json()["routings"]] == [world["routing_a"]["id"]]
    shown = await client.get(f"/v1.0/routings/{world['routing_a']['id']}", headers=MEMBER)
    assert shown.json()["routing"] == world["routing_a"]


async def test_reader_lists_only_its_project(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    listed = (await client.get("/v1.0/routings", headers=READER_B)).json()
    assert [r["id"] for r in listed["routings"]] == [world["routing_b"]["id"]]
    explicit = (await client.get("/v1.0/routings?project_id=project-b", headers=READER_B)).json()
    assert [r["id"] for r in explicit["routings"]] == [world["routing_b"]["id"]]
    # filters narrow within the forced project, never widen it
    by_pod = (await client.get(f"/v1.0/routings?pod_id={world['pod']['pod_id']}", headers=READER_B)).json()
    assert [r["id"] for r in by_pod["routings"]] == [world["routing_b"]["id"]]
    by_id = (await client.get(f"/v1.0/routings?id={world['routing_a']['id']}", headers=READER_B)).json()
    assert by_id["routings"] == []


async def test_reader_next_link_keeps_the_forced_project(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    for i in range(3):
        await create_routing(client, world["pod"]["pod_id"], f"more-b-{i}", project="project-b")
    first = (await client.get("/v1.0/routings?limit=2", headers=READER_B)).json()
    href = first["routings_links"][0]["href"]
    assert "project_id=project-b" in href
    rest = (await client.get(href.removeprefix("http://atoll.test"), headers=READER_B)).json()
    ids = [r["id"] for r in first["routings"] + rest["routings"]]
    assert len(ids) == 4
    assert world["routing_a"]["id"] not in ids


async def test_admin_sees_all_projects(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    listed = (await client.get("/v1.0/routings", headers=ADMIN)).json()
    assert {r["id"] for r in listed["routings"]} == {world["routing_a"]["id"], world["routing_b"]["id"]}


async def test_asking_for_another_projects_routings_is_forbidden(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    message = fault(await client.get("/v1.0/routings?project_id=project-a", headers=READER_B), 403, "forbidden")
    assert "atoll:routings:list" in message


async def test_another_projects_routing_is_not_found(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    other = world["routing_a"]["id"]
    expected = f"Routing {other} could not be found."
    assert fault(await client.get(f"/v1.0/routings/{other}", headers=READER_B), 404, "itemNotFound") == expected
    put = await client.put(f"/v1.0/routings/{other}", json={"routing": {"bottom_id": "x"}}, headers=MEMBER_B)
    assert fault(put, 404, "itemNotFound") == expected
    assert fault(await client.delete(f"/v1.0/routings/{other}", headers=MEMBER_B), 404, "itemNotFound") == expected
    shown = (await client.get(f"/v1.0/routings/{other}", headers=ADMIN)).json()["routing"]
    assert shown == world["routing_a"]


async def test_reader_cannot_change_own_projects_routing(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    own = world["routing_b"]["id"]
    put = await client.put(f"/v1.0/routings/{own}", json={"routing": {"bottom_id": "x"}}, headers=READER_B)
    assert "atoll:routings:update" in fault(put, 403, "forbidden")
    delete = await client.delete(f"/v1.0/routings/{own}", headers=READER_B)
    assert "atoll:routings:delete" in fault(delete, 403, "forbidden")
    assert (await client.get(f"/v1.0/routings/{own}", headers=ADMIN)).json()["routing"] == world["routing_b"]


def _token(
    roles: tuple[str, ...], *, project: str | None, domain: str | None = None, system: bool = False
) -> TokenInfo:
    return TokenInfo(
        user_id="user-x",
        project_id=project,
        domain_id=domain,
        roles=roles,
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
        system_scope="all" if system else None,
    )


class ScopedValidator(FakeValidator):
    """The usual tokens, plus tokens of other scopes and of a custom admin role."""

    TOKENS = {
        **FakeValidator.TOKENS,
        "project-admin": _token(("admin", "member", "reader"), project="project-a"),
        "cloud-admin": _token(("cloud_admin", "reader"), project="ops-project"),
        "auditor": _token(("auditor", "reader"), project="project-a"),
        "domain-reader": _token(("reader",), project=None, domain="default"),
        "domain-admin": _token(("admin", "member", "reader"), project=None, domain="default"),
        "system-reader": _token(("reader",), project=None, system=True),
    }


@contextlib.asynccontextmanager
async def _api(
    sessions: async_sessionmaker[AsyncSession], conf: cfg.ConfigOpts, override: Override, policy: str | None
) -> AsyncIterator[httpx.AsyncClient]:
    if policy is not None:
        override("policy_file", policy, "oslo_policy")
    app = create_app(conf, sessions=sessions, validator=ScopedValidator())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        yield http


def _policy_file(tmp_path: pathlib.Path, rules: dict[str, str]) -> str:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(rules))
    return str(path)


async def _listed(client: httpx.AsyncClient, token: str, query: str = "") -> list[str]:
    response = await client.get(f"/v1.0/routings{query}", headers={"X-Auth-Token": token})
    assert response.status_code == 200, response.text
    return sorted(r["top_id"] for r in response.json()["routings"])


async def test_seeing_every_project_is_a_policy_rule_not_the_admin_role(
    sessions: async_sessionmaker[AsyncSession], conf: cfg.ConfigOpts, override: Override, tmp_path: pathlib.Path
) -> None:
    policy = _policy_file(tmp_path, {"admin_api": "role:cloud_admin"})
    async with _api(sessions, conf, override, policy) as client:
        cloud_admin = {"X-Auth-Token": "cloud-admin"}
        pod = await client.post("/v1.0/pods", json={"pod": {"region_name": "P1", "az_name": "az"}}, headers=cloud_admin)
        assert pod.status_code == 200, pod.text
        for project in ("project-a", "project-b"):
            body = {"top_id": f"top-{project}", "pod_id": pod.json()["pod"]["pod_id"], "project_id": project}
            made = await client.post(
                "/v1.0/routings", json={"routing": {**body, "resource_type": "server"}}, headers=cloud_admin
            )
            assert made.status_code == 200, made.text
        # the admin role is no longer the cloud's admin: a project admin is just a reader of its project
        assert await _listed(client, "project-admin") == ["top-project-a"]
        forbidden = await client.get("/v1.0/routings?project_id=project-b", headers={"X-Auth-Token": "project-admin"})
        assert "atoll:routings:list" in fault(forbidden, 403, "forbidden")
        pods = await client.get("/v1.0/pods", headers={"X-Auth-Token": "project-admin"})
        assert "atoll:pods:list" in fault(pods, 403, "forbidden")
        assert await _listed(client, "cloud-admin") == ["top-project-a", "top-project-b"]
        assert await _listed(client, "cloud-admin", "?project_id=project-b") == ["top-project-b"]


async def test_list_all_projects_can_be_granted_on_its_own(
    sessions: async_sessionmaker[AsyncSession], conf: cfg.ConfigOpts, override: Override, tmp_path: pathlib.Path
) -> None:
    rules = {"atoll:routings:list_all_projects": "rule:admin_api or role:auditor"}
    async with _api(sessions, conf, override, _policy_file(tmp_path, rules)) as client:
        pod = await create_pod(client, "P1")
        for project in ("project-a", "project-b"):
            await create_routing(client, pod["pod_id"], f"top-{project}", project=project)
        assert await _listed(client, "auditor") == ["top-project-a", "top-project-b"]
        assert await _listed(client, "member") == ["top-project-a"]
        assert await _listed(client, "project-admin") == ["top-project-a", "top-project-b"]


@pytest.mark.parametrize("token", ["domain-reader", "domain-admin", "system-reader"])
async def test_tokens_without_a_project_pass_no_project_rule(
    sessions: async_sessionmaker[AsyncSession], conf: cfg.ConfigOpts, override: Override, token: str
) -> None:
    async with _api(sessions, conf, override, None) as client:
        pod = await create_pod(client, "P1")
        routing = await create_routing(client, pod["pod_id"], "top-a")
        headers = {"X-Auth-Token": token}
        listed = await client.get("/v1.0/routings", headers=headers)
        assert "atoll:routings:list" in fault(listed, 403, "forbidden")
        shown = await client.get(f"/v1.0/routings/{routing['id']}", headers=headers)
        assert fault(shown, 404, "itemNotFound") == f"Routing {routing['id']} could not be found."
        for path in ("/v1.0/pods", "/v1.0/bindings"):
            assert (await client.get(path, headers=headers)).status_code == 403, path


async def test_a_changed_policy_file_takes_effect_while_the_api_runs(
    sessions: async_sessionmaker[AsyncSession], conf: cfg.ConfigOpts, override: Override, tmp_path: pathlib.Path
) -> None:
    override("policy_file", _policy_file(tmp_path, {"atoll:pods:list": "role:admin"}), "oslo_policy")
    override("policy_check_interval", 0.05, "api")
    app = create_app(conf, sessions=sessions, validator=ScopedValidator())
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        assert (await client.get("/v1.0/pods", headers=ADMIN)).status_code == 200
        _policy_file(tmp_path, {"atoll:pods:list": "role:nobody"})
        for _ in range(1000):  # polls for up to 10 s
            response = await client.get("/v1.0/pods", headers=ADMIN)
            if response.status_code != 200:
                break
            await asyncio.sleep(0.01)
        assert "atoll:pods:list" in fault(response, 403, "forbidden")
