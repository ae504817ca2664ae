"""The test bed's layout: the ports, names and endpoints docs/testbed.md promises."""

from __future__ import annotations

import json
import pathlib

import pytest
from testbed import util
from testbed.layout import ATOLL_PORT, Layout


@pytest.fixture
def layout(tmp_path: pathlib.Path) -> Layout:
    return Layout(state=tmp_path)


def test_ports_follow_base_region_and_offset(layout: Layout) -> None:
    top, pod1, pod2 = layout.regions(2)
    assert (top.name, pod1.name, pod2.name) == ("RegionOne", "Pod1", "Pod2")
    assert {s: layout.port(top, s) for s in top.services} == {"neutron": 25096}
    assert {s: layout.port(pod2, s) for s in pod2.services} == {
        "placement": 25278,
        "nova": 25274,
        "cinder": 25276,
        "glance": 25292,
        "neutron": 25296,
    }
    assert layout.endpoint(pod1, "nova") == "http://127.0.0.1:25174/v2.1"
    assert layout.endpoint(pod1, "cinder") == "http://127.0.0.1:25176/v3/%(project_id)s"
    assert layout.endpoint(pod1, "glance") == "http://127.0.0.1:25192"
    assert layout.auth_url == "http://127.0.0.1:25000/v3"


def test_databases_and_vhosts_carry_the_prefix(layout: Layout) -> None:
    layout.db_prefix = "tbx_"
    top, pod1 = layout.regions(1)
    assert layout.databases(top) == ["tbx_top_neutron"]
    assert layout.databases(pod1) == [
        "tbx_pod1_nova_api",
        "tbx_pod1_nova",
        "tbx_pod1_nova_cell0",
        "tbx_pod1_placement",
        "tbx_pod1_cinder",
        "tbx_pod1_neutron",
        "tbx_pod1_glance",
    ]
    assert layout.keystone_database == "tbx_keystone"
    assert layout.transport_url(pod1) == "rabbit://guest:guest@127.0.0.1:5672/tbx_pod1"


def test_region_by_name_or_short_name(layout: Layout) -> None:
    assert layout.region("pod2").name == "Pod2"
    assert layout.region("regionone").name == "RegionOne"
    assert layout.region("top").name == "RegionOne"
    with pytest.raises(util.TestbedError, match=r"no region named 'Pod3' \(have: RegionOne, Pod1, Pod2\)"):
        layout.region("Pod3")


def test_load_takes_the_environment_then_the_last_up(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATOLL_TESTBED_DIR", str(tmp_path))
    monkeypatch.delenv("ATOLL_TESTBED_BASE_PORT", raising=False)
    monkeypatch.delenv("ATOLL_TESTBED_DB_PREFIX", raising=False)
    (tmp_path / "testbed.json").write_text(
        json.dumps({"base_port": 31000, "db_prefix": "tbq_", "pods": 3, "keystone_only": False})
    )
    loaded = Layout.load()
    assert (loaded.state, loaded.base_port, loaded.db_prefix, loaded.pods) == (tmp_path, 31000, "tbq_", 3)
    assert Layout.load(1).pods == 3  # never fewer pods than are up
    monkeypatch.setenv("ATOLL_TESTBED_BASE_PORT", "32000")
    assert Layout.load(4).base_port == 32000


def test_load_refuses_ports_that_cover_atolls(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATOLL_TESTBED_DIR", str(tmp_path))
    monkeypatch.setenv("ATOLL_TESTBED_BASE_PORT", str(ATOLL_PORT - 150))
    with pytest.raises(util.TestbedError, match=f"would cover Atoll's port {ATOLL_PORT}"):
        Layout.load(2)
    assert Layout.load(0).base_port == ATOLL_PORT - 150  # RegionOne alone ends below it
