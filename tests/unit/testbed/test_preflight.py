"""The test bed's checks before `up`: each problem is found, named, and stops `up` before it creates anything."""

from __future__ import annotations

import pathlib
import shutil
import socket
from collections.abc import Iterator

import pytest
from testbed import cli, preflight, util
from testbed.layout import Layout
from testbed.procs import Service


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP server on a loopback port (it accepts connections; nobody answers them)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock


def _port(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return _port(sock)


def _api(name: str, port: int) -> Service:
    return Service(name, ["true"], {}, pathlib.Path("/dev/null"), port, f"http://127.0.0.1:{port}/", api=True)


def test_python_older_than_the_services_support_is_refused() -> None:
    with pytest.raises(util.TestbedError, match=r"needs Python 3\.10 or later to build its venvs; python3 is 3\.9\.18"):
        preflight.check_python((3, 9, 18))
    preflight.check_python((3, 10, 0))
    preflight.check_python((3, 13, 1))


def test_port_free_and_reachable(listener: socket.socket) -> None:
    taken, closed = _port(listener), _closed_port()
    assert preflight.port_free(taken) is False
    assert preflight.port_free(closed) is True
    assert preflight.reachable("127.0.0.1", taken) is None
    assert preflight.reachable("127.0.0.1", closed) == "Connection refused"


def test_memory_and_disk_are_read_from_the_system(tmp_path: pathlib.Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24576000 kB\nMemFree:         1000 kB\nMemAvailable:   17825792 kB\n")
    assert preflight.available_memory_mib(meminfo) == 17408
    meminfo.write_text("MemTotal:       24576000 kB\n")
    assert preflight.available_memory_mib(meminfo) is None
    assert preflight.available_memory_mib(tmp_path / "absent") is None
    free = shutil.disk_usage(tmp_path).free // 2**20
    assert abs(preflight.free_disk_mib(tmp_path / "not" / "made" / "yet") - free) < 64


def test_every_problem_is_named(tmp_path: pathlib.Path, listener: socket.socket) -> None:
    closed = _closed_port()
    layout = Layout(state=tmp_path / "state", db_port=closed, rabbit=f"guest:guest@127.0.0.1:{closed}")
    planned = [_api("pod1-nova-api", _port(listener)), _api("pod1-glance-api", _closed_port())]
    found = preflight.problems(layout, planned, regions=True, venvs_to_build=[], memory_available=100)
    # Whether rabbitmqctl is installed depends on the machine.
    assert [p for p in found if not p.startswith("rabbitmqctl is not installed")] == [
        f"MariaDB is not reachable at 127.0.0.1:{closed} (Connection refused)",
        f"RabbitMQ is not reachable at 127.0.0.1:{closed} (Connection refused)",
        f"ports in use by processes this test bed did not start: {_port(listener)} (pod1-nova-api); another test bed "
        "on this machine? Give this one its own ATOLL_TESTBED_BASE_PORT, ATOLL_TESTBED_DB_PREFIX and "
        "ATOLL_TESTBED_ATOLL_PORT (docs/testbed.md, Caveats)",
        "the 2 processes to start need about 370 MiB of memory; 100 MiB are available "
        "(fewer --pods, or stop a test bed you do not use)",
    ]


def test_nothing_to_say_when_all_is_there(tmp_path: pathlib.Path, listener: socket.socket) -> None:
    layout = Layout(state=tmp_path / "state", db_port=_port(listener))
    planned = [_api("keystone", _closed_port()), _api("atoll-api", _closed_port())]
    assert preflight.problems(layout, planned, regions=False, venvs_to_build=[], memory_available=270) == []
    assert preflight.problems(layout, planned, regions=False, venvs_to_build=[], memory_available=None) == []


def test_up_stops_before_creating_anything(
    tmp_path: pathlib.Path, listener: socket.socket, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("ATOLL_TESTBED_DIR", str(state))
    monkeypatch.setenv("ATOLL_TESTBED_BASE_PORT", str(_port(listener)))  # Keystone's port
    assert cli.main(["up", "--keystone-only"]) == 1
    out = capsys.readouterr().out
    assert "[testbed] ERROR: cannot bring the test bed up:\n" in out
    assert f"ports in use by processes this test bed did not start: {_port(listener)} (keystone)" in out
    assert not state.exists()
