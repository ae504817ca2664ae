"""/v1.0/{project_id}/os-sync: both request forms, strict validation, one transaction, Kingbird's
shapes, and a project sees only its own sync jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from oslo_config import cfg

from atoll.api.app import create_app
from atoll.db.models import Job
from atoll.engine.service import job_types
from tests.conftest import ADMIN, MEMBER, READER_B
from tests.unit.api.helpers import create_pod, fault
from tests.unit.jobs.helpers import Sessions

MEMBER_B = {"X-Auth-Token": "member-b"}
URL = "/v1.0/project-a/os-sync"


@pytest.fixture
async def api(sessions: Sessions, conf: cfg.ConfigOpts) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(conf, sessions=sessions, validator=_validator(), job_types=job_types())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://atoll.test") as http:
        for region, az in (("Pod1", "az1"), ("Pod2", "az2"), ("Pod3", "az2")):
            await create_pod(http, region, az)
        yield http


def _validator() -> Any:
    from tests.conftest import FakeValidator

    return FakeValidator()


def one(resource_type: str = "keypair", **overrides: Any) -> dict[str, Any]:
    body = {"resource_type": resource_type, "resources": ["k1"], "source": "Pod1", "target": ["Pod2"], "force": "True"}
    return {"resource_set": {**body, **overrides}}


async def jobs(sessions: Sessions) -> list[Job]:
    async with sessions() as session:
        return list((await session.scalars(sa.select(Job).order_by(Job.seq))).all())


async def test_one_resource_set_makes_a_parent_and_a_child_per_target_and_resource(
    api: httpx.AsyncClient, sessions: Sessions
) -> None:
    body = one(resources=["k1", "k2"], target=["Pod2", "Pod3"])
    response = await api.post(URL, json=body, headers=MEMBER)
    assert response.status_code == 200, response.text
    status = response.json()["job_status"]
    assert status["status"] == "IN_PROGRESS"
    rows = await jobs(sessions)
    parent = [r for r in rows if r.parent_id is None]
    assert [p.id for p in parent] == [status["id"]]
    assert parent[0].type == "sync"
    assert parent[0].project_id == "project-a"
    children = sorted((r.resource["target"], r.resource["resource"]) for r in rows if r.parent_id == status["id"])
    assert children == [("Pod2", "k1"), ("Pod2", "k2"), ("Pod3", "k1"), ("Pod3", "k2")]
    child = next(r for r in rows if r.parent_id)
    assert child.type == "sync_keypair"
    assert child.resource["force"] is True
    assert child.resource["user_id"] == "user-a"
    assert child.resource["source"] == "Pod1"


async def test_the_template_form_makes_every_set_s_children(api: httpx.AsyncClient, sessions: Sessions) -> None:
    sets = [
        {"resource_type": "keypair", "resources": ["k1"], "source": "Pod1", "target": ["Pod2"]},
        {"resource_type": "image", "resources": ["i1", "i2"], "source": "Pod2", "target": ["Pod1", "Pod3"]},
        {"resource_type": "security_group", "resources": ["web"], "source": "Pod1", "target": "Pod3", "force": True},
    ]
    response = await api.post(URL, json={"resource_set": {"Sync": sets}}, headers=MEMBER)
    assert response.status_code == 200, response.text
    rows = [r for r in await jobs(sessions) if r.parent_id]
    found = sorted((r.type, r.resource["resource"], r.resource["target"], r.resource["force"]) for r in rows)
    assert found == [
        ("sync_image", "i1", "Pod1", False),
        ("sync_image", "i1", "Pod3", False),
        ("sync_image", "i2", "Pod1", False),
        ("sync_image", "i2", "Pod3", False),
        ("sync_keypair", "k1", "Pod2", False),
        ("sync_security_group", "web", "Pod3", True),
    ]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (one(target=["Pod9"]), "unknown region(s) Pod9"),
        (one(source="Nowhere"), "unknown region(s) Nowhere"),
        (one(target=[]), "target is empty"),
        (one(resources=[]), "resources is empty"),
        (one("volume"), "resource_type 'volume' is not one of"),
        (one(target=["Pod1"]), "both source and target"),
        (one(force="maybe"), "force"),
        (one(colour="blue"), "Unknown field resource_set.colour"),
        (one("image", user_id="user-b"), "user_id applies to keypairs only"),
        ({"resource_set": {"resource_type": "keypair", "source": "Pod1", "target": ["Pod2"]}}, "resources"),
        ({"resource_set": {"Sync": []}}, "Sync is empty"),
        ({"resource_set": {"Sync": [one()["resource_set"]], "source": "Pod1"}}, "one form or the other"),
        ({"resource_set": {"Sync": [{**one()["resource_set"], "target": ["PodX"]}]}}, "unknown region(s) PodX"),
        ({"resource_set": {"Sync": [{"resource_type": "keypair"}]}}, "Missing field resource_set.Sync.0.resources"),
        (
            {"resource_set": {"Sync": [{**one()["resource_set"], "extra": 1}]}},
            "Unknown field resource_set.Sync.0.extra",
        ),
        ({"resources": []}, "Unknown field resources"),
    ],
)
async def test_bad_requests_are_400_saying_what_and_write_nothing(
    api: httpx.AsyncClient, sessions: Sessions, body: dict[str, Any], says: str
) -> None:
    message = fault(await api.post(URL, json=body, headers=MEMBER), 400, "badRequest")
    assert says in message
    assert await jobs(sessions) == []


async def test_the_top_region_is_no_pod_to_sync_with(api: httpx.AsyncClient) -> None:
    top = await api.post("/v1.0/pods", json={"pod": {"region_name": "RegionOne"}}, headers=ADMIN)
    assert top.status_code == 200, top.text
    message = fault(await api.post(URL, json=one(target=["RegionOne"]), headers=MEMBER), 400, "badRequest")
    assert "RegionOne" in message


async def test_another_project_in_the_path_is_403_unless_admin(api: httpx.AsyncClient, sessions: Sessions) -> None:
    fault(await api.post("/v1.0/project-b/os-sync", json=one(), headers=MEMBER), 403, "forbidden")
    fault(await api.post(URL, json=one(), headers=READER_B), 403, "forbidden")
    assert await jobs(sessions) == []
    admin = await api.post("/v1.0/project-b/os-sync", json=one(), headers=ADMIN)
    assert admin.status_code == 200, admin.text
    assert {r.project_id for r in await jobs(sessions)} == {"project-b"}


async def test_flavors_and_other_users_keypairs_are_an_admin_s(api: httpx.AsyncClient, sessions: Sessions) -> None:
    assert "atoll:sync:flavor" in fault(await api.post(URL, json=one("flavor"), headers=MEMBER), 403, "forbidden")
    other = one(user_id="user-z")
    assert "keypair_other_user" in fault(await api.post(URL, json=other, headers=MEMBER), 403, "forbidden")
    own = await api.post(URL, json=one(user_id="user-a"), headers=MEMBER)
    assert own.status_code == 200, own.text
    assert (await api.post(URL, json=one("flavor"), headers=ADMIN)).status_code == 200
    made = await api.post(URL, json=other, headers=ADMIN)
    assert made.status_code == 200, made.text
    users = [r.resource["user_id"] for r in await jobs(sessions) if r.type == "sync_keypair"]
    assert users == ["user-a", "user-z"]


async def _set(sessions: Sessions, job_id: str, status: str, reason: str = "") -> None:
    async with sessions.begin() as session:
        await session.execute(sa.update(Job).where(Job.id == job_id).values(status=status, reason=reason))


async def test_lists_show_and_delete_in_kingbird_s_shape(api: httpx.AsyncClient, sessions: Sessions) -> None:
    first = (await api.post(URL, json=one(target=["Pod2", "Pod3"]), headers=MEMBER)).json()["job_status"]["id"]
    second = (await api.post(URL, json=one(), headers=MEMBER)).json()["job_status"]["id"]
    children = [r for r in await jobs(sessions) if r.parent_id == first]
    await _set(sessions, children[0].id, "SUCCESS")
    await _set(sessions, children[1].id, "FAIL", "Keypair k1 differs in Pod3")
    await _set(sessions, first, "FAIL")

    listed = (await api.get(URL, headers=MEMBER)).json()["job_set"]
    assert [(j["id"], j["sync_status"]) for j in listed] == [(first, "FAILURE"), (second, "IN_PROGRESS")]
    assert set(listed[0]) == {"id", "sync_status", "created_at", "updated_at"}
    active = (await api.get(URL + "/active", headers=MEMBER)).json()["job_set"]
    assert [j["id"] for j in active] == [second]

    shown = (await api.get(f"{URL}/{first}", headers=MEMBER)).json()["job_set"]
    parts = {(p["target_region"], p["sync_status"], p["reason"]) for p in shown}
    assert parts == {("Pod2", "SUCCESS", ""), ("Pod3", "FAILURE", "Keypair k1 differs in Pod3")}
    assert {(p["source_region"], p["resource"], p["resource_type"]) for p in shown} == {("Pod1", "k1", "keypair")}

    message = fault(await api.delete(f"{URL}/{second}", headers=MEMBER), 409, "conflictingRequest")
    assert "in progress" in message
    deleted = await api.delete(f"{URL}/{first}", headers=MEMBER)
    assert deleted.status_code == 200, deleted.text
    assert [r.parent_id or r.id for r in await jobs(sessions)] == [second, second]
    fault(await api.get(f"{URL}/{first}", headers=MEMBER), 404, "itemNotFound")


async def test_a_project_sees_only_its_own_sync_jobs(api: httpx.AsyncClient) -> None:
    mine = (await api.post(URL, json=one(), headers=MEMBER)).json()["job_status"]["id"]
    theirs = await api.post("/v1.0/project-b/os-sync", json=one(), headers=MEMBER_B)
    assert theirs.status_code == 200, theirs.text
    fault(await api.get(URL, headers=READER_B), 403, "forbidden")
    fault(await api.get(f"{URL}/{mine}", headers=READER_B), 403, "forbidden")
    fault(await api.delete(f"{URL}/{mine}", headers=MEMBER_B), 403, "forbidden")
    fault(await api.get(f"/v1.0/project-b/os-sync/{mine}", headers=READER_B), 404, "itemNotFound")
    fault(await api.delete(f"/v1.0/project-b/os-sync/{mine}", headers=MEMBER_B), 404, "itemNotFound")
    listed = (await api.get("/v1.0/project-b/os-sync", headers=READER_B)).json()["job_set"]
    assert [j["id"] for j in listed] == [theirs.json()["job_status"]["id"]]
    assert [j["id"] for j in (await api.get(URL, headers=ADMIN)).json()["job_set"]] == [mine]
