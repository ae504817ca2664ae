"""The migrations build exactly the models' schema, on every backend, from an empty database."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from atoll.db import migration
from atoll.db.engine import create_engine
from atoll.db.models import Base
from tests import conftest
from tests.conftest import selected_backends

HEAD = ScriptDirectory.from_config(migration.alembic_config("sqlite://")).get_current_head()


async def _inspect(url: str) -> tuple[list[Any], set[str]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:

            def compare(sync: sa.Connection) -> tuple[list[Any], set[str]]:
                diff = compare_metadata(MigrationContext.configure(sync), Base.metadata)
                return list(diff), set(sa.inspect(sync).get_table_names())

            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", selected_backends())
def test_upgrade_matches_models_and_downgrade_removes_everything(
    backend: str, test_databases: conftest.TestDatabases
) -> None:
    url = test_databases.new(backend)
    assert migration.current(url) == ""

    migration.upgrade(url)
    diff, tables = asyncio.run(_inspect(url))
    assert diff == []
    assert tables == {"alembic_version", *Base.metadata.tables}
    assert HEAD is not None
    assert migration.current(url).startswith(f"{HEAD} (head)")

    migration.upgrade(url)  # idempotent at head
    assert migration.current(url).startswith(HEAD)

    migration.downgrade(url, "base")
    diff, tables = asyncio.run(_inspect(url))
    assert tables <= {"alembic_version"}
    assert migration.current(url) == ""


def test_a_percent_in_the_url_is_not_interpolated() -> None:
    config = migration.alembic_config("postgresql://user:p%25ss@host/db")
    assert config.get_main_option("sqlalchemy.url") == "postgresql://user:p%25ss@host/db"
