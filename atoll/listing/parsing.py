"""Read a list request's sort, limit and marker exactly as the service would, and refuse what it would refuse.

Each parser takes the query as ``(name, value)`` pairs in request order
(repeats kept) and returns a `ListRequest`. The defaults and quirks copied
here, with where they come from:

- **Nova** (``nova/api/openstack/common.py`` ``get_sort_params``,
  ``nova/compute/instance_list.py`` ``InstanceSortContext``,
  ``nova/db/utils.py`` ``process_sort_params``): repeatable ``sort_key`` /
  ``sort_dir``; no key means ``created_at``, no direction ``desc``; keys in
  Nova's ignore list are dropped with their direction (refused from 2.75);
  ``uuid asc`` is appended unless present, *then* missing directions are
  padded with the first one, so ``sort_key=a&sort_key=b&sort_dir=desc``
  sorts ``a desc, b asc, uuid desc`` in a real Nova, and here. With only
  ignored keys Nova sorts by its internal ``id``, which no response shows;
  Atoll uses ``created_at desc, uuid asc`` then.
- **Cinder** (``cinder/api/common.py`` ``get_sort_params``,
  ``cinder/db/api.py`` ``process_sort_params``): ``sort=k[:dir],...`` or one
  ``sort_key`` / ``sort_dir``, not both; the first of each is read and any
  repeat is passed on as a filter (Cinder ignores it before 3.31 and refuses
  it after); the first ``name`` means ``display_name``; missing directions are
  ``desc``; ``created_at``, ``id`` are appended with the first direction.
- **Glance** (``glance/api/v2/images.py``, ``glance/db/sqlalchemy/api.py``):
  ``sort=`` or repeatable ``sort_key`` / ``sort_dir`` (one direction applies
  to every key); ``created_at``, ``id`` are appended with that one direction,
  or ``desc`` when several were given; no limit means 25.
- **Neutron** (``neutron/api/api_common.py``): as many ``sort_dir`` as
  ``sort_key``; ``id asc`` is appended when paginating (Atoll always
  paginates); ``page_reverse=True`` walks backwards.

Cinder's ``offset`` skips that many items of the merged list (after the
marker, as Cinder skips them after its marker).

Messages are the services' own. Atoll adds one refusal of its own: a sort key
the service takes but whose value no item shows (`UnmergeableSort`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from atoll.core.errors import InvalidInput
from atoll.listing.errors import InvalidLimit, InvalidSort, UnmergeableSort
from atoll.listing.fields import Collection
from atoll.listing.ordering import MYSQL, DatabaseOrder
from atoll.listing.spec import ASC, DESC, SortSpec, normalize
from atoll.types import ServiceType

Query = Sequence[tuple[str, str]]

GLANCE_DEFAULT_LIMIT = 25


@dataclasses.dataclass(frozen=True)
class ListRequest:
    """A parsed list request: how to sort, how many, from where, and the filters to forward to every pod."""

    spec: SortSpec
    limit: int
    marker: str | None
    filters: tuple[tuple[str, str], ...]
    offset: int = 0
    """Items of the merged list to skip before the page (Cinder's `offset`)."""


def parse(
    collection: Collection,
    query: Query,
    *,
    max_limit: int,
    microversion: tuple[int, int] = (2, 1),
    order: DatabaseOrder = MYSQL,
) -> ListRequest:
    """Parse a list request for `collection` as its service would (`microversion` matters to Nova only)."""
    service = collection.service
    first: set[str] = set()  # parameters the service reads once; repeats go on as filters
    offset = 0
    if service is ServiceType.COMPUTE and collection.name == "images":
        # Nova's image API passes only limit and marker on to Glance, which lists newest first.
        pairs, reverse = [("created_at", False), ("id", False)], False
        limit, marker = _nova_limit(query, max_limit), _last(query, "marker")
        every = {"limit", "marker"}
    elif service is ServiceType.COMPUTE:
        pairs, reverse = _nova_sort(collection, query, microversion), False
        limit, marker = _nova_limit(query, max_limit), _last(query, "marker")
        every = {"sort_key", "sort_dir", "limit", "marker"}
    elif service is ServiceType.BLOCK_STORAGE:
        pairs, reverse = _cinder_sort(collection, query), False
        limit, marker = _int_limit(query, max_limit, max_limit), _first(query, "marker")
        offset = _offset(_first(query, "offset"))
        every, first = {"offset"}, {"sort", "sort_key", "sort_dir", "limit", "marker"}  # pods never skip
    elif service is ServiceType.IMAGE:
        pairs, reverse = _glance_sort(query), False
        limit = _int_limit(query, min(GLANCE_DEFAULT_LIMIT, max_limit), max_limit)
        marker = _first(query, "marker")
        every, first = {"sort_key", "sort_dir"}, {"sort", "limit", "marker"}
    else:
        pairs = _neutron_sort(collection, query)
        reverse = (_last(query, "page_reverse") or "False").lower() == "true"
        limit, marker = _neutron_limit(query, max_limit), _last(query, "marker")
        every = {"sort_key", "sort_dir", "limit", "marker", "page_reverse"}
    unmergeable = [key for key, _ in pairs if key in collection.unmergeable]
    if unmergeable:
        raise UnmergeableSort(
            f"Cannot sort {collection.name} across pods by {unmergeable[0]!r}: the listed items do not show it."
        )
    spec = dataclasses.replace(normalize(collection, pairs, order), reverse=reverse)
    return ListRequest(spec, limit, marker, _filters(query, every, first), offset)


def _offset(text: str | None) -> int:
    """Cinder's `offset` (cinder/api/common.py `get_pagination_params`): a non-negative integer."""
    if text is None:
        return 0
    try:
        offset = int(text)
    except ValueError:
        raise InvalidInput(f"Invalid input received: offset param must be an integer, got {text!r}.") from None
    if offset < 0:
        raise InvalidInput("Invalid input received: offset param must be positive.")
    return offset


def _filters(query: Query, every: set[str], first: set[str]) -> tuple[tuple[str, str], ...]:
    seen: set[str] = set()
    kept = []
    for name, value in query:
        if name in every or (name in first and name not in seen):
            seen.add(name)
            continue
        kept.append((name, value))
    return tuple(kept)


def _values(query: Query, name: str) -> list[str]:
    return [value for key, value in query if key == name]


def _first(query: Query, name: str) -> str | None:
    values = _values(query, name)
    return values[0] if values else None


def _last(query: Query, name: str) -> str | None:
    values = _values(query, name)
    return values[-1] if values else None


def _pad_and_check(keys: list[str], dirs: list[str], unknown: str, too_many: str) -> list[tuple[str, bool]]:
    """Nova's and Cinder's ``process_sort_params``: pad directions with the first, refuse extras."""
    default = dirs[0] if dirs else DESC
    for direction in dirs:
        if direction not in (ASC, DESC):
            raise InvalidSort(f"Invalid input received: {unknown}")
    dirs = dirs + [default] * (len(keys) - len(dirs))
    if len(dirs) > len(keys):
        raise InvalidSort(f"Invalid input received: {too_many}")
    return [(key, direction == ASC) for key, direction in zip(keys, dirs, strict=True)]


# Valid for Nova's query schema, but dropped (nova/api/openstack/compute/schemas/servers.py).
NOVA_IGNORED_SORT_KEYS = frozenset(
    [
        "architecture",
        "cell_name",
        "cleaned",
        "default_ephemeral_device",
        "default_swap_device",
        "deleted",
        "deleted_at",
        "disable_terminate",
        "ephemeral_gb",
        "ephemeral_key_uuid",
        "id",
        "key_data",
        "launched_on",
        "locked",
        "memory_mb",
        "os_type",
        "reservation_id",
        "root_gb",
        "shutdown_terminate",
        "user_data",
        "vcpus",
        "vm_mode",
    ]
)


def _nova_sort(collection: Collection, query: Query, microversion: tuple[int, int]) -> list[tuple[str, bool]]:
    ignored = NOVA_IGNORED_SORT_KEYS if microversion < (2, 75) else frozenset()
    valid = {*collection.keys, *collection.unmergeable, *ignored}
    if microversion >= (2, 73):
        ignored = ignored - {"locked"}
    keys = [value.strip() for value in _values(query, "sort_key")]
    for key in keys:
        if key not in valid:
            raise InvalidSort(
                f"Invalid input for query parameters sort_key. Value: {key}. '{key}' is not one of {sorted(valid)}"
            )
    dirs = [value.strip() for value in _values(query, "sort_dir")] or [DESC]
    keys = keys or ["created_at"]
    for key in [k for k in keys if k in ignored]:
        at = keys.index(key)
        if len(dirs) > at:
            dirs.pop(at)
        keys.pop(at)
    if not keys:
        keys, dirs = ["created_at", "id"], [DESC, DESC]
    if "uuid" not in keys:
        keys, dirs = [*keys, "uuid"], [*dirs, ASC]
    pairs = _pad_and_check(
        keys, dirs, "Unknown sort direction, must be 'desc' or 'asc'", "Sort direction size exceeds sort key size"
    )
    return [(key, ascending) for key, ascending in pairs if key != "id"]  # Nova's internal id: uuid follows


def _cinder_sort(collection: Collection, query: Query) -> list[tuple[str, bool]]:
    sort, sort_key, sort_dir = (_first(query, name) for name in ("sort", "sort_key", "sort_dir"))
    if sort is not None and (sort_key is not None or sort_dir is not None):
        raise InvalidSort(
            "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter."
        )
    if sort is not None:
        keys, dirs = [], []
        for part in sort.strip().split(","):
            key, _, direction = part.partition(":")
            keys.append(key.strip())
            dirs.append(direction.strip() or DESC)
    else:
        keys, dirs = [(sort_key or "created_at").strip()], [(sort_dir or DESC).strip()]
    if "name" in keys:  # only the first, as Cinder does: a second 'name' is no column
        keys[keys.index("name")] = "display_name"
    pairs = _pad_and_check(
        keys,
        dirs,
        "Unknown sort direction, must be 'desc' or 'asc'.",
        "Sort direction array size exceeds sort key array size.",
    )
    for key, _ in pairs:
        if key not in collection.keys and key not in collection.unmergeable:
            raise InvalidSort("Invalid input received: Invalid sort key")
    default = pairs[0][1]
    return [*pairs, *((key, default) for key in ("created_at", "id") if key not in keys)]


GLANCE_SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at")


def _glance_key(key: str) -> str:
    if key not in GLANCE_SORT_KEYS:
        raise InvalidSort(f"Invalid sort key: {key}. It must be one of the following: {', '.join(GLANCE_SORT_KEYS)}.")
    return key


def _glance_dir(direction: str) -> str:
    if direction not in (ASC, DESC):
        raise InvalidSort(f"Invalid sort direction: {direction}")
    return direction


def _glance_sort(query: Query) -> list[tuple[str, bool]]:
    sort = _first(query, "sort")
    keys: list[str] = []
    dirs: list[str] = []
    if sort is not None:
        if _first(query, "sort_key") is not None or _first(query, "sort_dir") is not None:
            raise InvalidSort("Old and new sorting syntax cannot be combined")
        for part in sort.strip().split(","):
            key, _, direction = part.partition(":")
            keys.append(_glance_key(key.strip()))
            dirs.append(_glance_dir(direction.strip() or DESC))
    else:
        keys = [_glance_key(value.strip()) for value in _values(query, "sort_key")]
        dirs = [_glance_dir(value.strip()) for value in _values(query, "sort_dir")]
        if len(dirs) > 1 and len(dirs) != len(keys):
            raise InvalidSort("Number of sort dirs does not match the number of sort keys")
    keys = keys or ["created_at"]
    dirs = dirs or [DESC]
    default = dirs[0] if len(dirs) == 1 else DESC
    if len(dirs) == 1:
        dirs = dirs * len(keys)
    pairs = [(key, direction == ASC) for key, direction in zip(keys, dirs, strict=True)]
    return [*pairs, *((key, default == ASC) for key in ("created_at", "id") if key not in keys)]


def _neutron_sort(collection: Collection, query: Query) -> list[tuple[str, bool]]:
    keys = [value for value in _values(query, "sort_key") if value]
    dirs = [value for value in _values(query, "sort_dir") if value]
    if len(keys) != len(dirs):
        raise InvalidSort("The number of sort_keys and sort_dirs must be same")
    absent = [key for key in keys if key not in collection.keys]
    if absent:
        raise InvalidSort(f"{absent} is invalid attribute for sort_keys")
    invalid = [direction for direction in dirs if direction not in (ASC, DESC)]
    if invalid:
        raise InvalidSort(f"{invalid} is invalid value for sort_dirs, valid value is 'asc' and 'desc'")
    return [(key, direction == ASC) for key, direction in zip(keys, dirs, strict=True)]


def _nova_limit(query: Query, max_limit: int) -> int:
    raw = _last(query, "limit")
    if raw is None:
        return max_limit
    if not raw.isdigit():
        raise InvalidLimit(f"Invalid input for query parameters limit. Value: {raw}. '{raw}' does not match '^[0-9]*$'")
    return min(int(raw), max_limit)


def _int_limit(query: Query, default: int, max_limit: int) -> int:
    """Cinder's and Glance's limit: the first one, an integer, not negative."""
    raw = _first(query, "limit")
    if raw is None:
        return default
    try:
        limit = int(raw)
    except ValueError:
        raise InvalidLimit("limit param must be an integer") from None
    if limit < 0:
        raise InvalidLimit("limit param must be positive")
    return min(limit, max_limit)


def _neutron_limit(query: Query, max_limit: int) -> int:
    raw = _last(query, "limit") or "0"
    try:
        limit = int(raw)
    except ValueError:
        limit = -1
    if limit < 0:
        raise InvalidLimit(f"Bad limit request: Limit must be an integer 0 or greater and not '{raw}'.")
    return min(limit, max_limit) or max_limit
