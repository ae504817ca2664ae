"""Property-based run of the admin API against its own OpenAPI schema (SQLite only).

Every operation gets generated valid and invalid requests as the admin; the
answers must never be a 5xx, must use a documented status code and content
type, and must match the documented response schema. Bounded and
derandomized so a CI run is reproducible and takes well under two minutes.
"""

from __future__ import annotations

import pathlib
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.ext.asyncio import create_async_engine

from atoll.api.app import create_app
from atoll.conf import new_config
from atoll.db import migration
from atoll.db.engine import async_url, session_factory
from tests.conftest import ADMIN, FakeValidator

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# Loaded at import, as `schema.parametrize()` needs (schemathesis' lazy `from_fixture`
# does not work with pytest 9). Nothing touches the database until the tests run.
_STATE = pathlib.Path(tempfile.mkdtemp(prefix="atoll-schemathesis-"))
_URL = f"sqlite:///{_STATE}/atoll.sqlite"
# schemathesis calls the app from its own event-loop thread; without a pool no
# connection outlives the request (and the loop) that opened it.
_ENGINE = create_async_engine(async_url(_URL), poolclass=sa.pool.NullPool)
sa.event.listen(_ENGINE.sync_engine, "connect", _sqlite_foreign_keys)
_APP = create_app(new_config(), sessions=session_factory(_ENGINE), validator=FakeValidator())
schema = schemathesis.openapi.from_asgi("/openapi.json", _APP)


@pytest.fixture(scope="module", autouse=True)
def _database() -> Iterator[None]:
    migration.upgrade(_URL)
    yield
    shutil.rmtree(_STATE, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_schema(case: Any) -> None:
    case.call_and_validate(headers=ADMIN, checks=CHECKS)
