"""Order items exactly as the pods' databases do, or the merged stream is not sorted.

Each pod sorts with ``ORDER BY`` in its own database, and the merge must agree
with every one of them. Two things differ between databases:

- **Strings.** MySQL and MariaDB tables of OpenStack services use
  ``utf8mb3_general_ci`` (``utf8mb4_general_ci`` for newer tables): 'abc',
  'ABC' and 'Åbc ' are *equal* (case and accents fold, trailing spaces are
  padding), so the next sort key decides between them. PostgreSQL with the
  ``C`` collation, SQLite and MySQL's ``*_bin`` collations compare code points.
  `StringOrder.GENERAL_CI` folds a character as general_ci does: Latin,
  Greek and Cyrillic letters lose their accents, then take their upper case;
  'ß' is 'S'; characters outside the BMP are all equal (U+FFFD). Checked
  against MariaDB's ``WEIGHT_STRING`` for every BMP character: it matches for
  all of U+0000-U+017F and for 62,942 of 63,456; the 514 others are letters
  whose case pair came into Unicode after general_ci's table was made (e.g.
  U+0180 'ƀ', Georgian, Cherokee, Glagolitic, Latin Extended-C/D), which
  MariaDB leaves as they are and Python upper-cases. PostgreSQL databases
  created with a linguistic collation (``en_US.UTF-8``) are not modelled.
- **NULL.** MySQL, MariaDB and SQLite put NULL below every value (first when
  ascending, last when descending); PostgreSQL puts it above every value.

Timestamps (ISO 8601 with or without ``Z``, an offset or microseconds) compare
as instants, naive ones as UTC; numbers and booleans as numbers. Values of
mixed types (a service bug) never raise: numbers < timestamps < strings.

`sort_key(fields, order)` turns an item into a tuple that Python compares in
the database's order, descending keys included, so `heapq` and `sorted`
work on it directly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from atoll.listing.errors import UnmergeableSort
from atoll.listing.fields import MISSING, Field, Kind, Scalar

Key = tuple[Any, ...]


class StringOrder(enum.Enum):
    GENERAL_CI = "general_ci"
    BINARY = "binary"


@dataclasses.dataclass(frozen=True)
class DatabaseOrder:
    """How the pods' databases order strings and NULLs (all pods must agree)."""

    strings: StringOrder = StringOrder.GENERAL_CI
    null_is_smallest: bool = True


MYSQL = DatabaseOrder()
POSTGRESQL = DatabaseOrder(StringOrder.BINARY, null_is_smallest=False)
SQLITE = DatabaseOrder(StringOrder.BINARY, null_is_smallest=True)

_LATEST = dt.datetime.max.replace(tzinfo=dt.UTC)
_NUMBER, _TIMESTAMP, _STRING = 0, 1, 2


@functools.lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    code = ord(char)
    if code > 0xFFFF:
        return "\ufffd"
    if char == "ß":
        return "S"
    if code < 0x530 or 0x1E00 <= code < 0x2000:
        parts = unicodedata.normalize("NFD", char)
        if len(parts) > 1 and all(unicodedata.combining(mark) for mark in parts[1:]):
            char = parts[0]
    upper = char.upper()
    return upper if len(upper) == 1 else char


# PAD SPACE compares a shorter string as if padded with spaces, so 'a\t' < 'a' < 'a b'.
# A key that plain string comparison orders the same way: characters above the
# space stay as they are; a run of spaces before a character, or a control
# character, becomes a token whose class sorts below any kept character; the end
# of the string is a token between the two classes (it stands for endless spaces).
_LOW_RUN, _END, _HIGH_RUN = "\x01", "\x02", "\x03"
_MAX_RUN = 0xFFFF
_RUNS = re.compile(r" *[\x00-\x1f]| +[^ ]")
_SPACE_OR_CONTROL = re.compile(r"[\x00-\x20]")


