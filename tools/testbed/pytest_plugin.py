"""pytest fixtures for the real OpenStack test bed.

Enable with ``pytest_plugins = ["testbed.pytest_plugin"]`` (``tools`` on
``pythonpath``).  Fixtures (session scope):

- ``testbed``: the full test bed (Keystone, RegionOne's central Neutron,
  pods Pod1..PodN), for tests marked ``realpods``;
- ``keystone``: only Keystone with the users/projects, for tests marked
  ``keystone``.

A fixture reuses a test bed that is already up and leaves it running; if it
had to start it, it stops it (``scripts/testbed down``) at the end of the
session unless ``ATOLL_TESTBED_KEEP=1``.  ``ATOLL_TESTBED_PODS`` sets the
number of pods (default 2).
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from testbed.util import http

REGISTRY_TTL = 5.0
"""Atoll's `[gateway] registry_ttl` default: how long a process may serve a pod's old status."""

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SCRIPT = REPO / "scripts" / "testbed"


def _state_dir() -> Path:
    raw = Path(os.environ.get("ATOLL_TESTBED_DIR") or ".testbed")
    return raw if raw.is_absolute() else REPO / raw


class TestbedCommandError(AssertionError):
    pass


def run_testbed(*args: str, timeout: float = 3600) -> str:
    """Run ``scripts/testbed ARGS``; return its output, raise on failure."""
    log = _state_dir() / "logs" / "pytest.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    res = subprocess.run(
        ["bash", str(SCRIPT), *args], check=False, capture_output=True, text=True, timeout=timeout, cwd=str(REPO)
    )
    out = res.stdout + res.stderr
    with open(log, "a") as fh:
        fh.write(f"\n$ scripts/testbed {' '.join(args)} -> {res.returncode} ({time.monotonic() - start:.1f}s)\n{out}")
    if res.returncode != 0:
        raise TestbedCommandError(f"scripts/testbed {' '.join(args)} failed ({res.returncode}):\n{out[-4000:]}")
    return out


@dataclass
class TestbedHandle:
    """What a test needs to talk to the test bed."""

    state_dir: Path
    clouds_yaml: Path
    auth_url: str
    regions: list[str]
    pod_regions: list[str]
    top_region: str
    admin: dict[str, Any]
    demo: dict[str, Any]
    alt: dict[str, Any]
    client_venv: Path
    image: dict[str, Any] = field(default_factory=dict)
    flavor: dict[str, Any] = field(default_factory=dict)
    ports: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_state(cls, state: Path) -> TestbedHandle:
        info = json.loads((state / "testbed.json").read_text())
        creds = info["credentials"]
        return cls(
            state_dir=state,
            clouds_yaml=Path(info["clouds_yaml"]),
            auth_url=info["auth_url"],
            regions=info["regions"],
            pod_regions=info["pod_regions"],
            top_region=info["top_region"],
            admin=creds["admin"],
            demo=creds["demo"],
            alt=creds["alt"],
            client_venv=Path(info["client_venv"]),
            image=info.get("image", {}),
            flavor=info.get("flavor", {}),
            ports=info.get("ports", {}),
            info=info,
        )

    # -- openstack CLI from the client venv -------------------------------
    def cli_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env["OS_CLIENT_CONFIG_FILE"] = str(self.clouds_yaml)
        env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
        return env

    def openstack(
        self,
        *args: str,
        cloud: str = "testbed-demo",
        region: str | None = None,
        json_output: bool = True,
        check: bool = True,
        timeout: float = 300,
    ) -> Any:
        """Run ``openstack ARGS``; JSON-decoded output if ``json_output``.

        With ``check=False`` returns the CompletedProcess instead.
        """
        argv = [str(self.client_venv / "bin" / "openstack"), "--os-cloud", cloud]
        if region:
            argv += ["--os-region-name", region]
        argv += list(args)
        if json_output and check:
            argv += ["-f", "json"]
        res = subprocess.run(argv, check=False, capture_output=True, text=True, env=self.cli_env(), timeout=timeout)
        if not check:
            return res
        if res.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} failed ({res.returncode}):\n{res.stderr[-3000:]}")
        if json_output:
            return json.loads(res.stdout) if res.stdout.strip() else None
        return res.stdout

    # -- openstacksdk (from the calling venv) -----------------------------
    def connect(self, cloud: str = "testbed-demo", region: str | None = None) -> Any:
        """An ``openstack.connection.Connection`` for a cloud and region."""
        import warnings

        import openstack.config
        import openstack.connection

        with warnings.catch_warnings():
            # openstacksdk 4.x warns about its (unused) InfluxDB support on
            # every Connection; projects running with -W error would fail.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            config = openstack.config.OpenStackConfig(config_files=[str(self.clouds_yaml)], vendor_files=[])
            region_cfg = config.get_one(cloud=cloud, region_name=region or self.top_region)
            return openstack.connection.Connection(config=region_cfg)

    def credentials(self, who: str = "demo") -> dict[str, Any]:
        c = dict(getattr(self, who))
        c.update(auth_url=self.auth_url, user_domain_name="Default", project_domain_name="Default")
        c.pop("cloud", None)
        return c

    # -- lifecycle -------------------------------------------------------
    def stop_pod(self, name: str) -> None:
        run_testbed("stop-pod", name, timeout=300)

    def start_pod(self, name: str) -> None:
        """Start the pod again; with Atoll on the bed, return once Atoll serves it as up again.

        That is: a probe that ran after the restart saw it up (Atoll's pods API), and every
        process's pod registry has had time to refresh (`[gateway] registry_ttl`, 5 s). Without
        this, the next test could meet the "down" a probe wrote while the pod was stopped.
        """
        run_testbed("start-pod", name, timeout=600)
        if not self.info.get("atoll_url"):
            return
        started = datetime.datetime.now(datetime.UTC)
        token = self.openstack("token", "issue", cloud="testbed-admin")["id"]
        url = f"{str(self.info['atoll_url']).rstrip('/')}/v1.0/pods"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            pods = http("GET", url, token=token).json()["pods"]
            pod = next(p for p in pods if p["region_name"] == name)
            seen = pod.get("last_seen_at")
            if pod["status"] == "up" and seen and datetime.datetime.fromisoformat(seen) > started:
                time.sleep(REGISTRY_TTL + 1)
                return
            time.sleep(1)
        raise AssertionError(f"Atoll did not see {name} up again within 120 s: {pod}")

    def port(self, region: str, service: str) -> int:
        return int(self.ports[region][service])


def _full_up(state: Path, pods: int) -> bool:
    try:
        info = json.loads((state / "testbed.json").read_text())
    except (FileNotFoundError, ValueError):
        return False
    if info.get("keystone_only") or len(info.get("pod_regions", [])) < pods:
        return False
    res = subprocess.run(["bash", str(SCRIPT), "status"], check=False, capture_output=True, text=True, cwd=str(REPO))
    return res.returncode == 0


def _keystone_up(state: Path) -> bool:
    try:
        info = json.loads((state / "testbed.json").read_text())
    except (FileNotFoundError, ValueError):
        return False
    import urllib.request

    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(info["auth_url"], timeout=5) as resp:
            return resp.status == 200 and (state / "clouds.yaml").exists()
    except OSError:
        return False


class _Lifecycle:
    def __init__(self) -> None:
        self.started = False

    def finish(self) -> None:
        if self.started and os.environ.get("ATOLL_TESTBED_KEEP") != "1":
            run_testbed("down", timeout=600)
            self.started = False


@pytest.fixture(scope="session")
def _testbed_lifecycle() -> Iterator[_Lifecycle]:
    lc = _Lifecycle()
    yield lc
    lc.finish()


@pytest.fixture(scope="session")
def testbed(_testbed_lifecycle: _Lifecycle) -> TestbedHandle:
    """The full test bed (reused if already up)."""
    state = _state_dir()
    pods = int(os.environ.get("ATOLL_TESTBED_PODS") or 2)
    if not _full_up(state, pods):
        _testbed_lifecycle.started = True
        run_testbed("up", "--pods", str(pods))
    return TestbedHandle.from_state(state)


@pytest.fixture(scope="session")
def keystone(_testbed_lifecycle: _Lifecycle) -> TestbedHandle:
    """Only Keystone (users demo/alt_demo/admin); reused if already up."""
    state = _state_dir()
    if not _keystone_up(state):
        _testbed_lifecycle.started = True
        run_testbed("up", "--keystone-only", timeout=1800)
    return TestbedHandle.from_state(state)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "realpods: needs the real OpenStack test bed (slow)")
    config.addinivalue_line("markers", "keystone: needs a real Keystone from the test bed")
