"""/v1.0/jobs: Tricircle's shape, strict input, and a project sees only its own jobs."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from oslo_config import cfg

from atoll.api.app import create_app
from atoll.db.models import Job, utcnow
from atoll.jobs.declarations import JobType, JobTypes
from atoll.jobs.enqueue import NewJob, enqueue
from atoll.jobs.leases import claim
from atoll.jobs.outcomes import Done, Fail, Outcome
from atoll.jobs.settle import finish
from tests.conftest import ADMIN, MEMBER, READER_B, FakeValidator
from tests.unit.api.helpers import fault
from tests.unit.conftest import Override
from tests.unit.jobs.helpers import Sessions

MEMBER_B = {"X-Auth-Token": "member-b"}


async def _never(run: Any) -> Outcome:
    raise AssertionError("jobs do not run in the API tests")


PORT_DELETE = JobType("port_delete", ("pod_id", "port_id"), _never, api_create=True)
ROUTER_SETUP = JobType("router_setup", ("pod_id", "router_id", "network_id"), _never, api_create=True)
INTERNAL = JobType("image_copy", ("image_id",), _never)
SYNC = JobType("sync", ("resource_type",))
TYPES = JobTypes([PORT_DELETE, ROUTER_SETUP, INTERNAL, SYNC])


@pytest.fixture
async def api(sessions: Sessions, conf: cfg.ConfigOpts) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(conf, sessions=sessions, validator=FakeValidator(), job_types=TYPES)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://atoll.test") as http:
        yield http


def port_delete(project: str = "project-a", port: str = "port-1") -> dict[str, Any]:
    return {"job": {"type": "port_delete", "project_id": project, "resource": {"pod_id": "pod-1", "port_id": port}}}


async def create(api: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/v1.0/jobs", json=body, headers=ADMIN)
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()["job"]
    return job


async def set_status(sessions: Sessions, job_id: str, status: str, **values: Any) -> None:
    async with sessions.begin() as session:
        await session.execute(sa.update(Job).where(Job.id == job_id).values(status=status, **values))


async def test_schemas(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1.0/jobs/schemas", headers=READER_B)
    assert response.json() == {
        "schemas": [
            {"type": "image_copy", "resource": ["image_id"]},
            {"type": "port_delete", "resource": ["pod_id", "port_id"]},
            {"type": "router_setup", "resource": ["pod_id", "router_id", "network_id"]},
            {"type": "sync", "resource": ["resource_type"]},
        ]
    }


async def test_create_show_list(api: httpx.AsyncClient) -> None:
    job = await create(api, port_delete())
    assert job["type"] == "port_delete"
    assert job["project_id"] == "project-a"
    assert job["status"] == "NEW"
    assert job["resource"] == {"pod_id": "pod-1", "port_id": "port-1"}
    assert (job["parent_id"], job["reason"], job["attempts"], job["progress"]) == (None, "", 0, {})
    assert job["timestamp"] == job["created_at"]
    assert job["next_run_at"] is not None
    shown = await api.get(f"/v1.0/jobs/{job['id']}", headers=ADMIN)
    assert shown.json() == {"job": job}
    for path in ("/v1.0/jobs", "/v1.0/jobs/detail"):
        listed = await api.get(path, headers=MEMBER)
        assert listed.json() == {"jobs": [job], "jobs_links": []}


async def test_create_refuses_bad_input_and_writes_nothing(api: httpx.AsyncClient) -> None:
    base = port_delete()["job"]
    cases: list[tuple[Any, str]] = [
        ({"job": {**base, "type": "nope"}}, "There is no such job type: nope."),
        ({"job": {**base, "type": "image_copy", "resource": {"image_id": "i"}}}, "cannot be created by a request"),
        ({"job": {**base, "resource": {"pod_id": "p"}}}, "Missing resource key(s) of a port_delete job: port_id."),
        (
            {"job": {**base, "resource": {"pod_id": "p", "port_id": "x", "extra": "y"}}},
            "Unknown resource key(s) for a port_delete job: extra.",
        ),
        ({"job": {**base, "resource": {"pod_id": 1, "port_id": "x"}}}, "resource.pod_id"),
        ({"job": {**base, "resource": {"pod_id": " ", "port_id": "x"}}}, "resource.pod_id"),
        ({"job": {**base, "status": "SUCCESS"}}, "Unknown field job.status"),
        ({"job": {"type": "port_delete", "resource": base["resource"]}}, "Missing field job.project_id"),
        ({"job": {**base, "resource": ["pod_id"]}}, "resource"),
    ]
    for body, expected in cases:
        response = await api.post("/v1.0/jobs", json=body, headers=ADMIN)
        assert expected in fault(response, 400, "badRequest"), body
    malformed = await api.post("/v1.0/jobs", content=b'{"job": ', headers={**ADMIN, "Content-Type": "application/json"})
    assert "Malformed request body" in fault(malformed, 400, "badRequest")
    assert "atoll:jobs:create" in fault(
        await api.post("/v1.0/jobs", json=port_delete(), headers=MEMBER), 403, "forbidden"
    )
    assert (await api.get("/v1.0/jobs", headers=ADMIN)).json()["jobs"] == []


async def test_pages_newest_first_with_links(api: httpx.AsyncClient, override: Override) -> None:
    made = [(await create(api, port_delete(port=f"p{i}")))["id"] for i in range(5)]
    newest_first = made[::-1]
    seen: list[str] = []
    url = "/v1.0/jobs/detail?limit=2&type=port_delete"
    while url:
        body = (await api.get(url, headers=ADMIN)).json()
        seen += [j["id"] for j in body["jobs"]]
        links = body["jobs_links"]
        url = links[0]["href"].removeprefix("http://atoll.test") if links else ""
        if url:
            assert url.startswith("/v1.0/jobs/detail?type=port_delete&limit=2&marker=")
    assert seen == newest_first
    after = (await api.get(f"/v1.0/jobs?marker={made[2]}", headers=ADMIN)).json()
    assert [j["id"] for j in after["jobs"]] == made[:2][::-1]
    bad = await api.get("/v1.0/jobs?marker=no-such-job", headers=ADMIN)
    assert fault(bad, 400, "badRequest") == "Invalid marker: no-such-job."
    override("max_limit", 3, "api")
    capped = (await api.get("/v1.0/jobs?limit=50", headers=ADMIN)).json()
    assert len(capped["jobs"]) == 3
    assert "limit=3" in capped["jobs_links"][0]["href"]


async def test_filters(api: httpx.AsyncClient, sessions: Sessions) -> None:
    a = await create(api, port_delete())
    b = await create(api, port_delete(project="project-b"))
    router = {"pod_id": "p", "router_id": "r", "network_id": "n"}
    c = await create(api, {"job": {"type": "router_setup", "project_id": "project-a", "resource": router}})
    await set_status(sessions, c["id"], "FAIL", reason="no such router")

    async def ids(query: str) -> list[str]:
        response = await api.get(f"/v1.0/jobs?{query}", headers=ADMIN)
        assert response.status_code == 200, response.text
        return [j["id"] for j in response.json()["jobs"]]

    assert await ids("type=port_delete") == [b["id"], a["id"]]
    assert await ids("status=fail") == [c["id"]]
    assert await ids("status=New") == [b["id"], a["id"]]
    assert await ids("project_id=project-b") == [b["id"]]
    assert await ids("type=router_setup&status=FAIL&project_id=project-a") == [c["id"]]
    assert "status" in fault(await api.get("/v1.0/jobs?status=DONE", headers=ADMIN), 400, "badRequest")
    assert "sort_key" in fault(await api.get("/v1.0/jobs?sort_key=id", headers=ADMIN), 400, "badRequest")


@pytest.fixture
async def world(api: httpx.AsyncClient, sessions: Sessions) -> dict[str, Any]:
    """A failed job of project-a and one of project-b."""
    a = await create(api, port_delete("project-a"))
    b = await create(api, port_delete("project-b"))
    for job in (a, b):
        await set_status(sessions, job["id"], "FAIL", reason="pod down", attempts=10)
    return {"a": a["id"], "b": b["id"]}


async def test_a_project_sees_only_its_own_jobs(api: httpx.AsyncClient, world: dict[str, Any]) -> None:
    mine = (await api.get("/v1.0/jobs", headers=MEMBER)).json()["jobs"]
    assert [j["id"] for j in mine] == [world["a"]]
    theirs = (await api.get("/v1.0/jobs?status=FAIL", headers=READER_B)).json()["jobs"]
    assert [j["id"] for j in theirs] == [world["b"]]
    everyone = (await api.get("/v1.0/jobs", headers=ADMIN)).json()["jobs"]
    assert {j["id"] for j in everyone} == {world["a"], world["b"]}
    forbidden = await api.get("/v1.0/jobs?project_id=project-a", headers=READER_B)
    assert "atoll:jobs:list" in fault(forbidden, 403, "forbidden")
    other_marker = await api.get(f"/v1.0/jobs?marker={world['a']}", headers=READER_B)
    assert fault(other_marker, 400, "badRequest") == f"Invalid marker: {world['a']}."


async def test_another_projects_job_is_not_found(api: httpx.AsyncClient, world: dict[str, Any]) -> None:
    other = world["a"]
    expected = f"Job {other} could not be found."
    assert fault(await api.get(f"/v1.0/jobs/{other}", headers=MEMBER_B), 404, "itemNotFound") == expected
    assert fault(await api.put(f"/v1.0/jobs/{other}", headers=MEMBER_B), 404, "itemNotFound") == expected
    assert fault(await api.delete(f"/v1.0/jobs/{other}", headers=MEMBER_B), 404, "itemNotFound") == expected
    shown = (await api.get(f"/v1.0/jobs/{other}", headers=ADMIN)).json()["job"]
    assert (shown["status"], shown["attempts"], shown["reason"]) == ("FAIL", 10, "pod down")


async def test_a_member_redoes_its_own_failed_job(api: httpx.AsyncClient, world: dict[str, Any]) -> None:
    # Tricircle's client sends PUT with no body
    response = await api.put(f"/v1.0/jobs/{world['b']}", headers={**MEMBER_B, "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    job = response.json()["job"]
    assert (job["status"], job["attempts"], job["reason"]) == ("NEW", 0, "")
    reader = await api.put(f"/v1.0/jobs/{world['b']}", json={}, headers=READER_B)
    assert "atoll:jobs:redo" in fault(reader, 403, "forbidden")
    body = await api.put(f"/v1.0/jobs/{world['b']}", json={"job": {"status": "NEW"}}, headers=ADMIN)
    assert "Unknown field job" in fault(body, 400, "badRequest")


async def test_redo_and_delete_follow_the_job_state(
    api: httpx.AsyncClient, sessions: Sessions, world: dict[str, Any]
) -> None:
    job_id = world["a"]
    await set_status(sessions, job_id, "SUCCESS")
    message = fault(await api.put(f"/v1.0/jobs/{job_id}", headers=ADMIN), 409, "conflictingRequest")
    assert message == f"Job {job_id} is SUCCESS; only NEW or FAIL jobs can be redone."
    await set_status(sessions, job_id, "RUNNING", run_at=utcnow() + dt.timedelta(seconds=30))
    assert "is RUNNING" in fault(await api.put(f"/v1.0/jobs/{job_id}", headers=ADMIN), 409, "conflictingRequest")
    deleted = await api.delete(f"/v1.0/jobs/{job_id}", headers=ADMIN)
    assert fault(deleted, 409, "conflictingRequest") == f"Job {job_id} is running; delete it when it has finished."
    assert "atoll:jobs:delete" in fault(await api.delete(f"/v1.0/jobs/{job_id}", headers=MEMBER), 403, "forbidden")
    # a RUNNING job whose lease expired has lost its worker: it may go
    await set_status(sessions, job_id, "RUNNING", run_at=utcnow() - dt.timedelta(seconds=1))
    assert (await api.delete(f"/v1.0/jobs/{job_id}", headers=ADMIN)).json() == {}
    assert (await api.get(f"/v1.0/jobs/{job_id}", headers=ADMIN)).status_code == 404


async def test_a_parent_job_and_its_children(api: httpx.AsyncClient, sessions: Sessions) -> None:
    child = INTERNAL
    async with sessions.begin() as session:
        kids = [NewJob(child, "project-a", {"image_id": f"i{n}"}) for n in range(3)]
        parent_id = await enqueue(session, NewJob(SYNC, "project-a", {"resource_type": "image"}, children=kids))
    claims = await claim(sessions, owner="w", types=["image_copy"], limit=3, now=utcnow(), lease_time=30)
    await finish(sessions, claims[0], Done(), utcnow())
    await finish(sessions, claims[1], Fail("Pod2 is full"), utcnow())
    parent = (await api.get(f"/v1.0/jobs/{parent_id}", headers=MEMBER)).json()["job"]
    assert parent["status"] == "RUNNING"
    assert parent["progress"] == {"children": {"NEW": 0, "RUNNING": 1, "SUCCESS": 1, "FAIL": 1}}
    children = (await api.get(f"/v1.0/jobs?parent_id={parent_id}", headers=MEMBER)).json()["jobs"]
    assert [(c["status"], c["reason"]) for c in children] == [
        ("RUNNING", ""),
        ("FAIL", "Pod2 is full"),
        ("SUCCESS", ""),
    ]
    refused = await api.delete(f"/v1.0/jobs/{children[1]['id']}", headers=ADMIN)
    assert fault(refused, 409, "conflictingRequest") == (
        f"Job {children[1]['id']} is part of job {parent_id}; delete that job instead."
    )
    assert "has running jobs" in fault(
        await api.delete(f"/v1.0/jobs/{parent_id}", headers=ADMIN), 409, "conflictingRequest"
    )
    assert len((await api.get(f"/v1.0/jobs?parent_id={parent_id}", headers=ADMIN)).json()["jobs"]) == 3
    await finish(sessions, claims[2], Done(), utcnow())
    assert (await api.get(f"/v1.0/jobs/{parent_id}", headers=MEMBER)).json()["job"]["status"] == "FAIL"
    redone = (await api.put(f"/v1.0/jobs/{parent_id}", headers=MEMBER)).json()["job"]
    assert (redone["status"], redone["progress"]["children"]) == (
        "RUNNING",
        {"NEW": 1, "RUNNING": 0, "SUCCESS": 2, "FAIL": 0},
    )
    assert (await api.delete(f"/v1.0/jobs/{parent_id}", headers=ADMIN)).json() == {}
    assert (await api.get("/v1.0/jobs", headers=ADMIN)).json()["jobs"] == []
