"""Fixtures of the unit tests (the shared ones live in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from oslo_config import cfg

Override = Callable[[str, Any, str], None]


@pytest.fixture
def override(conf: cfg.ConfigOpts) -> Iterator[Override]:
    """`conf.set_override`, undone after the test."""
    done: list[tuple[str, str]] = []

    def set_override(name: str, value: Any, group: str) -> None:
        conf.set_override(name, value, group=group)
        done.append((name, group))

    yield set_override
    for name, group in reversed(done):
        conf.clear_override(name, group=group)
