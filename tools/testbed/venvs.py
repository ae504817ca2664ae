"""Cached virtualenvs for the test bed.

Each service gets its own venv, built once per (requirement list, python
version) and kept in a machine-wide cache so fresh clones reuse it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

# Bump when the way venvs are built changes.
LAYOUT_VERSION = 1

SPECS: dict[str, list[str]] = {
    "keystone": ["keystone==30.0.0", "PyMySQL", "gunicorn"],
    "glance": ["glance==33.0.0", "PyMySQL", "gunicorn"],
    "cinder": ["cinder==29.0.0", "PyMySQL", "gunicorn", "fixtures"],
    "neutron": ["neutron==29.0.0", "PyMySQL", "gunicorn"],
    "nova": ["nova==34.0.0", "openstack-placement==16.0.0", "PyMySQL", "gunicorn"],
    "client": ["python-openstackclient", "openstacksdk"],
}


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
            res = subprocess.run(pip + SPECS[name], stdout=out, stderr=subprocess.STDOUT)
            if res.returncode != 0:
                raise RuntimeError(f"pip install for venv {name} failed, see {log}")
        (path / ".complete").write_text(json.dumps({"reqs": SPECS[name], "built": time.time()}))
    return path


if __name__ == "__main__":  # manual use: python -m testbed.venvs NAME...
    for n in sys.argv[1:] or list(SPECS):
        print(build(n, Path(f"/tmp/testbed-venv-{n}.log")))
