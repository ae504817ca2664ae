"""Regions and their services: configs, database migrations, and the processes of each region.

``RegionOne`` runs only the central Neutron API; a pod runs Neutron,
Placement, Nova (API, conductor, scheduler, compute), Cinder (API,
scheduler, volume) and Glance.  ``bring_up`` renders a region's configs,
migrates its databases (or restores their cached dump), starts its
processes and waits until its APIs answer.
"""

from __future__ import annotations

import shutil
import subprocess
import time

from testbed import databases, venvs
from testbed.layout import Layout, Region
from testbed.procs import Service, start_service, wait_service
from testbed.services import base_env, daemons, gunicorn
from testbed.util import run, say

# State directories of a region's services (a top region has only Neutron's).
_DIRS = (
    "neutron/lock",
    "nova/lock",
    "nova/instances",
    "cinder/lock",
    "cinder/volumes",
    "cinder/coordination",
    "glance/images",
    "glance/staging",
    "glance/tasks",
    "glance/lock",
    "glance/cache",
)


def services(layout: Layout, region: Region) -> list[Service]:
    """The region's processes, in start order."""
    out: list[Service] = []
    s = region.short
    env = base_env()
    neu = layout.confdir(region, "neutron")
    env_n = dict(
        env,
        OS_NEUTRON_CONFIG_DIR=str(neu),
        OS_NEUTRON_CONFIG_FILES=f"{neu}/neutron.conf;{neu}/plugins/ml2/ml2_conf.ini",
    )
    out.append(gunicorn(layout, f"{s}-neutron-api", "neutron", layout.port(region, "neutron"), env_n))
    if region.is_top:
        return out
    novad = layout.confdir(region, "nova")
    nova_conf = str(novad / "nova.conf")
    env_nova = dict(env, OS_NOVA_CONFIG_DIR=str(novad))
    env_placement = dict(env, OS_PLACEMENT_CONFIG_DIR=str(layout.confdir(region, "placement")))
    out.append(gunicorn(layout, f"{s}-placement-api", "placement", layout.port(region, "placement"), env_placement))
    nova_log = ["--log-file", str(layout.logdir / f"{s}-nova-api.log")]
    out.append(gunicorn(layout, f"{s}-nova-api", "nova", layout.port(region, "nova"), env_nova, nova_log))
    out += daemons(layout, s, "nova", ("conductor", "scheduler", "compute"), nova_conf, env_nova)
    cinder_conf = str(layout.confdir(region, "cinder") / "cinder.conf")
    cinder_args = ["--config-file", cinder_conf, "--log-file", str(layout.logdir / f"{s}-cinder-api.log")]
    out.append(gunicorn(layout, f"{s}-cinder-api", "cinder", layout.port(region, "cinder"), env, cinder_args))
    out += daemons(layout, s, "cinder", ("scheduler", "volume"), cinder_conf, env)
    env_glance = dict(env, OS_GLANCE_CONFIG_DIR=str(layout.confdir(region, "glance")))
    out.append(gunicorn(layout, f"{s}-glance-api", "glance", layout.port(region, "glance"), env_glance))
    return out


def render(layout: Layout, region: Region) -> None:
    """Every config file of the region's services, and their state directories."""
    rd = layout.regiondir(region)
    values = {
        "name": region.short,
        "region": region.name,
        "regiondir": str(rd),
        "transport_url": layout.transport_url(region),
        "glance_port": str(0 if region.is_top else layout.port(region, "glance")),
    }
    for sub in _DIRS:
        if region.is_top and not sub.startswith("neutron"):
            continue
        (rd / sub).mkdir(parents=True, exist_ok=True)
    neu = layout.confdir(region, "neutron")
    layout.render("neutron.conf", neu / "neutron.conf", service_user="neutron", **values)
    layout.render("ml2_conf.ini", neu / "plugins/ml2/ml2_conf.ini", **values)
    shutil.copyfile(venvs.venv_path("neutron") / "etc/neutron/api-paste.ini", neu / "api-paste.ini")
    if region.is_top:
        return
    nova = layout.confdir(region, "nova")
    layout.render("nova.conf", nova / "nova.conf", service_user="nova", confdir=str(nova), **values)
    shutil.copyfile(venvs.venv_path("nova") / "etc/nova/api-paste.ini", nova / "api-paste.ini")
    placement = layout.confdir(region, "placement") / "placement.conf"
    layout.render("placement.conf", placement, service_user="placement", **values)
    cinder = layout.confdir(region, "cinder")
    layout.render("cinder.conf", cinder / "cinder.conf", service_user="cinder", confdir=str(cinder), **values)
    for fname in ("api-paste.ini", "resource_filters.json"):
        shutil.copyfile(venvs.venv_path("cinder") / "etc/cinder" / fname, cinder / fname)
    glance = layout.confdir(region, "glance")
    layout.render("glance-api.conf", glance / "glance-api.conf", service_user="glance", **values)
    paste = "glance-api-paste.ini"
    shutil.copyfile(venvs.venv_path("glance") / "etc/glance" / paste, glance / paste)