def _run_token(match: re.Match[str]) -> str:
    text = match.group()
    spaces, last = min(len(text) - 1, _MAX_RUN), text[-1]
    if last < " ":
        return _LOW_RUN + chr(spaces) + last
    return _HIGH_RUN + chr(_MAX_RUN - spaces) + last


def _general_ci(text: str) -> str:
    folded = text.upper() if text.isascii() else "".join(map(_fold_char, text))
    folded = folded.rstrip(" ")
    if not _SPACE_OR_CONTROL.search(folded):
        return folded + _END
    return _RUNS.sub(_run_token, folded) + _END


_INVERT = bytes(range(0xF4, -1, -1)) + bytes(0xFF - 0xF4)


def _descending(text: str) -> bytes:
    # UTF-8 bytes order like code points and never exceed 0xF4, so mapping b -> 0xF4-b
    # reverses the order; the 0xF5 terminator puts a longer string first.
    return text.encode("utf-8", "surrogatepass").translate(_INVERT) + b"\xf5"


def _timestamp(text: str) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when


def _typed(value: Scalar, kind: Kind, collate: Callable[[str], str]) -> tuple[int, Any]:
    """(type rank, comparable) of a non-null value."""
    if not isinstance(value, str):
        return _NUMBER, value
    if kind is Kind.TIMESTAMP:
        instant = _timestamp(value)
        if instant is not None:
            return _TIMESTAMP, instant
    elif kind is Kind.BOOLEAN and value.lower() in ("true", "false"):
        return _NUMBER, value.lower() == "true"
    return _STRING, collate(value)


Component = Callable[[Scalar], Key]


def component(kind: Kind, ascending: bool, order: DatabaseOrder) -> Component:
    """A function giving the comparable form of one sort value of this kind and direction."""
    collate: Callable[[str], str] = _general_ci if order.strings is StringOrder.GENERAL_CI else str
    plain = kind is Kind.STRING  # a string value needs no parsing
    if ascending:
        null: Key = (0,) if order.null_is_smallest else (2,)

        def up(value: Scalar) -> Key:
            if plain and value.__class__ is str:
                return (1, _STRING, collate(value))
            if value is None:
                return null
            rank, comparable = _typed(value, kind, collate)
            return (1, rank, comparable)

        return up
    null = (0,) if order.null_is_smallest else (-2,)

    def down(value: Scalar) -> Key:
        if plain and value.__class__ is str:
            return (-1, -_STRING, _descending(collate(value)))
        if value is None:
            return null
        rank, comparable = _typed(value, kind, collate)
        if rank == _STRING:
            return (-1, -rank, _descending(comparable))
        return (-1, -rank, _LATEST - comparable if rank == _TIMESTAMP else -comparable)

    return down


def missing(field: Field) -> UnmergeableSort:
    return UnmergeableSort(
        f"Cannot sort across pods by {field.key!r}: the listed items do not show it "
        f"(it may need an admin token or a newer microversion)."
    )


def sort_key(keys: Sequence[tuple[Field, bool]], order: DatabaseOrder) -> Callable[[Mapping[str, Any]], Key]:
    """A function giving an item's comparable key for these (field, ascending) sort keys.

    It raises `UnmergeableSort` for an item that does not show a sort key's value.
    """
    parts = [_part(field, component(field.kind, ascending, order)) for field, ascending in keys]
    return lambda item: tuple([part(item) for part in parts])


def _part(field: Field, convert: Component) -> Callable[[Mapping[str, Any]], Key]:
    get = field.getter()

    def part(item: Mapping[str, Any]) -> Key:
        value = get(item)
        if value is MISSING:
            raise missing(field)
        return convert(value)

    return part


def values_key(keys: Sequence[tuple[Field, bool]], order: DatabaseOrder, values: Sequence[Scalar]) -> Key:
    """The comparable key of raw sort values (as kept in a marker); as many values as keys."""
    return tuple(
        component(field.kind, ascending, order)(value) for (field, ascending), value in zip(keys, values, strict=True)
    )
