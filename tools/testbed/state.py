"""What the test bed tells its users: ``testbed.json`` (for tests and tools) and ``clouds.yaml`` (for clients).

``testbed.json`` is also the test bed's memory: ``up`` records what it is
about to create before creating it (``record_intent``), so ``down`` can
clean up after a failed or interrupted ``up``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from testbed.layout import (
    ADMIN_PASSWORD,
    ATOLL_PASSWORD,
    ATOLL_PORT,
    FLAVOR,
    IMAGE_ID,
    IMAGE_NAME,
    TOP_REGION,
    USERS,
    Layout,
)
from testbed.util import write_if_changed


def _write_json(layout: Layout, info: dict[str, Any]) -> None:
    write_if_changed(layout.state / "testbed.json", json.dumps(info, indent=2) + "\n")


def record_intent(layout: Layout, keystone_only: bool) -> None:
    """Add to ``testbed.json`` the ports, prefix and pods an ``up`` is about to use."""
    saved = layout.saved()
    pre = dict(saved) if saved else {}
    pre.update(
        {
            "base_port": layout.base_port,
            "db_prefix": layout.db_prefix,
            "pods": max(layout.pods if not keystone_only else 0, saved.get("pods", 0)),
            "keystone_only": saved.get("keystone_only", True) and keystone_only,
        }
    )
    _write_json(layout, pre)


def _cloud(layout: Layout, name: str, user: str, password: str, project: str, region_names: list[str]) -> str:
    return (
        f"  {name}:\n"
        f"    auth:\n"
        f"      auth_url: {layout.auth_url}\n"
        f"      username: {user}\n"
        f"      password: {password}\n"
        f"      project_name: {project}\n"
        f"      user_domain_name: Default\n"
        f"      project_domain_name: Default\n"
        f"    identity_api_version: 3\n"
        f"    interface: public\n"
        f"    regions:\n" + "".join(f"      - {r}\n" for r in region_names)
    )


def write_clouds(layout: Layout, keystone_only: bool) -> Path:
    """``clouds.yaml`` with testbed-admin, testbed-demo, testbed-alt; every region listed, RegionOne first."""
    # The first region is the default; --os-region-name picks another.
    saved = layout.saved()
    region_names = (
        [TOP_REGION]
        if keystone_only and saved.get("keystone_only", True)
        else [r.name for r in layout.regions(layout.recorded_pods)]
    )
    clouds = [
        _cloud(layout, "testbed-admin", "admin", ADMIN_PASSWORD, "admin", region_names),
        _cloud(layout, "testbed-demo", "demo", *USERS["demo"][:2], region_names),
        _cloud(layout, "testbed-alt", "alt_demo", *USERS["alt_demo"][:2], region_names),
    ]
    path = layout.state / "clouds.yaml"
    layout.render("clouds.yaml", path, clouds="".join(clouds).rstrip())
    return path


def _credentials() -> dict[str, dict[str, str]]:
    return {
        "admin": {"username": "admin", "password": ADMIN_PASSWORD, "project_name": "admin", "cloud": "testbed-admin"},
        "demo": {"username": "demo", "password": USERS["demo"][0], "project_name": "demo", "cloud": "testbed-demo"},
        "alt": {
            "username": "alt_demo",
            "password": USERS["alt_demo"][0],
            "project_name": "alt_demo",
            "cloud": "testbed-alt",
        },
        "atoll": {"username": "atoll", "password": ATOLL_PASSWORD, "project_name": "service"},
    }


def write_state(layout: Layout, keystone_only: bool, atoll: bool) -> None:
    """``testbed.json``: everything a test needs (see ``pytest_plugin.TestbedHandle``)."""
    regions = [] if keystone_only else layout.regions()
    info: dict[str, Any] = {
        "pods": layout.pods,
        "base_port": layout.base_port,
        "db_prefix": layout.db_prefix,
        "keystone_only": keystone_only,
        "atoll": atoll,
        "state_dir": str(layout.state),
        "auth_url": layout.auth_url,
        "clouds_yaml": str(layout.state / "clouds.yaml"),
        "client_venv": str(layout.state / "venvs" / "client"),
        "regions": [r.name for r in regions],
        "pod_regions": [r.name for r in regions if not r.is_top],
        "top_region": TOP_REGION,
        "credentials": _credentials(),
        "image": {"id": IMAGE_ID, "name": IMAGE_NAME},
        "flavor": {"id": FLAVOR["id"], "name": FLAVOR["name"]},
        "ports": {r.name: {s: layout.port(r, s) for s in r.services} for r in regions},
        "atoll_url": f"http://127.0.0.1:{ATOLL_PORT}" if atoll else None,
        "updated": time.time(),
    }
    old = layout.saved()
    info["pods"] = max(layout.pods, old.get("pods", 0)) if not keystone_only else old.get("pods", layout.pods)
    if keystone_only and not old.get("keystone_only", True):
        # A full test bed is already recorded; keep describing it.
        info.update({k: old[k] for k in ("keystone_only", "regions", "pod_regions", "ports", "pods") if k in old})
    layout.state.mkdir(parents=True, exist_ok=True)
    _write_json(layout, info)