def migrate(layout: Layout, region: Region) -> None:
    """Migrate the region's databases unless they are (a marker and tables in every one)."""
    marker = layout.regiondir(region) / ".migrated"
    dbs = layout.databases(region)
    if marker.exists() and databases.schemas_present(layout, dbs):
        return
    names = ["neutron"] if region.is_top else ["neutron", "nova", "cinder", "glance"]
    extra = [layout.transport_url(region)]
    databases.migrate_or_restore(layout, region.short, dbs, names, extra, lambda: _migrate(layout, region))
    marker.write_text(str(time.time()))


def _migrate(layout: Layout, region: Region) -> None:
    log = layout.logdir / f"{region.short}-setup.log"
    neu = layout.confdir(region, "neutron")
    neutron_confs = ["--config-file", str(neu / "neutron.conf"), "--config-file", str(neu / "plugins/ml2/ml2_conf.ini")]
    run([str(venvs.venv_path("neutron") / "bin/neutron-db-manage"), *neutron_confs, "upgrade", "heads"], log)
    if region.is_top:
        return
    nbin = venvs.venv_path("nova") / "bin"
    nm = [str(nbin / "nova-manage"), "--config-file", str(layout.confdir(region, "nova") / "nova.conf")]
    placement_conf = str(layout.confdir(region, "placement") / "placement.conf")
    run([str(nbin / "placement-manage"), "--config-file", placement_conf, "db", "sync"], log)
    run([*nm, "api_db", "sync"], log)
    cell0 = f"{layout.db_url}/{layout.db_prefix}{region.short}_nova_cell0"
    run([*nm, "cell_v2", "map_cell0", "--database_connection", cell0], log)
    cells = subprocess.run([*nm, "cell_v2", "list_cells"], capture_output=True, text=True, check=False).stdout
    if " cell1 " not in cells:
        run([*nm, "cell_v2", "create_cell", "--name", "cell1"], log)
    run([*nm, "db", "sync"], log)
    cinder_conf = str(layout.confdir(region, "cinder") / "cinder.conf")
    run([str(venvs.venv_path("cinder") / "bin/cinder-manage"), "--config-file", cinder_conf, "db", "sync"], log)
    glance_conf = str(layout.confdir(region, "glance") / "glance-api.conf")
    glance_manage = [str(venvs.venv_path("glance") / "bin/glance-manage"), "--config-file", glance_conf]
    run([*glance_manage, "db_sync"], log)
    # The metadata definitions Glance ships (its resource types among them), as DevStack loads them:
    # Tempest's metadefs tests associate a namespace with the first resource type listed.
    run([*glance_manage, "db", "load_metadefs", "--path", str(venvs.venv_path("glance") / "etc/glance/metadefs")], log)


def start(layout: Layout, region: Region) -> None:
    """Start the region's processes that are not running; wait until its APIs answer."""
    procs = layout.procs
    region_services = services(layout, region)
    for svc in region_services:
        start_service(procs, svc, layout.state)
    for svc in region_services:
        wait_service(procs, svc)


def bring_up(layout: Layout, region: Region) -> None:
    t0 = time.monotonic()
    render(layout, region)
    migrate(layout, region)
    t1 = time.monotonic()
    start(layout, region)
    say(f"  {region.name}: migrations {t1 - t0:.1f}s, services answer after {time.monotonic() - t1:.1f}s more")
