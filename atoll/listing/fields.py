"""Sortable collections, declared as data: which sort keys a service takes and where each shows in an item.

A merge can only order items by values it can see, so every sort key is tied
to the JSON path of its value in a listed item (Nova sorts by the database
column ``display_name`` and shows it as ``name``).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping
from typing import Any

from atoll.listing.errors import PodUnavailable
from atoll.types import ServiceType

Scalar = str | int | float | bool | None
"""A sort value as it appears in JSON."""


class Kind(enum.Enum):
    """How a column compares in the pods' databases."""

    STRING = "string"
    NUMBER = "number"
    TIMESTAMP = "timestamp"
    """ISO 8601 in the response, compared as instants (naive means UTC)."""
    BOOLEAN = "boolean"
    """Shown as JSON true/false or as the strings "true"/"false" (Cinder's ``bootable``)."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""What `Field.value` returns when an item does not show the field at all."""


@dataclasses.dataclass(frozen=True)
class Field:
    """A sort key: the name the service takes, and where its value is in a listed item."""

    key: str
    path: tuple[str, ...]
    kind: Kind = Kind.STRING
    empty_is_null: bool = False
    """The service shows '' where its database holds NULL (Nova's ``accessIPv4``)."""

    def value(self, item: Mapping[str, Any]) -> Scalar:
        """The item's value for this key; `MISSING` when the item does not show it."""
        current: Any = item
        for step in self.path:
            if not isinstance(current, Mapping):
                break  # Nova shows "image": "" for a volume-backed server: the value is ''
            if step not in current:
                return MISSING  # type: ignore[no-any-return]
            current = current[step]
        if isinstance(current, Mapping | list):
            return MISSING  # type: ignore[no-any-return]
        if self.empty_is_null and current == "":
            return None
        return current  # type: ignore[no-any-return]

    def getter(self) -> Callable[[Mapping[str, Any]], Scalar]:
        """`value` as a function, quicker for the common case: a top-level key of a JSON object."""
        if len(self.path) != 1 or self.empty_is_null:
            return self.value
        name, slow = self.path[0], self.value

        def get(item: Mapping[str, Any]) -> Scalar:
            if item.__class__ is not dict:
                return slow(item)
            value = item.get(name, MISSING)
            return MISSING if value.__class__ in (dict, list) else value  # type: ignore[no-any-return]

        return get


@dataclasses.dataclass(frozen=True)
class Collection:
    """One listable collection of a service, e.g. Nova's servers.

    `name` is the JSON key of the list in a response and the stem of its
    ``<name>_links``; `keys` are the sort keys clients may use, by the name they
    use (an alias such as Cinder's ``display_name`` maps to the same `Field` as
    ``name``); `unmergeable` are keys the service accepts whose value the items
    do not show; `tiebreaker` is the unique key that makes the order total;
    `id` is where an item's id (the pod-native marker) is.
    """

    service: ServiceType
    name: str
    keys: Mapping[str, Field]
    tiebreaker: str
    unmergeable: frozenset[str] = frozenset()
    id: Field = Field("id", ("id",))

    def field(self, key: str) -> Field | None:
        return self.keys.get(key)

    def item_id(self, item: Mapping[str, Any]) -> str:
        """The item's id; a pod that lists an item without one is unusable for this page."""
        value = self.id.value(item)
        if not isinstance(value, str) or not value:
            raise PodUnavailable(f"listed {self.name} without an id")
        return value


def fields(*specs: tuple[str, str | tuple[str, ...], Kind] | Field) -> dict[str, Field]:
    """A key -> Field table from terse ``(key, path, kind)`` rows."""
    table: dict[str, Field] = {}
    for spec in specs:
        if isinstance(spec, Field):
            table[spec.key] = spec
            continue
        key, path, kind = spec
        table[key] = Field(key, (path,) if isinstance(path, str) else path, kind)
    return table
