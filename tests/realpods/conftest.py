"""Fixtures of the tests on the real test bed."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="module")
def atoll(testbed: Any) -> Any:
    """The test bed with Atoll (atoll-api and atoll-engine) in front of it: `up --atoll` if it is not."""
    if not testbed.info.get("atoll_url"):
        from testbed.pytest_plugin import TestbedHandle, _state_dir, run_testbed

        run_testbed("up", "--atoll", "--pods", str(len(testbed.pod_regions)))
        return TestbedHandle.from_state(_state_dir())
    return testbed
