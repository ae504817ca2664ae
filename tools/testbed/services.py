"""How the test bed runs an OpenStack process: an API under gunicorn, or a daemon.

Every API is one gunicorn worker loading the service's WSGI module through
``runtime/tb_wsgi.py``, which hides gunicorn's argv from oslo.config.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from testbed import venvs
from testbed.layout import Layout
from testbed.procs import Service

RUNTIME = Path(__file__).resolve().parent / "runtime"

WSGI = {
    "keystone": "keystone.wsgi.api:application",
    "neutron": "neutron.wsgi.api:application",
    "nova": "nova.wsgi.osapi_compute:application",
    "placement": "placement.wsgi.api:application",
    "cinder": "cinder.wsgi.api:application",
    "glance": "glance.wsgi.api:application",
}
VENV_OF = {
    "keystone": "keystone",
    "neutron": "neutron",
    "nova": "nova",
    "placement": "nova",
    "cinder": "cinder",
    "glance": "glance",
}


def base_env() -> dict[str, str]:
    """The caller's environment without what would leak into a service (OS_*, PYTHON*, a venv)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "PYTHON", "VIRTUAL_ENV"))}
    env["PYTHONUNBUFFERED"] = "1"
    env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
    return env


def gunicorn(
    layout: Layout,
    name: str,
    service: str,
    port: int,
    env: dict[str, str],
    argv_extra: list[str] | None = None,
    health_path: str = "/",
) -> Service:
    """The API ``service`` (a key of ``WSGI``) as process ``name`` on 127.0.0.1:``port``."""
    venv = venvs.venv_path(VENV_OF[service])
    log = layout.logdir / f"{name}.log"
    env = dict(env)
    env["TB_WSGI_TARGET"] = WSGI[service]
    env["TB_WSGI_ARGV"] = json.dumps([name, *(argv_extra or [])])
    argv = [
        str(venv / "bin" / "gunicorn"),
        "--pythonpath",
        str(RUNTIME),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--worker-class",
        "gthread",
        "--threads",
        "4",
        "--timeout",
        "300",
        "--graceful-timeout",
        "5",
        "--keep-alive",
        "30",
        "--name",
        name,
        "--error-logfile",
        str(log),
        "tb_wsgi:application",
    ]
    return Service(name, argv, env, log, port, f"http://127.0.0.1:{port}{health_path}", api=True)


def daemons(
    layout: Layout, prefix: str, project: str, names: tuple[str, ...], conf: str, env: dict[str, str]
) -> list[Service]:
    """``<project>-<daemon> --config-file CONF --log-file LOG`` for each daemon, as ``<prefix>-<project>-<daemon>``."""
    bindir = venvs.venv_path(project) / "bin"
    out = []
    for daemon in names:
        name = f"{prefix}-{project}-{daemon}"
        log = layout.logdir / f"{name}.log"
        command = [str(bindir / f"{project}-{daemon}"), "--config-file", conf, "--log-file", str(log)]
        out.append(Service(name, command, env, log))
    return out
