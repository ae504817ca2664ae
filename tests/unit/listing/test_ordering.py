"""The merge's comparison against the real thing: ORDER BY in MariaDB, PostgreSQL and SQLite.

Each test stores values in a column typed as OpenStack services type it
(MariaDB: ``utf8mb3_general_ci``; PostgreSQL: ``COLLATE "C"``), asks the
database for ``ORDER BY v <dir>, id``, and checks that sorting the values as
a pod's API shows them, by `atoll.listing.ordering`, gives the same ids.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from atoll.db.engine import create_engine
from atoll.listing.errors import UnmergeableSort
from atoll.listing.fields import Field, Kind
from atoll.listing.ordering import MYSQL, POSTGRESQL, SQLITE, DatabaseOrder, sort_key
from tests import conftest
from tests.conftest import selected_backends

ORDERS: dict[str, DatabaseOrder] = {"mysql": MYSQL, "postgresql": POSTGRESQL, "sqlite": SQLITE}
STRING = {
    "mysql": "VARCHAR(255) CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci",
    "postgresql": 'VARCHAR(255) COLLATE "C"',
    "sqlite": "VARCHAR(255)",
}
TIMESTAMP = {"mysql": "DATETIME(6)", "postgresql": "TIMESTAMP", "sqlite": "DATETIME"}

# fmt: off
CURATED = [
    "", " ", "a", "a ", "a  ", "a\t", "a\n", "a\x01", "a\tb", "a b", "a  b", "ab", "A", "B", "b", "Z", "_", "-",
    "~", "à", "á", "â", "ä", "å", "À", "Å", "æ", "Æ", "ç", "Ç", "é", "É", "e", "E", "ß", "s", "S", "ss",
    "\u017f", "ø", "Ø", "o", "ð", "Ð", "þ", "Þ", "ÿ", "Ÿ", "y", "µ", "Ǣ", "ǣ", "ĳ", "Ĳ", "ŉ", "\u00d7",
    "\u00f7", "¿", "¡", "web-01", "web-1", "web-10", "Web-2", "web 2", "web_2", "\u03b1", "\u0391", "ά", "Ω",
    "ω", "я", "Я", "ё", "Ё", "\u0435", "中", "文", "日本", "\u00a0", "a\u00a0", None, None,
]
# fmt: on


def alphabet() -> list[str]:
    chars = [chr(c) for c in range(0x20, 0x7F)] + ["\t", "\n", "\x01", "\x1f"]
    chars += [chr(c) for c in range(0xA0, 0x180)]
    chars += [chr(c) for c in range(0x386, 0x3CF) if chr(c).isprintable()]
    chars += [chr(c) for c in range(0x400, 0x460)]
    return [*chars, "中", "文", "한", "ー"]


def generated(count: int = 400, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    letters = alphabet()
    words = ["", "a", "A", " ", "web", "WEB"]
    return [rng.choice(words) + "".join(rng.choices(letters, k=rng.randint(0, 6))) for _ in range(count)]


@pytest.fixture(scope="module", params=selected_backends())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def database(backend: str, test_databases: conftest.TestDatabases) -> str:
    return test_databases.new(backend)


@pytest.fixture
async def engine(database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database)
    try:
        yield engine
    finally:
        await engine.dispose()


async def database_order(engine: AsyncEngine, column: str, values: Sequence[Any], direction: str) -> list[int]:
    table = f"t_{uuid.uuid4().hex[:10]}"
    async with engine.begin() as conn:
        await conn.execute(sa.text(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, v {column})"))
        await conn.execute(
            sa.text(f"INSERT INTO {table} (id, v) VALUES (:id, :v)"), [{"id": i, "v": v} for i, v in enumerate(values)]
        )
        rows = await conn.execute(sa.text(f"SELECT id FROM {table} ORDER BY v {direction}, id ASC"))
        ordered = [row[0] for row in rows]
        await conn.execute(sa.text(f"DROP TABLE {table}"))
    return ordered


def our_order(shown: Sequence[Any], kind: Kind, ascending: bool, order: DatabaseOrder) -> list[int]:
    key = sort_key([(Field("v", ("v",), kind), ascending), (Field("id", ("id",), Kind.NUMBER), True)], order)
    return [item["id"] for item in sorted(({"id": i, "v": v} for i, v in enumerate(shown)), key=key)]


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_strings_sort_as_the_database_sorts_them(backend: str, engine: AsyncEngine, direction: str) -> None:
    values = CURATED + generated()
    expected = await database_order(engine, STRING[backend], values, direction)
    assert our_order(values, Kind.STRING, direction == "ASC", ORDERS[backend]) == expected


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_numbers_and_nulls_sort_as_the_database_sorts_them(
    backend: str, engine: AsyncEngine, direction: str
) -> None:
    values = [3, None, -1, 0, 10, None, 2, 2, 7, -20]
    expected = await database_order(engine, "INTEGER", values, direction)
    assert our_order(values, Kind.NUMBER, direction == "ASC", ORDERS[backend]) == expected


FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f+00:00", "%Y-%m-%d %H:%M:%S.%f")


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_timestamps_in_any_service_format_sort_as_instants(
    backend: str, engine: AsyncEngine, direction: str
) -> None:
    rng = random.Random(3)
    base = dt.datetime(2026, 5, 1, 12, 0, 0)
    stored: list[dt.datetime | None] = [
        base + dt.timedelta(seconds=rng.randint(0, 5), microseconds=rng.choice([0, 0, 1, 500000, 999999]))
        for _ in range(40)
    ]
    stored += [None, None]
    shown = [
        None if when is None else when.strftime(FORMATS[0] if when.microsecond == 0 else rng.choice(FORMATS[1:]))
        for when in stored
    ]
    expected = await database_order(engine, TIMESTAMP[backend], stored, direction)
    assert our_order(shown, Kind.TIMESTAMP, direction == "ASC", ORDERS[backend]) == expected


@pytest.fixture(scope="module")
def mysql_database(test_databases: conftest.TestDatabases) -> str:
    return test_databases.new("mysql")


@pytest.mark.skipif("mysql" not in selected_backends(), reason="a MySQL/MariaDB collation")
async def test_characters_beyond_the_bmp_are_all_equal_in_utf8mb4_general_ci(mysql_database: str) -> None:
    engine = create_engine(mysql_database)
    try:
        values = ["\U0001f600", "a", "\U0001f4a9", "\ufffd", "\U00010000", "b", "\U0001f600x", "\ufffdy"]
        column = "VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
        expected = await database_order(engine, column, values, "ASC")
    finally:
        await engine.dispose()
    assert our_order(values, Kind.STRING, True, MYSQL) == expected


def test_mixed_types_never_raise_and_keep_numbers_below_timestamps_below_strings() -> None:
    shown = ["b", 2, None, "2026-01-01T00:00:00Z", True, "a", 1.5, "not a time"]
    assert our_order(shown, Kind.TIMESTAMP, True, MYSQL) == [2, 4, 6, 1, 3, 5, 0, 7]
    assert our_order(shown, Kind.TIMESTAMP, False, MYSQL) == [7, 0, 5, 3, 1, 6, 4, 2]


def test_a_list_where_a_sort_value_belongs_is_unmergeable() -> None:
    with pytest.raises(UnmergeableSort, match="'v'"):
        our_order(["a", ["x"]], Kind.STRING, True, MYSQL)


def test_booleans_shown_as_strings_sort_as_booleans() -> None:
    assert our_order(["true", "false", None, "True", "FALSE"], Kind.BOOLEAN, True, MYSQL) == [2, 1, 4, 0, 3]
