"""Identity and catalog: the shared Keystone, its users and projects, and every region's endpoints.

Keystone is bootstrapped once (``db_sync`` + ``bootstrap``, or a cached
dump of both) with region ``RegionOne``; ``setup_identity`` then ensures the
service users, ``demo``/``alt_demo``, the roles, and a catalog entry for
each API of each region.  Everything is idempotent: a second ``up`` changes
nothing that is already right.
"""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path
from typing import NamedTuple

from testbed import databases, venvs
from testbed.keystone import Keystone
from testbed.layout import (
    ADMIN_PASSWORD,
    ATOLL_PASSWORD,
    SERVICE_PASSWORD,
    SERVICE_USERS,
    TOP_REGION,
    USERS,
    Layout,
    Region,
)
from testbed.procs import Service, start_service, wait_service
from testbed.services import base_env, gunicorn
from testbed.util import answers, run

# The catalog entries (type, name) of each API of a region.
CATALOG: dict[str, list[tuple[str, str]]] = {
    "nova": [("compute", "nova")],
    "placement": [("placement", "placement")],
    "cinder": [("volumev3", "cinderv3"), ("block-storage", "cinder")],
    "glance": [("image", "glance")],
    "neutron": [("network", "neutron")],
}


class CatalogEntry(NamedTuple):
    service_type: str
    service_name: str
    region: str
    url: str


def keystone_service(layout: Layout) -> Service:
    env = base_env()
    env["OS_KEYSTONE_CONFIG_FILES"] = str(layout.state / "keystone" / "keystone.conf")
    return gunicorn(layout, "keystone", "keystone", layout.base_port, env, health_path="/v3")


def write_keys(repo: Path) -> None:
    """A fresh Fernet key repository (what keystone-manage *_setup does):
    key 0 is the staged key, 1 the primary one."""
    repo.mkdir(parents=True, exist_ok=True)
    os.chmod(repo, 0o700)
    for idx in ("0", "1"):
        path = repo / idx
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(base64.urlsafe_b64encode(os.urandom(32)).decode())


def setup_keystone(layout: Layout) -> None:
    """Render keystone.conf, bootstrap the database unless it is, start Keystone and wait for it."""
    kdir = layout.state / "keystone"
    for sub in ("fernet-keys", "credential-keys"):
        (kdir / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(kdir / sub, 0o700)
    conf = kdir / "keystone.conf"
    layout.render("keystone.conf", conf)
    svc = keystone_service(layout)
    procs = layout.procs
    if procs.alive("keystone") and svc.health and answers(svc.health):
        return
    database = layout.keystone_database
    databases.create(layout, [database])
    marker = kdir / ".bootstrapped"
    if not (marker.exists() and databases.schemas_present(layout, [database])):
        for sub in ("fernet-keys", "credential-keys"):
            write_keys(kdir / sub)
        km = [str(venvs.venv_path("keystone") / "bin" / "keystone-manage"), "--config-file", str(conf)]
        log = layout.logdir / "keystone-setup.log"
        url = layout.auth_url

        def bootstrap() -> None:
            run([*km, "db_sync"], log)
            args = ["--bootstrap-password", ADMIN_PASSWORD, "--bootstrap-region-id", TOP_REGION]
            for kind in ("admin", "public", "internal"):
                args += [f"--bootstrap-{kind}-url", url]
            run([*km, "bootstrap", *args], log)

        databases.migrate_or_restore(layout, "keystone", [database], ["keystone"], [url, ADMIN_PASSWORD], bootstrap)
        marker.write_text(str(time.time()))
    start_service(procs, svc, layout.state)
    wait_service(procs, svc, 120)


def admin_client(layout: Layout) -> Keystone:
    return Keystone(layout.auth_url, "admin", ADMIN_PASSWORD, "admin")


def region_catalog(layout: Layout, region: Region) -> list[CatalogEntry]:
    """Keystone itself, then each API the region runs."""
    entries = [CatalogEntry("identity", "keystone", region.name, layout.auth_url)]
    for svc in region.services:
        for stype, sname in CATALOG[svc]:
            entries.append(CatalogEntry(stype, sname, region.name, layout.endpoint(region, svc)))
    return entries


def ensure_catalog(ks: Keystone, entries: list[CatalogEntry]) -> None:
    """Regions, services and public/internal/admin endpoints for ``entries``, in their order."""
    regions: set[str] = set()
    service_ids: dict[tuple[str, str], str] = {}
    for entry in entries:
        if entry.region not in regions:
            ks.ensure_region(entry.region)
            regions.add(entry.region)
        key = (entry.service_type, entry.service_name)
        if key not in service_ids:
            service_ids[key] = ks.service_id(*key)
        ks.ensure_endpoints(service_ids[key], entry.region, entry.url)


def setup_identity(layout: Layout, regions: list[Region]) -> None:
    """Service users (admin + service roles in ``service``), demo users, roles, and the regions' catalog."""
    ks = admin_client(layout)
    service_project = ks.ensure("projects", "service", {"domain_id": "default", "description": "services"})
    roles = {r: ks.ensure("roles", r, {}) for r in ("admin", "member", "reader", "service")}
    for user in SERVICE_USERS:
        pw = ATOLL_PASSWORD if user == "atoll" else SERVICE_PASSWORD
        uid = ks.ensure_user(user, pw, service_project)
        ks.grant(service_project, uid, roles["admin"])
        ks.grant(service_project, uid, roles["service"])
    for user, (pw, project, role) in USERS.items():
        pid = ks.ensure("projects", project, {"domain_id": "default"})
        uid = ks.ensure_user(user, pw, pid)
        ks.grant(pid, uid, roles[role])
    ensure_catalog(ks, [entry for region in regions for entry in region_catalog(layout, region)])
