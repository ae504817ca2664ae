"""Where everything of the test bed is: regions, ports, names, paths, rendered configs.

A region is a Keystone region: ``RegionOne`` (index 0, the central Neutron)
and ``Pod1..PodN`` (index N).  Every port is ``base + 100 * index + offset``;
every database and vhost name starts with the prefix, so two test beds with
different bases and prefixes never meet.  ``Layout`` holds these settings
(from the environment, else from the last ``up``'s ``testbed.json``) and
answers every "where is ..." question; it starts and changes nothing but
the config files it renders.
"""

from __future__ import annotations

import json
import os
import string
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testbed.procs import ProcessTable
from testbed.util import TestbedError, say, write_if_changed

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TEMPLATES = HERE / "templates"

TOP_REGION = "RegionOne"
ADMIN_PASSWORD = "admin"
SERVICE_PASSWORD = "tb-service-secret"
ATOLL_PASSWORD = "tb-atoll-secret"
USERS = {  # name -> (password, project, role)
    "demo": ("demo-secret", "demo", "member"),
    "alt_demo": ("alt-demo-secret", "alt_demo", "member"),
}
SERVICE_USERS = ["nova", "neutron", "cinder", "glance", "placement", "atoll"]
IMAGE_NAME = "testbed-image"
IMAGE_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "atoll-testbed-image"))
IMAGE_DATA = b"ATOLL-TESTBED-RAW-IMAGE\n" * 256  # 6 KiB
FLAVOR: dict[str, str | int] = {"id": "1", "name": "m1.tiny", "ram": 512, "vcpus": 1, "disk": 1}
ATOLL_PORT = int(os.environ.get("ATOLL_TESTBED_ATOLL_PORT") or 19999)

PORT_OFFSETS = {"nova": 74, "cinder": 76, "placement": 78, "glance": 92, "neutron": 96}
API_SERVICES = ["placement", "nova", "cinder", "glance", "neutron"]


def _env_int(name: str, default: int) -> int:
    val = os.environ.get(name)
    return int(val) if val else default


@dataclass(frozen=True)
class Region:
    name: str  # Keystone region name: RegionOne, Pod1, ...
    index: int  # 0 for the top region
    short: str  # top, pod1, ...

    @property
    def is_top(self) -> bool:
        return self.index == 0

    @property
    def services(self) -> list[str]:
        return ["neutron"] if self.is_top else list(API_SERVICES)


@dataclass
class Layout:
    state: Path
    pods: int = 2
    base_port: int = 25000
    db_prefix: str = "tb_"
    db_host: str = "127.0.0.1"
    db_port: int = 3306
    db_user: str = "root"
    db_password: str = ""
    rabbit: str = "guest:guest@127.0.0.1:5672"
    debug: bool = False

    @classmethod
    def load(cls, pods: int | None = None) -> Layout:
        """The settings of the environment, else of the last ``up``; ``pods`` never shrinks what is up."""
        raw = os.environ.get("ATOLL_TESTBED_DIR") or ".testbed"
        state = Path(raw)
        if not state.is_absolute():
            state = REPO / state
        layout = cls(state=state.resolve())
        saved = layout.saved()
        layout.base_port = _env_int("ATOLL_TESTBED_BASE_PORT", saved.get("base_port", 25000))
        layout.db_prefix = os.environ.get("ATOLL_TESTBED_DB_PREFIX") or saved.get("db_prefix", "tb_")
        layout.debug = os.environ.get("ATOLL_TESTBED_DEBUG", "") not in ("", "0")
        recorded = 0 if saved.get("keystone_only", True) else saved.get("pods", 0)
        layout.pods = pods if pods is not None else (recorded or 2)
        if layout.pods < recorded:
            say(f"{recorded} pods are up already; keeping them (`down` first to shrink)")
            layout.pods = recorded
        if layout.base_port <= ATOLL_PORT < layout.base_port + 100 * (layout.pods + 1):
            raise TestbedError(f"port range of base {layout.base_port} would cover Atoll's port {ATOLL_PORT}")
        return layout

    def saved(self) -> dict[str, Any]:
        """``testbed.json`` as the last ``up`` wrote it ({} if none)."""
        try:
            saved: dict[str, Any] = json.loads((self.state / "testbed.json").read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return saved

    @property
    def recorded_pods(self) -> int:
        """Pods to account for: those asked for or those a previous ``up`` made, whichever is more."""
        return max(self.pods, int(self.saved().get("pods", 0)))

    @property
    def logdir(self) -> Path:
        return self.state / "logs"

    @property
    def procs(self) -> ProcessTable:
        return ProcessTable(self.state / "pids")

    @property
    def auth_url(self) -> str:
        return f"http://127.0.0.1:{self.base_port}/v3"

    @property
    def db_url(self) -> str:
        cred = self.db_user + (f":{self.db_password}" if self.db_password else "")
        return f"mysql+pymysql://{cred}@{self.db_host}:{self.db_port}"

    @property
    def rabbit_url(self) -> str:
        return f"rabbit://{self.rabbit}"

    def regions(self, pods: int | None = None) -> list[Region]:
        n = self.pods if pods is None else pods
        return [Region(TOP_REGION, 0, "top")] + [Region(f"Pod{i}", i, f"pod{i}") for i in range(1, n + 1)]

    def region(self, name: str) -> Region:
        regions = self.regions(self.recorded_pods)
        for r in regions:
            if name.lower() in (r.name.lower(), r.short):
                return r
        raise TestbedError(f"no region named {name!r} (have: {', '.join(r.name for r in regions)})")

    def port(self, region: Region, service: str) -> int:
        return self.base_port + 100 * region.index + PORT_OFFSETS[service]

    def endpoint(self, region: Region, service: str) -> str:
        base = f"http://127.0.0.1:{self.port(region, service)}"
        return {
            "nova": base + "/v2.1",
            "cinder": base + "/v3/%(project_id)s",
        }.get(service, base)

    def regiondir(self, region: Region) -> Path:
        return self.state / "regions" / region.short

    def confdir(self, region: Region, service: str) -> Path:
        return self.regiondir(region) / "etc" / service

    def transport_url(self, region: Region) -> str:
        return f"{self.rabbit_url}/{self.vhost(region)}"

    def vhost(self, region: Region) -> str:
        return f"{self.db_prefix}{region.short}"

    @property
    def keystone_database(self) -> str:
        return f"{self.db_prefix}keystone"

    def databases(self, region: Region) -> list[str]:
        p = f"{self.db_prefix}{region.short}_"
        if region.is_top:
            return [p + "neutron"]
        return [p + s for s in ("nova_api", "nova", "nova_cell0", "placement", "cinder", "neutron", "glance")]

    def render(self, template: str, dest: Path, **values: str) -> bool:
        """Write ``templates/<template>`` filled in to ``dest``; True if the file changed."""
        text = (TEMPLATES / template).read_text()
        base = {
            "logdir": str(self.logdir),
            "statedir": str(self.state),
            "db_url": self.db_url,
            "db_prefix": self.db_prefix,
            "auth_url": self.auth_url,
            "debug": str(self.debug).lower(),
            "service_password": SERVICE_PASSWORD,
        }
        base.update(values)
        if "${authtoken}" in text:
            frag = (TEMPLATES / "authtoken.fragment").read_text()
            base["authtoken"] = string.Template(frag).substitute(base).strip()
        return write_if_changed(dest, string.Template(text).substitute(base))
