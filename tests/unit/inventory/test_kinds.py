"""Each kind's declaration: its list call's project filter and sort, and how its items read."""

from __future__ import annotations

import pytest

from atoll.inventory.kinds import KINDS, utc
from atoll.types import ResourceType


def test_every_kind_the_issue_names_is_declared_once() -> None:
    assert set(KINDS) == {
        "server",
        "volume",
        "snapshot",
        "network",
        "port",
        "keypair",
        "image",
        "security_group",
    }
    assert all(ResourceType(name) is kind.type for name, kind in KINDS.items())
    assert {name for name, kind in KINDS.items() if kind.central} == {"network", "port", "security_group"}


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("server", [("all_tenants", "1"), ("project_id", "p"), ("sort_key", "uuid"), ("sort_dir", "asc")]),
        ("volume", [("all_tenants", "1"), ("project_id", "p"), ("sort", "id:asc")]),
        ("snapshot", [("all_tenants", "1"), ("project_id", "p"), ("sort", "id:asc")]),
        ("image", [("owner", "p"), ("sort_key", "id"), ("sort_dir", "asc")]),
        ("network", [("project_id", "p"), ("sort_key", "id"), ("sort_dir", "asc")]),
        ("security_group", [("project_id", "p"), ("sort_key", "id"), ("sort_dir", "asc")]),
    ],
)
def test_each_service_gets_its_own_project_filter(name: str, params: list[tuple[str, str]]) -> None:
    assert KINDS[name].params("p") == params


def test_items_read_as_the_view_shows_them() -> None:
    server = {"id": "s1", "name": "web", "status": "ACTIVE", "created": "2026-01-02T03:04:05Z", "tenant_id": "p"}
    assert KINDS["server"].view(server, "Pod1", "az1", "p") == {
        "id": "s1",
        "type": "server",
        "name": "web",
        "status": "ACTIVE",
        "pod": "Pod1",
        "az": "az1",
        "project_id": "p",
        "created_at": "2026-01-02T03:04:05Z",
    }
    assert KINDS["server"].project_of(server) == "p"
    group = {"id": "g", "name": "default", "created_at": "2026-01-02T03:04:05+02:00", "tenant_id": "p"}
    shown = KINDS["security_group"].view(group, "RegionOne", None, "p")
    assert (shown["status"], shown["az"], shown["created_at"]) == (None, None, "2026-01-02T01:04:05Z")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2026-11-23T10:00:00.123456", "2026-11-23T10:00:00Z"),
        ("2026-11-23T10:00:00-01:00", "2026-11-23T11:00:00Z"),
        ("yesterday", None),
        (None, None),
        (12, None),
    ],
)
def test_timestamps_are_shown_in_utc(value: object, shown: str | None) -> None:
    assert utc(value) == shown
