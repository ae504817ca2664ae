"""/v1.0/jobs of a real atoll-api with real Keystone tokens: a project sees only its own jobs."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from keystoneauth1 import session
from keystoneauth1.identity import v3

from atoll.db.engine import create_engine, session_factory
from atoll.jobs.declarations import JobRun, JobType
from atoll.jobs.enqueue import NewJob, enqueue
from atoll.jobs.outcomes import Outcome
from tests.functional.conftest import AtollProcesses

pytestmark = pytest.mark.keystone


async def _not_run_here(run: JobRun) -> Outcome:
    raise AssertionError("no engine of this test declares this type")


CLEANUP = JobType("functional_cleanup", ("port_id",), _not_run_here)


def project_of(auth_url: str, creds: dict[str, Any]) -> str:
    auth = v3.Password(
        auth_url=auth_url,
        username=creds["username"],
        password=creds["password"],
        project_name=creds["project_name"],
        user_domain_id="default",
        project_domain_id="default",
    )
    return str(session.Session(auth=auth).get_project_id())


def add_jobs(atoll: AtollProcesses, projects: list[str]) -> list[str]:
    async def run() -> list[str]:
        engine = create_engine(f"sqlite:///{atoll.workdir}/state/atoll.sqlite")
        try:
            async with session_factory(engine).begin() as db:
                return [await enqueue(db, NewJob(CLEANUP, p, {"port_id": f"port-{i}"})) for i, p in enumerate(projects)]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_a_member_cannot_see_redo_or_delete_another_projects_jobs(
    atoll: AtollProcesses, keystone: Any, tokens: dict[str, str]
) -> None:
    creds = keystone.info["credentials"]
    demo, alt = project_of(keystone.auth_url, creds["demo"]), project_of(keystone.auth_url, creds["alt"])
    demo_job, alt_job = add_jobs(atoll, [demo, alt])
    as_demo, as_alt, as_admin = ({"X-Auth-Token": tokens[who]} for who in ("demo", "alt", "admin"))
    with httpx.Client(base_url=atoll.url, timeout=30) as http:
        listed = http.get("/v1.0/jobs?type=functional_cleanup", headers=as_demo)
        assert listed.status_code == 200, listed.text
        assert [j["id"] for j in listed.json()["jobs"]] == [demo_job]
        assert [j["id"] for j in http.get("/v1.0/jobs/detail", headers=as_alt).json()["jobs"]] == [alt_job]
        for method in ("GET", "PUT", "DELETE"):
            response = http.request(method, f"/v1.0/jobs/{demo_job}", headers=as_alt)
            assert response.status_code == 404, (method, response.text)
            assert response.json() == {"itemNotFound": {"code": 404, "message": f"Job {demo_job} could not be found."}}
        assert http.get(f"/v1.0/jobs?project_id={demo}", headers=as_alt).status_code == 403
        redone = http.put(f"/v1.0/jobs/{demo_job}", headers=as_demo)
        assert redone.status_code == 200, redone.text
        assert (redone.json()["job"]["status"], redone.json()["job"]["attempts"]) == ("NEW", 0)
        assert http.delete(f"/v1.0/jobs/{demo_job}", headers=as_demo).status_code == 403
        everyone = http.get("/v1.0/jobs?type=functional_cleanup", headers=as_admin).json()["jobs"]
        assert {j["id"] for j in everyone} == {demo_job, alt_job}
        for job_id in (demo_job, alt_job):
            assert http.delete(f"/v1.0/jobs/{job_id}", headers=as_admin).json() == {}
