"""Atoll on the test bed (``up --atoll``): atoll-api and atoll-engine from the project venv.

``setup`` renders ``<state>/atoll/atoll.conf`` (SQLite, the ``atoll``
service user), migrates, starts both processes and registers the regions as
Atoll pods.  What Atoll is told about the test bed is decided in one place,
``pod_registrations`` (each region's ``POST /v1.0/pods`` body: Pod1, Pod3, ...
in az1, Pod2, Pod4, ... in az2); Atoll's own entries in the Keystone catalog
(the top region's compute, volume, image and network) in ``catalog_entries``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from testbed import identity
from testbed.layout import ATOLL_PASSWORD, ATOLL_PORT, REPO, Layout, Region
from testbed.procs import Service, start_service, wait_service
from testbed.services import base_env
from testbed.util import TestbedError, http, run, tail

COMMANDS = ("atoll-api", "atoll-engine", "atoll-manage")


def venv() -> Path:
    raw = Path(os.environ.get("ATOLL_VENV") or ".venv")
    return raw if raw.is_absolute() else REPO / raw


def check() -> Path:
    """The venv's bin directory, if it has Atoll's commands; a clear error otherwise."""
    bindir = venv() / "bin"
    missing = [b for b in COMMANDS if not (bindir / b).exists()]
    if missing:
        raise TestbedError(
            f"--atoll: {', '.join(missing)} not found in {bindir}. Install Atoll into that venv first "
            f"(scripts/bootstrap, or `{bindir}/pip install -e .`), or point ATOLL_VENV at a venv that has it."
        )
    return bindir


def services(layout: Layout) -> list[Service]:
    """atoll-api (it logs where atoll.conf says) and atoll-engine."""
    bindir = venv() / "bin"
    conf = str(layout.state / "atoll" / "atoll.conf")
    env = base_env()
    engine_log = layout.logdir / "atoll-engine.log"
    return [
        Service(
            "atoll-api",
            [str(bindir / "atoll-api"), "--config-file", conf],
            env,
            layout.logdir / "atoll-api.out",
            ATOLL_PORT,
            f"http://127.0.0.1:{ATOLL_PORT}/",
            api=True,
        ),
        Service(
            "atoll-engine",
            [str(bindir / "atoll-engine"), "--config-file", conf, "--log-file", str(engine_log)],
            env,
            layout.logdir / "atoll-engine.out",
        ),
    ]


def pod_registrations(regions: list[Region]) -> list[dict[str, Any]]:
    """The ``pod`` body that registers each region: RegionOne is the top pod, Pod1, Pod3, ... are
    in ``az1`` and Pod2, Pod4, ... in ``az2``."""
    bodies: list[dict[str, Any]] = []
    for region in regions:
        pod = {"region_name": region.name}
        if not region.is_top:
            pod["az_name"] = f"az{2 - region.index % 2}"
        bodies.append(pod)
    return bodies


GATEWAY_ENDPOINTS = (
    ("compute", "nova", "/compute/v2.1"),
    ("volumev3", "cinderv3", "/volume/v3"),
    ("block-storage", "cinder", "/volume/v3"),
    ("image", "glance", "/image"),
    ("network", "neutron", "/network"),
)
"""Atoll's gateway as the top region's APIs: (service type, service name, path under Atoll)."""


def catalog_entries(top: Region) -> list[identity.CatalogEntry]:
    """The top region's compute, volume, image and network endpoints: Atoll. The central Neutron
    keeps serving behind it (atoll.conf's ``[gateway] central_neutron_url``)."""
    base = f"http://127.0.0.1:{ATOLL_PORT}"
    return [identity.CatalogEntry(stype, name, top.name, base + path) for stype, name, path in GATEWAY_ENDPOINTS]


def setup(layout: Layout, regions: list[Region]) -> None:
    bindir = check()
    (layout.state / "atoll").mkdir(parents=True, exist_ok=True)
    conf = layout.state / "atoll" / "atoll.conf"
    top = next(r for r in regions if r.is_top)
    neutron = f"http://127.0.0.1:{layout.port(top, 'neutron')}"
    layout.render(
        "atoll.conf", conf, atoll_port=str(ATOLL_PORT), atoll_password=ATOLL_PASSWORD, central_neutron_url=neutron
    )
    run([str(bindir / "atoll-manage"), "--config-file", str(conf), "db", "upgrade"], layout.logdir / "atoll-setup.log")
    procs = layout.procs
    api, engine = services(layout)
    for svc in (api, engine):
        start_service(procs, svc, layout.state)
    wait_service(procs, api, 90)
    time.sleep(0.5)  # an engine with a bad config exits within this
    if not procs.alive(engine.name):
        raise TestbedError(f"atoll-engine exited; see {engine.log}:\n{tail(engine.log)}")
    keystone = identity.admin_client(layout)
    register_pods(keystone.token, pod_registrations(regions))
    identity.ensure_catalog(keystone, catalog_entries(top))


def register_pods(token: str, pods: list[dict[str, Any]]) -> None:
    """``POST /v1.0/pods`` for each pod Atoll does not have yet (by region name); a pod registered
    in another AZ (by an older test bed) is moved with ``PUT``."""
    base = f"http://127.0.0.1:{ATOLL_PORT}/v1.0/pods"
    r = http("GET", base, token=token)
    if r.status != 200:
        raise TestbedError(f"GET {base}: {r.status} {r.body[:300]!r}")
    have = {p.get("region_name"): p for p in r.json().get("pods", [])}
    for pod in pods:
        known = have.get(pod["region_name"])
        if known is not None:
            if known.get("az_name", "") != pod.get("az_name", ""):
                r = http("PUT", f"{base}/{known['pod_id']}", {"pod": {"az_name": pod["az_name"]}}, token=token)
                if r.status != 200:
                    raise TestbedError(f"moving {pod['region_name']} to {pod['az_name']}: {r.status} {r.body[:300]!r}")
            continue
        r = http("POST", base, {"pod": pod}, token=token)
        if r.status not in (200, 201):
            raise TestbedError(f"registering {pod['region_name']} in Atoll: {r.status} {r.body[:300]!r}")
