"""The test bed's RabbitMQ vhosts (one per region), through ``rabbitmqctl`` on the machine's broker."""

from __future__ import annotations

import shutil
import subprocess

from testbed.util import TestbedError


def rabbitmqctl(*args: str, check: bool = True) -> str:
    exe = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    res = subprocess.run([exe, "-q", *args], capture_output=True, text=True, check=False)
    if check and res.returncode:
        raise TestbedError(f"rabbitmqctl {' '.join(args)} failed: {res.stderr.strip() or res.stdout.strip()}")
    return res.stdout


def create_vhosts(user: str, names: list[str]) -> None:
    """Add the vhosts that are missing, each open to ``user``."""
    have = set(rabbitmqctl("list_vhosts").split())
    for n in names:
        if n not in have:
            rabbitmqctl("add_vhost", n)
            rabbitmqctl("set_permissions", "-p", n, user, ".*", ".*", ".*")


def delete_vhosts(names: list[str]) -> None:
    """Delete those of ``names`` that exist (and no other)."""
    have = set(rabbitmqctl("list_vhosts").split())
    for n in names:
        if n in have:
            rabbitmqctl("delete_vhost", n)
