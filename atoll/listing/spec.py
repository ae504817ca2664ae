"""A normalized sort: the (key, direction) list every pod is asked to sort by and the merge compares by."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from atoll.listing.fields import MISSING, Collection, Field, Scalar
from atoll.listing.ordering import MYSQL, DatabaseOrder, Key, missing, sort_key, values_key
from atoll.types import ServiceType

ASC, DESC = "asc", "desc"


@dataclasses.dataclass(frozen=True)
class SortSpec:
    """What a listing is sorted by: `keys` in the order the client sees, ending with the collection's unique key.

    `reverse` is Neutron's ``page_reverse``: the listing is walked backwards
    (`walk` flips every direction) and each page is shown the right way round.
    """

    collection: Collection
    keys: tuple[tuple[Field, bool], ...]
    reverse: bool = False
    order: DatabaseOrder = MYSQL

    @property
    def walk(self) -> tuple[tuple[Field, bool], ...]:
        """The (field, ascending) keys in the direction pages are fetched and merged."""
        if not self.reverse:
            return self.keys
        return tuple((field, not ascending) for field, ascending in self.keys)

    def backwards(self) -> SortSpec:
        """The same sort walked the other way (for Neutron's ``previous`` links)."""
        return dataclasses.replace(self, reverse=not self.reverse)

    def pod_params(self) -> list[tuple[str, str]]:
        """Query parameters asking a pod to sort exactly as the merge does, in the service's syntax."""
        pairs = [(field.key, ASC if ascending else DESC) for field, ascending in self.walk]
        if self.collection.service in (ServiceType.BLOCK_STORAGE, ServiceType.IMAGE):
            return [("sort", ",".join(f"{key}:{direction}" for key, direction in pairs))]
        params: list[tuple[str, str]] = []
        for key, direction in pairs:
            params += [("sort_key", key), ("sort_dir", direction)]
        return params

    def item_key(self) -> Callable[[Mapping[str, Any]], Key]:
        """Comparable key of a listed item, in walking order."""
        return sort_key(self.walk, self.order)

    def values(self, item: Mapping[str, Any]) -> tuple[Scalar, ...]:
        """The item's raw sort values, in key order (what a marker keeps)."""
        values = tuple(field.value(item) for field, _ in self.keys)
        for (field, _), value in zip(self.keys, values, strict=True):
            if value is MISSING:
                raise missing(field)
        return values

    def values_key(self, values: tuple[Scalar, ...]) -> Key:
        return values_key(self.walk, self.order, values)

    def fingerprint(self) -> bytes:
        """Four bytes naming the collection and the walk: a marker made for another listing is refused."""
        text = "|".join([self.collection.service, self.collection.name, *(f"{f.key}:{a:d}" for f, a in self.walk)])
        return hashlib.blake2b(text.encode(), digest_size=4).digest()


def normalize(collection: Collection, pairs: list[tuple[str, bool]], order: DatabaseOrder = MYSQL) -> SortSpec:
    """A spec from (key, ascending) pairs already validated against `collection`.

    Repeated keys keep their first direction and keys after the unique
    tie-breaker are dropped (they can no longer change the order); the
    tie-breaker is appended ascending if missing.
    """
    keys: list[tuple[Field, bool]] = []
    seen: set[str] = set()
    for name, ascending in pairs:
        field = collection.keys[name]
        if field.key in seen:
            continue
        seen.add(field.key)
        keys.append((field, ascending))
        if field.key == collection.tiebreaker:
            break
    else:
        keys.append((collection.keys[collection.tiebreaker], True))
    return SortSpec(collection, tuple(keys), order=order)
