"""Shared fixtures: database backends, an in-process app with a fake token validator."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.api.app import create_app
from atoll.conf import new_config
from atoll.core.errors import Unauthorized
from atoll.db import migration
from atoll.db.engine import async_url, create_engine, session_factory
from atoll.db.models import Base
from atoll.openstack.keystone import AUTH_REQUIRED, TokenInfo

pytest_plugins = ["testbed.pytest_plugin"]

BACKENDS = ("sqlite", "postgresql", "mysql")
SERVER_URLS = {
    "postgresql": os.environ.get("ATOLL_TEST_POSTGRESQL_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    "mysql": os.environ.get("ATOLL_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/mysql"),
}


def selected_backends() -> list[str]:
    wanted = os.environ.get("ATOLL_TEST_DATABASES", ",".join(BACKENDS))
    chosen = [b.strip() for b in wanted.split(",") if b.strip()]
    unknown = set(chosen) - set(BACKENDS)
    if unknown:
        raise pytest.UsageError(f"ATOLL_TEST_DATABASES names unknown backends: {sorted(unknown)}")
    return chosen


async def _admin(server_url: str, statement: str) -> None:
    engine = create_engine(server_url)
    try:
        async with engine.connect() as raw:
            conn = await raw.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


class TestDatabases:
    """One throw-away database per backend for the whole session."""

    def __init__(self, tmp: str) -> None:
        self.tmp = tmp
        self.urls: dict[str, str] = {}
        self.created: list[tuple[str, str]] = []

    def url(self, backend: str) -> str:
        if backend not in self.urls:
            self.urls[backend] = self.new(backend)
            migration.upgrade(self.urls[backend])
        return self.urls[backend]

    def new(self, backend: str) -> str:
        """A new empty database; dropped at the end of the session."""
        name = f"atoll_test_{uuid.uuid4().hex[:12]}"
        if backend == "sqlite":
            return f"sqlite:///{self.tmp}/{name}.sqlite"
        server = SERVER_URLS[backend]
        asyncio.run(_admin(server, f"CREATE DATABASE {name}"))
        self.created.append((backend, name))
        return str(sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False))

    def drop_all(self) -> None:
        for backend, name in self.created:
            asyncio.run(_admin(SERVER_URLS[backend], f"DROP DATABASE IF EXISTS {name}"))


@pytest.fixture(scope="session")
def test_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestDatabases]:
    dbs = TestDatabases(str(tmp_path_factory.mktemp("db")))
    yield dbs
    dbs.drop_all()


@pytest.fixture(params=selected_backends())
def db_url(request: pytest.FixtureRequest, test_databases: TestDatabases) -> str:
    """A migrated database of each selected backend (emptied before each test)."""
    return test_databases.url(request.param)


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(db_url)
    async with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(table.delete())
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


def token(roles: tuple[str, ...], project: str = "project-a", user: str = "user-a") -> TokenInfo:
    return TokenInfo(
        user_id=user,
        project_id=project,
        domain_id=None,
        project_domain_id="default",
        roles=roles,
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )


class FakeValidator:
    """Known tokens: "admin", "member" (project-a), "reader-b" (project-b), "member-b"."""

    TOKENS = {
        "admin": token(("admin", "member", "reader"), project="admin-project", user="admin-user"),
        "member": token(("member", "reader")),
        "reader-b": token(("reader",), project="project-b", user="user-b"),
        "member-b": token(("member", "reader"), project="project-b", user="user-b"),
    }

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def validate(self, token: str) -> TokenInfo:
        self.seen.append(token)
        if token not in self.TOKENS:
            raise Unauthorized(AUTH_REQUIRED)
        return self.TOKENS[token]


@pytest.fixture(autouse=True, scope="session")
def _garbage_collected_at_the_end() -> Iterator[None]:
    """Collect the garbage once the session's fixtures are closed.

    `filterwarnings = error` fails a test whose leaked file or socket is freed while it runs;
    one in a reference cycle is freed only by the collector, often after the session, where
    nobody hears its ResourceWarning. Collected here, it fails the last test's teardown.
    """
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def _httpx_clients_are_closed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test that leaves open an httpx client it (or its function-scoped fixtures) made.

    A client on `httpx.MockTransport` holds no socket, so Python never warns about it; it still
    stands for a pool that a real transport would leak. Clients of wider-scoped fixtures are made
    before this fixture starts watching.
    """
    opened: list[httpx.Client | httpx.AsyncClient] = []
    for cls in (httpx.Client, httpx.AsyncClient):
        init = cls.__init__

        def watched(self: Any, *args: Any, _init: Any = init, **kwargs: Any) -> None:
            _init(self, *args, **kwargs)
            opened.append(self)

        monkeypatch.setattr(cls, "__init__", watched)
    yield
    left_open = [client for client in opened if not client.is_closed]
    assert not left_open, f"the test left {len(left_open)} httpx client(s) open: {left_open}"


ADMIN = {"X-Auth-Token": "admin"}
MEMBER = {"X-Auth-Token": "member"}
READER_B = {"X-Auth-Token": "reader-b"}


@pytest.fixture
def conf() -> object:
    return new_config()


@pytest.fixture
async def client(sessions: async_sessionmaker[AsyncSession], conf: object) -> AsyncIterator[httpx.AsyncClient]:
    """The admin API in-process, on each database backend, with fake tokens (see `FakeValidator`)."""
    app = create_app(conf, sessions=sessions, validator=FakeValidator())  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://atoll.test") as http:
        yield http


__all__ = ["ADMIN", "MEMBER", "READER_B", "async_url"]
