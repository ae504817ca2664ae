"""Checks before ``up`` starts anything, so a missing piece fails at once with a clear message.

``up`` needs: a Python the service venvs can be built with; MariaDB
reachable (always) and RabbitMQ reachable with ``rabbitmqctl`` (for
regions); every port of a process it will start free; disk for the venvs
it must build and for its state; memory for the processes it will start.
Every problem found is reported together; nothing has been created yet.
"""

from __future__ import annotations

import errno
import shutil
import socket
import sys
from pathlib import Path

from testbed import venvs
from testbed.layout import Layout
from testbed.procs import Service
from testbed.util import TestbedError

# The OpenStack releases of venvs.SPECS support Python 3.10 and later.
MIN_PYTHON = (3, 10)

# Measured RSS (docs/testbed.md): Keystone 0.16 GiB, the central Neutron
# 0.2 GiB, a pod 1.8 GiB over its 10 services, Atoll 0.2 GiB.
KEYSTONE_MIB = 170
TOP_NEUTRON_MIB = 200
POD_SERVICE_MIB = 185
ATOLL_SERVICE_MIB = 100

# The venvs take about 1.7 GiB together, and pip needs room while building.
VENVS_DISK_MIB = 3 * 1024
STATE_DISK_MIB = 1024  # configs, logs, the pods' images and volume files


def memory_mib(service: Service) -> int:
    """About how much RSS the process will use once it runs."""
    if service.name == "keystone":
        return KEYSTONE_MIB
    if service.name.startswith("top-"):
        return TOP_NEUTRON_MIB
    if service.name.startswith("atoll-"):
        return ATOLL_SERVICE_MIB
    return POD_SERVICE_MIB


def check_python(version: tuple[int, ...] = tuple(sys.version_info[:3])) -> None:
    if version[:2] < MIN_PYTHON:
        have = ".".join(map(str, version))
        want = ".".join(map(str, MIN_PYTHON))
        raise TestbedError(f"the test bed needs Python {want} or later to build its venvs; python3 is {have}")


def reachable(host: str, port: int, timeout: float = 3.0) -> str | None:
    """None if something accepts TCP connections at host:port, else why not."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """True if a server could listen on host:port now (as gunicorn does, with SO_REUSEADDR)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def available_memory_mib(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """MemAvailable in MiB (None where the kernel does not say)."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


def free_disk_mib(path: Path) -> int:
    """Free MiB on the file system that holds ``path`` (or would: its first existing parent)."""
    existing = path
    while not existing.exists():
        existing = existing.parent
    return shutil.disk_usage(existing).free // (1024 * 1024)


def problems(
    layout: Layout,
    planned: list[Service],
    *,
    regions: bool,
    venvs_to_build: list[str],
    memory_available: int | None,
) -> list[str]:
    """What stands in the way of starting ``planned``; empty when nothing does."""
    found = []
    if why := reachable(layout.db_host, layout.db_port):
        found.append(f"MariaDB is not reachable at {layout.db_host}:{layout.db_port} ({why})")
    if regions:
        rabbit_host, _, rabbit_port = layout.rabbit.rpartition("@")[2].partition(":")
        if why := reachable(rabbit_host, int(rabbit_port)):
            found.append(f"RabbitMQ is not reachable at {rabbit_host}:{rabbit_port} ({why})")
        if not (shutil.which("rabbitmqctl") or Path("/usr/sbin/rabbitmqctl").exists()):
            found.append("rabbitmqctl is not installed (the test bed makes one RabbitMQ vhost per region with it)")
    procs = layout.procs
    starting = [svc for svc in planned if not procs.alive(svc.name)]
    taken = [f"{svc.port} ({svc.name})" for svc in starting if svc.port and not port_free(svc.port)]
    if taken:
        found.append(
            f"ports in use by processes this test bed did not start: {', '.join(taken)}; another test bed on "
            "this machine? Give this one its own ATOLL_TESTBED_BASE_PORT, ATOLL_TESTBED_DB_PREFIX and "
            "ATOLL_TESTBED_ATOLL_PORT (docs/testbed.md, Caveats)"
        )
    if venvs_to_build and (free := free_disk_mib(venvs.cache_dir())) < VENVS_DISK_MIB:
        found.append(
            f"building the venvs {', '.join(venvs_to_build)} needs about {VENVS_DISK_MIB} MiB free in "
            f"{venvs.cache_dir()}; {free} MiB are"
        )
    if (free := free_disk_mib(layout.state)) < STATE_DISK_MIB:
        found.append(f"the state directory {layout.state} needs about {STATE_DISK_MIB} MiB free; {free} MiB are")
    needed = sum(memory_mib(svc) for svc in starting)
    if memory_available is not None and needed > memory_available:
        found.append(
            f"the {len(starting)} processes to start need about {needed} MiB of memory; {memory_available} MiB "
            "are available (fewer --pods, or stop a test bed you do not use)"
        )
    return found


def check_up(layout: Layout, planned: list[Service], *, regions: bool, venv_names: list[str]) -> None:
    """Raise ``TestbedError`` naming every problem ``up`` would run into (``planned``: what it would run)."""
    check_python()
    found = problems(
        layout,
        planned,
        regions=regions,
        venvs_to_build=[n for n in venv_names if not venvs.is_ready(n)],
        memory_available=available_memory_mib(),
    )
    if found:
        raise TestbedError("cannot bring the test bed up:\n  - " + "\n  - ".join(found))
