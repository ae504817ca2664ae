"""Cached virtualenvs for the test bed.

Each service gets its own venv, built once per (requirement list, python
version) and kept in a machine-wide cache so fresh clones reuse it; a test
bed links the venvs it uses into ``<state>/venvs`` and overlays its plugins
(``plugins/testbed_plugins``) into the Neutron, Cinder and Nova venvs.
"""

from __future__ import annotations

import concurrent.futures
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from testbed.util import say, write_if_changed

PLUGINS = Path(__file__).resolve().parent / "plugins"

# Bump when the way venvs are built changes.
LAYOUT_VERSION = 1

SPECS: dict[str, list[str]] = {
    "keystone": ["keystone==30.0.0", "PyMySQL", "gunicorn"],
    "glance": ["glance==33.0.0", "PyMySQL", "gunicorn"],
    "cinder": ["cinder==29.0.0", "PyMySQL", "gunicorn", "fixtures"],
    "neutron": ["neutron==29.0.0", "PyMySQL", "gunicorn"],
    "nova": ["nova==34.0.0", "openstack-placement==16.0.0", "PyMySQL", "gunicorn"],
    "client": ["python-openstackclient", "openstacksdk"],
    "tempest": ["tempest==47.0.0"],
}
ON_DEMAND = frozenset({"tempest"})
"""Venvs built only by what uses them (scripts/tempest), not by every `up`."""


def cache_dir() -> Path:
    return Path(os.environ.get("ATOLL_TESTBED_CACHE") or Path.home() / ".cache" / "atoll" / "testbed").expanduser()


def venv_key(name: str) -> str:
    reqs = sorted(SPECS[name])
    blob = json.dumps(
        {"reqs": reqs, "python": list(sys.version_info[:3]), "impl": sys.implementation.name, "layout": LAYOUT_VERSION},
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def venv_path(name: str) -> Path:
    return cache_dir() / "venvs" / f"{name}-{venv_key(name)}"


def is_ready(name: str) -> bool:
    return (venv_path(name) / ".complete").exists()


def build(name: str, log: Path) -> Path:
    """Build (or reuse) the venv for ``name``; return its path."""
    path = venv_path(name)
    if (path / ".complete").exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.parent / f".{path.name}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (path / ".complete").exists():
            return path
        if path.exists():
            shutil.rmtree(path)
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a") as out:
            out.write(f"=== building {name} venv at {path} ({time.ctime()})\n")
            out.flush()
            subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, stdout=out, stderr=subprocess.STDOUT)
            pip = [str(path / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "install", "-q"]
            subprocess.run(
                [*pip, "--upgrade", "pip", "setuptools", "wheel"], check=True, stdout=out, stderr=subprocess.STDOUT
            )
            res = subprocess.run(pip + SPECS[name], stdout=out, stderr=subprocess.STDOUT, check=False)
            if res.returncode != 0:
                raise RuntimeError(f"pip install for venv {name} failed, see {log}")
        (path / ".complete").write_text(json.dumps({"reqs": SPECS[name], "built": time.time()}))
    return path


def install(names: list[str], logdir: Path, state: Path) -> None:
    """Build the missing venvs (two at a time), overlay the plugins, link each into ``<state>/venvs``."""
    missing = [n for n in names if not is_ready(n)]
    if missing:
        say(f"building venvs (cached in {cache_dir()}): {', '.join(missing)}")
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            futs = {pool.submit(build, n, logdir / f"venv-{n}.log"): n for n in missing}
            for fut in concurrent.futures.as_completed(futs):
                fut.result()
                say(f"  venv {futs[fut]} ready")
    for n in names:
        if n in ("neutron", "cinder", "nova"):
            overlay_plugins(n)
    link_dir = state / "venvs"
    link_dir.mkdir(parents=True, exist_ok=True)
    for n in names:
        link = link_dir / n
        target = venv_path(n)
        if link.is_symlink() and os.readlink(link) == str(target):
            continue
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target)


def overlay_plugins(venv_name: str) -> None:
    """Install testbed_plugins into a service venv (module + entry point)."""
    venv = venv_path(venv_name)
    site = next((venv / "lib").glob("python3*/site-packages"))
    pkg = site / "testbed_plugins"
    pkg.mkdir(exist_ok=True)
    for src in (PLUGINS / "testbed_plugins").glob("*.py"):
        write_if_changed(pkg / src.name, src.read_text())
    dist = site / "testbed_plugins-0.0.0.dist-info"
    dist.mkdir(exist_ok=True)
    write_if_changed(dist / "METADATA", "Metadata-Version: 2.1\nName: testbed-plugins\nVersion: 0.0.0\n")
    write_if_changed(
        dist / "entry_points.txt",
        "[neutron.ml2.mechanism_drivers]\ntestbed = testbed_plugins.neutron_mech:TestbedMechanismDriver\n",
    )
    write_if_changed(dist / "INSTALLER", "atoll-testbed\n")
    write_if_changed(dist / "RECORD", "")
    if venv_name == "nova":  # Nova loads its compute driver from nova.virt only (`compute_driver = testbed_fake....`)
        write_if_changed(site / "nova/virt/testbed_fake.py", (PLUGINS / "testbed_plugins/nova_fake.py").read_text())


if __name__ == "__main__":  # manual use: python -m testbed.venvs NAME...
    for n in sys.argv[1:] or list(SPECS):
        print(build(n, Path(tempfile.gettempdir()) / f"testbed-venv-{n}.log"))
