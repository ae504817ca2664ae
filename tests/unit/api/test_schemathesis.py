"""Property-based run of the admin API against its own OpenAPI schema (SQLite only).

Every operation gets generated valid and invalid requests as the admin; the
answers must never be a 5xx, must use a documented status code and content
type, and must match the documented response schema. Bounded and
derandomized so a CI run is reproducible and takes well under two minutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from atoll.api.app import create_app
from atoll.conf import new_config
from atoll.db import migration
from atoll.db.engine import async_url, session_factory
from atoll.inventory import ResourceView
from atoll.jobs.declarations import JobRun, JobType, JobTypes
from atoll.jobs.outcomes import Outcome
from atoll.pods.info import PodInfo
from atoll.pods.pool import PodClients
from atoll.pods.registry import PodRegistry
from atoll.sync import handlers as sync_handlers
from atoll.sync import policy_jobs
from tests.conftest import ADMIN, FakeValidator

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


async def _never_run(run: JobRun) -> Outcome:
    raise AssertionError("no worker runs in this test")


# Declared job types, so that POST /v1.0/jobs (its documented example is a port_delete) creates jobs.
# And sync's, as every atoll-api has them (no pod is registered, so no sync request gets that far).
JOB_TYPES = JobTypes(
    [
        JobType("port_delete", ("pod_id", "port_id"), _never_run, api_create=True),
        *sync_handlers.job_types(None),
        *policy_jobs.job_types(None),
    ]
)


async def _no_pods() -> list[PodInfo]:
    return []


async def _token(renew: bool) -> str:
    return "service-token"


def _view() -> ResourceView:
    """/v1.0/resources over no pods: its input checks and its (empty) answer."""
    return ResourceView(PodRegistry(_no_pods), PodClients(), _token, timeout=1.0, max_limit=1000)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The admin API on a migrated SQLite database, made only when the test runs."""
    url = f"sqlite:///{tmp_path_factory.mktemp('schemathesis')}/atoll.sqlite"
    migration.upgrade(url)
    # schemathesis calls the app from its own event-loop thread; without a pool no
    # connection outlives the request (and the loop) that opened it.
    engine = create_async_engine(async_url(url), poolclass=sa.pool.NullPool)
    sa.event.listen(engine.sync_engine, "connect", _sqlite_foreign_keys)
    yield create_app(
        new_config(),
        sessions=session_factory(engine),
        validator=FakeValidator(),
        job_types=JOB_TYPES,
        resource_view=_view(),
    )
    engine.sync_engine.dispose()


# `parametrize()` needs the schema at collection, and schemathesis' lazy `from_fixture`
# fails on pytest 9 (it sets `Function._nodeid`): so the document is read at import from an
# app with no database (an unbound sessionmaker opens nothing), and each case calls the
# `app` fixture's app, which has one.
schema = schemathesis.openapi.from_asgi(
    "/openapi.json",
    create_app(new_config(), sessions=async_sessionmaker(), validator=FakeValidator(), job_types=JOB_TYPES),
)


@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_schema(case: Any, app: FastAPI) -> None:
    case.call_and_validate(app=app, headers=ADMIN, checks=CHECKS)
