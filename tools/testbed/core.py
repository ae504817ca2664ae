"""The test bed: one Keystone, a top region with a central Neutron, N pods.

Stdlib only: it runs under the system ``python3``; OpenStack itself runs
from cached venvs (see ``venvs.py``).
"""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import json
import os
import shutil
import signal
import string
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from testbed import venvs
from testbed.procs import ProcessTable, rss_kib
from testbed.util import TestbedError, answers, http, run, say, stage, tail, wait_until, write_if_changed

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TEMPLATES = HERE / "templates"
RUNTIME = HERE / "runtime"
PLUGINS = HERE / "plugins"

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
FLAVOR = {"id": "1", "name": "m1.tiny", "ram": 512, "vcpus": 1, "disk": 1}
ATOLL_PORT = 19999
LAYOUT_SNAPSHOT = 1  # bump when what goes into a DB snapshot changes

# port = base + 100 * region_index + offset (RegionOne = 0, PodN = N)
PORT_OFFSETS = {"nova": 74, "cinder": 76, "placement": 78, "glance": 92, "neutron": 96}
API_SERVICES = ["placement", "nova", "cinder", "glance", "neutron"]
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


def _env_int(name: str, default: int) -> int:
    val = os.environ.get(name)
    return int(val) if val else default


@dataclass
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
class Service:
    name: str  # process name, e.g. pod1-nova-api
    region: Region | None
    argv: list[str]
    env: dict
    log: Path
    port: int | None = None
    health: str | None = None  # URL that must answer
    api: bool = False


@dataclass
class Testbed:
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
    timings: list = field(default_factory=list)

    # ------------------------------------------------------------ layout
    @classmethod
    def load(cls, pods: int | None = None) -> Testbed:
        raw = os.environ.get("ATOLL_TESTBED_DIR") or ".testbed"
        state = Path(raw)
        if not state.is_absolute():
            state = REPO / state
        tb = cls(state=state.resolve())
        saved = tb.saved()
        tb.base_port = _env_int("ATOLL_TESTBED_BASE_PORT", saved.get("base_port", 25000))
        tb.db_prefix = os.environ.get("ATOLL_TESTBED_DB_PREFIX") or saved.get("db_prefix", "tb_")
        tb.debug = os.environ.get("ATOLL_TESTBED_DEBUG", "") not in ("", "0")
        recorded = 0 if saved.get("keystone_only", True) else saved.get("pods", 0)
        tb.pods = pods if pods is not None else (recorded or 2)
        if tb.pods < recorded:
            say(f"{recorded} pods are up already; keeping them (`down` first to shrink)")
            tb.pods = recorded
        if tb.base_port <= ATOLL_PORT < tb.base_port + 100 * (tb.pods + 1):
            raise TestbedError(f"port range of base {tb.base_port} would cover Atoll's port {ATOLL_PORT}")
        return tb

    def saved(self) -> dict:
        try:
            return json.loads((self.state / "testbed.json").read_text())
        except (FileNotFoundError, ValueError):
            return {}

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

    def regions(self, pods: int | None = None) -> list[Region]:
        n = self.pods if pods is None else pods
        return [Region(TOP_REGION, 0, "top")] + [Region(f"Pod{i}", i, f"pod{i}") for i in range(1, n + 1)]

    def region(self, name: str) -> Region:
        n = max(self.pods, self.saved().get("pods", 0))
        for r in self.regions(n):
            if name.lower() in (r.name.lower(), r.short):
                return r
        raise TestbedError(f"no region named {name!r} (have: {', '.join(r.name for r in self.regions(n))})")

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

    def venv(self, name: str) -> Path:
        return venvs.venv_path(name)

    def transport_url(self, region: Region) -> str:
        return f"rabbit://{self.rabbit}/{self.db_prefix}{region.short}"

    def databases(self, region: Region) -> list[str]:
        p = f"{self.db_prefix}{region.short}_"
        if region.is_top:
            return [p + "neutron"]
        return [p + s for s in ("nova_api", "nova", "nova_cell0", "placement", "cinder", "neutron", "glance")]

    # ------------------------------------------------------- templates
    def render(self, template: str, dest: Path, **values) -> bool:
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

    # ------------------------------------------------------------ venvs
    def build_venvs(self, names: list[str]) -> None:
        missing = [n for n in names if not venvs.is_ready(n)]
        if missing:
            say(f"building venvs (cached in {venvs.cache_dir()}): {', '.join(missing)}")
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                futs = {pool.submit(venvs.build, n, self.logdir / f"venv-{n}.log"): n for n in missing}
                for fut in concurrent.futures.as_completed(futs):
                    fut.result()
                    say(f"  venv {futs[fut]} ready")
        for n in names:
            if n in ("neutron", "cinder"):
                self.overlay_plugins(n)
        link_dir = self.state / "venvs"
        link_dir.mkdir(parents=True, exist_ok=True)
        for n in names:
            link = link_dir / n
            target = self.venv(n)
            if link.is_symlink() and os.readlink(link) == str(target):
                continue
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(target)

    def overlay_plugins(self, venv_name: str) -> None:
        """Install testbed_plugins into a service venv (module + entry point)."""
        venv = self.venv(venv_name)
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

    # ------------------------------------------------- mariadb/rabbitmq
    def sql(self, statements: list[str]) -> str:
        mysql = shutil.which("mariadb") or shutil.which("mysql")
        if mysql:
            argv = [mysql, "-h", self.db_host, "-P", str(self.db_port), "-u", self.db_user, "-N", "-B"]
            env = dict(os.environ)
            if self.db_password:
                env["MYSQL_PWD"] = self.db_password
            res = subprocess.run(
                argv, input="\n".join(s.rstrip(";") + ";" for s in statements), capture_output=True, text=True, env=env
            )
            if res.returncode:
                raise TestbedError(f"SQL failed: {res.stderr.strip()}")
            return res.stdout
        # No client binary: use PyMySQL from the keystone venv.
        code = (
            "import sys,json,pymysql\n"
            "a=json.loads(sys.argv[1])\n"
            "c=pymysql.connect(host=a[0],port=a[1],user=a[2],password=a[3],"
            "autocommit=True)\n"
            "cur=c.cursor()\n"
            "for s in a[4]:\n"
            "    cur.execute(s)\n"
            "    for row in cur.fetchall() or ():\n"
            "        print('\\t'.join(map(str,row)))\n"
        )
        res = subprocess.run(
            [
                str(self.venv("keystone") / "bin" / "python"),
                "-c",
                code,
                json.dumps([self.db_host, self.db_port, self.db_user, self.db_password, statements]),
            ],
            capture_output=True,
            text=True,
        )
        if res.returncode:
            raise TestbedError(f"SQL failed: {res.stderr.strip()}")
        return res.stdout

    def schemas_present(self, names: list[str]) -> bool:
        """True if every database in ``names`` has tables (a marker file
        alone is not proof: someone may have dropped the databases)."""
        quoted = ", ".join(f"'{n}'" for n in names)
        out = self.sql(
            [f"SELECT COUNT(DISTINCT table_schema) FROM information_schema.tables WHERE table_schema IN ({quoted})"]
        )
        return out.strip() == str(len(names))

    def create_databases(self, names: list[str]) -> None:
        self.sql([f"CREATE DATABASE IF NOT EXISTS `{n}` CHARACTER SET utf8" for n in names])

    @staticmethod
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

    def with_snapshot(self, label: str, dbs: list[str], venv_names: list[str], extra: list[str], migrate) -> None:
        """Run ``migrate`` (which fills ``dbs``) or restore its cached dump.

        Schema migrations dominate a warm ``up``; their result only depends
        on the service versions (the venvs) and on names/URLs written into
        the rows, so a dump of freshly migrated databases is cached next to
        the venvs and restored instead.  ``ATOLL_TESTBED_NO_DB_CACHE=1``
        always migrates.
        """
        dump = shutil.which("mariadb-dump") or shutil.which("mysqldump")
        client = shutil.which("mariadb") or shutil.which("mysql")
        blob = json.dumps(
            [
                LAYOUT_SNAPSHOT,
                label,
                dbs,
                extra,
                [venvs.venv_key(v) for v in venv_names],
                self.db_url,
                self.transport_url(self.regions(0)[0]).rsplit("/", 1)[0],
            ]
        )
        key = hashlib.sha256(blob.encode()).hexdigest()[:20]
        snap = venvs.cache_dir() / "db-snapshots" / f"{label}-{key}.sql"
        use_cache = dump and client and os.environ.get("ATOLL_TESTBED_NO_DB_CACHE", "") in ("", "0")
        env = dict(os.environ)
        if self.db_password:
            env["MYSQL_PWD"] = self.db_password
        conn = ["-h", self.db_host, "-P", str(self.db_port), "-u", self.db_user]
        if use_cache and snap.exists():
            with open(snap, "rb") as fh:
                res = subprocess.run([client, *conn], stdin=fh, capture_output=True, env=env)
            if res.returncode == 0:
                return
            say(
                f"warning: restoring {snap.name} failed "
                f"({res.stderr.decode(errors='replace').strip()[:200]}); "
                "migrating instead"
            )
            self.sql([f"DROP DATABASE IF EXISTS `{d}`" for d in dbs])
            self.create_databases(dbs)
        migrate()
        if use_cache:
            snap.parent.mkdir(parents=True, exist_ok=True)
            tmp = snap.with_name(f".{snap.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                res = subprocess.run(
                    [
                        dump,
                        *conn,
                        "--single-transaction",
                        "--skip-lock-tables",
                        "--routines",
                        "--triggers",
                        "--skip-dump-date",
                        "--databases",
                        *dbs,
                    ],
                    stdout=fh,
                    stderr=subprocess.PIPE,
                    env=env,
                )
            if res.returncode == 0:
                os.replace(tmp, snap)
            else:
                tmp.unlink(missing_ok=True)

    def rabbitmqctl(self, *args: str, check: bool = True) -> str:
        exe = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
        res = subprocess.run([exe, "-q", *args], capture_output=True, text=True)
        if check and res.returncode:
            raise TestbedError(f"rabbitmqctl {' '.join(args)} failed: {res.stderr.strip() or res.stdout.strip()}")
        return res.stdout

    def create_vhosts(self, names: list[str]) -> None:
        have = set(self.rabbitmqctl("list_vhosts").split())
        user = self.rabbit.split(":", 1)[0]
        for n in names:
            if n not in have:
                self.rabbitmqctl("add_vhost", n)
                self.rabbitmqctl("set_permissions", "-p", n, user, ".*", ".*", ".*")

    # --------------------------------------------------------- services
    def gunicorn(
        self,
        name: str,
        region: Region | None,
        service: str,
        port: int,
        env: dict,
        argv_extra: list[str] | None = None,
        health_path: str = "/",
    ) -> Service:
        venv = self.venv(VENV_OF[service])
        log = self.logdir / f"{name}.log"
        env = dict(env)
        env["TB_WSGI_TARGET"] = WSGI[service]
        env["TB_WSGI_ARGV"] = json.dumps([name] + (argv_extra or []))
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
        return Service(name, region, argv, env, log, port, f"http://127.0.0.1:{port}{health_path}", api=True)

    def base_env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "PYTHON", "VIRTUAL_ENV"))}
        env["PYTHONUNBUFFERED"] = "1"
        env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
        return env

    def keystone_service(self) -> Service:
        env = self.base_env()
        env["OS_KEYSTONE_CONFIG_FILES"] = str(self.state / "keystone" / "keystone.conf")
        return self.gunicorn("keystone", None, "keystone", self.base_port, env, health_path="/v3")

    def region_services(self, region: Region) -> list[Service]:
        out: list[Service] = []
        s = region.short
        env = self.base_env()
        neu = self.confdir(region, "neutron")
        env_n = dict(
            env,
            OS_NEUTRON_CONFIG_DIR=str(neu),
            OS_NEUTRON_CONFIG_FILES=f"{neu}/neutron.conf;{neu}/plugins/ml2/ml2_conf.ini",
        )
        out.append(self.gunicorn(f"{s}-neutron-api", region, "neutron", self.port(region, "neutron"), env_n))
        if region.is_top:
            return out
        novad = self.confdir(region, "nova")
        nova_conf = str(novad / "nova.conf")
        env_nova = dict(env, OS_NOVA_CONFIG_DIR=str(novad))
        out.append(
            self.gunicorn(
                f"{s}-placement-api",
                region,
                "placement",
                self.port(region, "placement"),
                dict(env, OS_PLACEMENT_CONFIG_DIR=str(self.confdir(region, "placement"))),
            )
        )
        out.append(
            self.gunicorn(
                f"{s}-nova-api",
                region,
                "nova",
                self.port(region, "nova"),
                env_nova,
                ["--log-file", str(self.logdir / f"{s}-nova-api.log")],
            )
        )
        out += self.daemons(region, "nova", ("conductor", "scheduler", "compute"), nova_conf, env_nova)
        cind = self.confdir(region, "cinder")
        cinder_conf = str(cind / "cinder.conf")
        out.append(
            self.gunicorn(
                f"{s}-cinder-api",
                region,
                "cinder",
                self.port(region, "cinder"),
                env,
                ["--config-file", cinder_conf, "--log-file", str(self.logdir / f"{s}-cinder-api.log")],
            )
        )
        out += self.daemons(region, "cinder", ("scheduler", "volume"), cinder_conf, env)
        out.append(
            self.gunicorn(
                f"{s}-glance-api",
                region,
                "glance",
                self.port(region, "glance"),
                dict(env, OS_GLANCE_CONFIG_DIR=str(self.confdir(region, "glance"))),
            )
        )
        return out

    def daemons(
        self, region: Region, project: str, daemons: tuple[str, ...], conf: str, env: dict[str, str]
    ) -> list[Service]:
        """`<project>-<daemon> --config-file CONF --log-file LOG` for each daemon of a region."""
        bindir = self.venv(project) / "bin"
        out = []
        for daemon in daemons:
            name = f"{region.short}-{project}-{daemon}"
            log = self.logdir / f"{name}.log"
            command = [str(bindir / f"{project}-{daemon}"), "--config-file", conf, "--log-file", str(log)]
            out.append(Service(name, region, command, env, log))
        return out

    def start_service(self, svc: Service) -> None:
        if self.procs.alive(svc.name):
            return
        if svc.port and answers(f"http://127.0.0.1:{svc.port}/", 2):
            raise TestbedError(
                f"port {svc.port} for {svc.name} is already taken by a process the test bed did not start"
            )
        self.procs.start(svc.name, svc.argv, svc.env, svc.log, self.state, svc.port)

    def wait_service(self, svc: Service, timeout: float = 180) -> None:
        if not svc.health:
            return

        def check():
            if not self.procs.alive(svc.name):
                raise TestbedError(f"{svc.name} died; last log lines:\n{tail(svc.log)}")
            return answers(svc.health)

        deadline = time.monotonic() + timeout
        while True:
            try:
                if check():
                    return
            except TestbedError:
                raise
            if time.monotonic() > deadline:
                raise TestbedError(
                    f"{svc.name} does not answer {svc.health} after {timeout:.0f}s; see {svc.log}:\n{tail(svc.log)}"
                )
            time.sleep(0.3)

    # --------------------------------------------------------- keystone
    def setup_keystone(self) -> None:
        kdir = self.state / "keystone"
        for sub in ("fernet-keys", "credential-keys"):
            (kdir / sub).mkdir(parents=True, exist_ok=True)
            os.chmod(kdir / sub, 0o700)
        conf = kdir / "keystone.conf"
        self.render("keystone.conf", conf)
        svc = self.keystone_service()
        if self.procs.alive("keystone") and answers(svc.health):
            return
        self.create_databases([f"{self.db_prefix}keystone"])
        km = [str(self.venv("keystone") / "bin" / "keystone-manage"), "--config-file", str(conf)]
        log = self.logdir / "keystone-setup.log"
        marker = kdir / ".bootstrapped"
        if not (marker.exists() and self.schemas_present([f"{self.db_prefix}keystone"])):
            for sub in ("fernet-keys", "credential-keys"):
                self.write_keys(kdir / sub)
            url = f"http://127.0.0.1:{self.base_port}/v3"

            def bootstrap():
                run([*km, "db_sync"], log)
                args = ["--bootstrap-password", ADMIN_PASSWORD, "--bootstrap-region-id", TOP_REGION]
                for kind in ("admin", "public", "internal"):
                    args += [f"--bootstrap-{kind}-url", url]
                run([*km, "bootstrap", *args], log)

            self.with_snapshot(
                "keystone", [f"{self.db_prefix}keystone"], ["keystone"], [url, ADMIN_PASSWORD], bootstrap
            )
            marker.write_text(str(time.time()))
        self.start_service(svc)
        self.wait_service(svc, 120)

    def admin_client(self) -> Keystone:
        return Keystone(self.auth_url, "admin", ADMIN_PASSWORD, "admin")

    def setup_identity(self, regions: list[Region]) -> None:
        ks = self.admin_client()
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
        # Regions, services and endpoints.
        catalog = {
            "nova": ("compute", "nova"),
            "placement": ("placement", "placement"),
            "cinder": [("volumev3", "cinderv3"), ("block-storage", "cinder")],
            "glance": ("image", "glance"),
            "neutron": ("network", "neutron"),
        }
        identity = ks.service_id("identity", "keystone")
        for region in regions:
            ks.ensure_region(region.name)
            ks.ensure_endpoints(identity, region.name, self.auth_url)
            for svc in region.services:
                entries = catalog[svc]
                if isinstance(entries, tuple):
                    entries = [entries]
                for stype, sname in entries:
                    sid = ks.service_id(stype, sname)
                    ks.ensure_endpoints(sid, region.name, self.endpoint(region, svc))

    # -------------------------------------------------------- regions
    def render_region(self, region: Region) -> None:
        rd = self.regiondir(region)
        values = {
            "name": region.short,
            "region": region.name,
            "regiondir": str(rd),
            "transport_url": self.transport_url(region),
            "glance_port": (0 if region.is_top else self.port(region, "glance")),
        }
        for sub in (
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
        ):
            if region.is_top and not sub.startswith("neutron"):
                continue
            (rd / sub).mkdir(parents=True, exist_ok=True)
        neu = self.confdir(region, "neutron")
        self.render("neutron.conf", neu / "neutron.conf", service_user="neutron", **values)
        self.render("ml2_conf.ini", neu / "plugins/ml2/ml2_conf.ini", **values)
        shutil.copyfile(self.venv("neutron") / "etc/neutron/api-paste.ini", neu / "api-paste.ini")
        if region.is_top:
            return
        nova = self.confdir(region, "nova")
        self.render("nova.conf", nova / "nova.conf", service_user="nova", confdir=str(nova), **values)
        shutil.copyfile(self.venv("nova") / "etc/nova/api-paste.ini", nova / "api-paste.ini")
        self.render(
            "placement.conf", self.confdir(region, "placement") / "placement.conf", service_user="placement", **values
        )
        cinder = self.confdir(region, "cinder")
        self.render("cinder.conf", cinder / "cinder.conf", service_user="cinder", confdir=str(cinder), **values)
        for fname in ("api-paste.ini", "resource_filters.json"):
            shutil.copyfile(self.venv("cinder") / "etc/cinder" / fname, cinder / fname)
        glance = self.confdir(region, "glance")
        self.render("glance-api.conf", glance / "glance-api.conf", service_user="glance", **values)
        shutil.copyfile(self.venv("glance") / "etc/glance/glance-api-paste.ini", glance / "glance-api-paste.ini")

    def migrate_region(self, region: Region) -> None:
        rd = self.regiondir(region)
        marker = rd / ".migrated"
        if marker.exists() and self.schemas_present(self.databases(region)):
            return
        names = ["neutron"] if region.is_top else ["neutron", "nova", "cinder", "glance"]
        self.with_snapshot(
            region.short,
            self.databases(region),
            names,
            [self.transport_url(region)],
            lambda: self._migrate_region(region),
        )
        marker.write_text(str(time.time()))

    def _migrate_region(self, region: Region) -> None:
        log = self.logdir / f"{region.short}-setup.log"
        neu = self.confdir(region, "neutron")
        run(
            [
                str(self.venv("neutron") / "bin/neutron-db-manage"),
                "--config-file",
                str(neu / "neutron.conf"),
                "--config-file",
                str(neu / "plugins/ml2/ml2_conf.ini"),
                "upgrade",
                "heads",
            ],
            log,
        )
        if not region.is_top:
            nbin = self.venv("nova") / "bin"
            nova_conf = str(self.confdir(region, "nova") / "nova.conf")
            nm = [str(nbin / "nova-manage"), "--config-file", nova_conf]
            run(
                [
                    str(nbin / "placement-manage"),
                    "--config-file",
                    str(self.confdir(region, "placement") / "placement.conf"),
                    "db",
                    "sync",
                ],
                log,
            )
            run([*nm, "api_db", "sync"], log)
            cell0 = f"{self.db_url}/{self.db_prefix}{region.short}_nova_cell0"
            run([*nm, "cell_v2", "map_cell0", "--database_connection", cell0], log)
            cells = subprocess.run([*nm, "cell_v2", "list_cells"], capture_output=True, text=True).stdout
            if " cell1 " not in cells:
                run([*nm, "cell_v2", "create_cell", "--name", "cell1"], log)
            run([*nm, "db", "sync"], log)
            run(
                [
                    str(self.venv("cinder") / "bin/cinder-manage"),
                    "--config-file",
                    str(self.confdir(region, "cinder") / "cinder.conf"),
                    "db",
                    "sync",
                ],
                log,
            )
            run(
                [
                    str(self.venv("glance") / "bin/glance-manage"),
                    "--config-file",
                    str(self.confdir(region, "glance") / "glance-api.conf"),
                    "db_sync",
                ],
                log,
            )

    def bring_up_region(self, region: Region) -> None:
        t0 = time.monotonic()
        self.render_region(region)
        self.migrate_region(region)
        t1 = time.monotonic()
        services = self.region_services(region)
        for svc in services:
            self.start_service(svc)
        for svc in services:
            self.wait_service(svc)
        say(f"  {region.name}: migrations {t1 - t0:.1f}s, services answer after {time.monotonic() - t1:.1f}s more")

    def finish_pod(self, region: Region, token: str) -> None:
        """Wait for the hypervisor and volume service; add flavor and image."""
        nova = f"http://127.0.0.1:{self.port(region, 'nova')}/v2.1"
        glance = f"http://127.0.0.1:{self.port(region, 'glance')}"
        cinder = f"http://127.0.0.1:{self.port(region, 'cinder')}/v3"
        hdr = {"OpenStack-API-Version": "compute 2.53"}

        def hypervisors():
            r = http("GET", nova + "/os-hypervisors", token=token, headers=hdr)
            return r.status == 200 and r.json()["hypervisors"]

        t0 = time.monotonic()
        wait_until(
            f"{region.name} hypervisor",
            hypervisors,
            180,
            1,
            lambda: tail(self.logdir / f"{region.short}-nova-compute.log"),
        )
        # The hypervisor shows up before its host is mapped to a cell (and
        # a boot before that fails); the scheduler maps it within
        # discover_hosts_in_cells_interval.
        api_db = f"{self.db_prefix}{region.short}_nova_api"
        wait_until(
            f"{region.name} host mapping",
            lambda: self.sql([f"SELECT host FROM `{api_db}`.host_mappings"]).strip(),
            120,
            1,
        )
        t1 = time.monotonic()

        def volume_up():
            # The volume service must be up *and* the scheduler must know its
            # pool (capabilities arrive asynchronously), else creates fail
            # with "No weighed backend found".
            r = http("GET", cinder + "/os-services?binary=cinder-volume", token=token)
            if not (r.status == 200 and any(s["state"] == "up" for s in r.json()["services"])):
                return False
            r = http("GET", cinder + "/scheduler-stats/get_pools", token=token)
            return r.status == 200 and bool(r.json().get("pools"))

        wait_until(
            f"{region.name} cinder-volume",
            volume_up,
            120,
            1,
            lambda: tail(self.logdir / f"{region.short}-cinder-volume.log"),
        )
        t2 = time.monotonic()
        if http("GET", f"{nova}/flavors/{FLAVOR['id']}", token=token).status == 404:
            r = http("POST", nova + "/flavors", {"flavor": FLAVOR}, token=token)
            if r.status not in (200, 409):
                raise TestbedError(f"flavor create in {region.name}: {r.status} {r.body[:300]!r}")
        r = http("GET", f"{glance}/v2/images/{IMAGE_ID}", token=token)
        if r.status == 404:
            r = http(
                "POST",
                glance + "/v2/images",
                {
                    "id": IMAGE_ID,
                    "name": IMAGE_NAME,
                    "disk_format": "raw",
                    "container_format": "bare",
                    "visibility": "public",
                },
                token=token,
            )
            if r.status != 201:
                raise TestbedError(f"image create in {region.name}: {r.status} {r.body[:300]!r}")
        if r.json().get("status") != "active":
            r = http("PUT", f"{glance}/v2/images/{IMAGE_ID}/file", token=token, raw=IMAGE_DATA, timeout=60)
            if r.status not in (204, 200):
                raise TestbedError(f"image upload in {region.name}: {r.status} {r.body[:300]!r}")
        say(
            f"  {region.name}: hypervisor mapped after {t1 - t0:.1f}s, "
            f"volume service {t2 - t1:.1f}s, flavor+image "
            f"{time.monotonic() - t2:.1f}s"
        )

    # ------------------------------------------------------------ atoll
    def atoll_venv(self) -> Path:
        raw = Path(os.environ.get("ATOLL_VENV") or ".venv")
        return raw if raw.is_absolute() else REPO / raw

    def atoll_services(self) -> list[Service]:
        bindir = self.atoll_venv() / "bin"
        conf = str(self.state / "atoll" / "atoll.conf")
        env = self.base_env()
        self.logdir / "atoll-api.log"
        eng_log = self.logdir / "atoll-engine.log"
        return [
            Service(
                "atoll-api",
                None,
                [str(bindir / "atoll-api"), "--config-file", conf],
                env,
                self.logdir / "atoll-api.out",
                ATOLL_PORT,
                f"http://127.0.0.1:{ATOLL_PORT}/",
                api=True,
            ),
            Service(
                "atoll-engine",
                None,
                [str(bindir / "atoll-engine"), "--config-file", conf, "--log-file", str(eng_log)],
                env,
                self.logdir / "atoll-engine.out",
            ),
        ]

    def check_atoll(self) -> Path:
        bindir = self.atoll_venv() / "bin"
        missing = [b for b in ("atoll-api", "atoll-engine", "atoll-manage") if not (bindir / b).exists()]
        if missing:
            raise TestbedError(
                f"--atoll: {', '.join(missing)} not found in {bindir}. Install Atoll into that venv first "
                f"(scripts/bootstrap, or `{bindir}/pip install -e .`), or point ATOLL_VENV at a venv that has it."
            )
        return bindir

    def setup_atoll(self, regions: list[Region]) -> None:
        bindir = self.check_atoll()
        (self.state / "atoll").mkdir(parents=True, exist_ok=True)
        conf = self.state / "atoll" / "atoll.conf"
        self.render("atoll.conf", conf, atoll_port=str(ATOLL_PORT), atoll_password=ATOLL_PASSWORD)
        run(
            [str(bindir / "atoll-manage"), "--config-file", str(conf), "db", "upgrade"], self.logdir / "atoll-setup.log"
        )
        services = self.atoll_services()
        for svc in services:
            self.start_service(svc)
        self.wait_service(services[0], 90)
        time.sleep(0.5)
        if not self.procs.alive("atoll-engine"):
            raise TestbedError(f"atoll-engine exited; see {services[1].log}:\n{tail(services[1].log)}")
        token = self.admin_client().token
        base = f"http://127.0.0.1:{ATOLL_PORT}/v1.0/pods"
        r = http("GET", base, token=token)
        if r.status != 200:
            raise TestbedError(f"GET {base}: {r.status} {r.body[:300]!r}")
        have = {p.get("region_name") for p in r.json().get("pods", [])}
        for region in regions:
            if region.name in have:
                continue
            pod = {"region_name": region.name}
            if not region.is_top:
                pod["az_name"] = "az1"
            r = http("POST", base, {"pod": pod}, token=token)
            if r.status not in (200, 201):
                raise TestbedError(f"registering {region.name} in Atoll: {r.status} {r.body[:300]!r}")

    # ------------------------------------------------------ clouds.yaml
    def write_clouds(self, keystone_only: bool) -> Path:
        # The first region is the default; --os-region-name picks another.
        saved = self.saved()
        region_names = (
            [TOP_REGION]
            if keystone_only and saved.get("keystone_only", True)
            else [r.name for r in self.regions(max(self.pods, saved.get("pods", 0)))]
        )

        def cloud(name, user, pw, project):
            return (
                f"  {name}:\n"
                f"    auth:\n"
                f"      auth_url: {self.auth_url}\n"
                f"      username: {user}\n"
                f"      password: {pw}\n"
                f"      project_name: {project}\n"
                f"      user_domain_name: Default\n"
                f"      project_domain_name: Default\n"
                f"    identity_api_version: 3\n"
                f"    interface: public\n"
                f"    regions:\n" + "".join(f"      - {r}\n" for r in region_names)
            )

        clouds = [cloud("testbed-admin", "admin", ADMIN_PASSWORD, "admin")]
        clouds.append(cloud("testbed-demo", "demo", *USERS["demo"][:2]))
        clouds.append(cloud("testbed-alt", "alt_demo", *USERS["alt_demo"][:2]))
        path = self.state / "clouds.yaml"
        self.render("clouds.yaml", path, clouds="".join(clouds).rstrip())
        return path

    def write_state(self, keystone_only: bool, atoll: bool) -> None:
        regions = [] if keystone_only else self.regions()
        info = {
            "pods": self.pods,
            "base_port": self.base_port,
            "db_prefix": self.db_prefix,
            "keystone_only": keystone_only,
            "atoll": atoll,
            "state_dir": str(self.state),
            "auth_url": self.auth_url,
            "clouds_yaml": str(self.state / "clouds.yaml"),
            "client_venv": str(self.state / "venvs" / "client"),
            "regions": [r.name for r in regions],
            "pod_regions": [r.name for r in regions if not r.is_top],
            "top_region": TOP_REGION,
            "credentials": {
                "admin": {
                    "username": "admin",
                    "password": ADMIN_PASSWORD,
                    "project_name": "admin",
                    "cloud": "testbed-admin",
                },
                "demo": {
                    "username": "demo",
                    "password": USERS["demo"][0],
                    "project_name": "demo",
                    "cloud": "testbed-demo",
                },
                "alt": {
                    "username": "alt_demo",
                    "password": USERS["alt_demo"][0],
                    "project_name": "alt_demo",
                    "cloud": "testbed-alt",
                },
                "atoll": {"username": "atoll", "password": ATOLL_PASSWORD, "project_name": "service"},
            },
            "image": {"id": IMAGE_ID, "name": IMAGE_NAME},
            "flavor": {"id": FLAVOR["id"], "name": FLAVOR["name"]},
            "ports": {r.name: {s: self.port(r, s) for s in r.services} for r in regions},
            "atoll_url": f"http://127.0.0.1:{ATOLL_PORT}" if atoll else None,
            "updated": time.time(),
        }
        old = self.saved()
        info["pods"] = max(self.pods, old.get("pods", 0)) if not keystone_only else old.get("pods", self.pods)
        if keystone_only and not old.get("keystone_only", True):
            # A full test bed is already recorded; keep describing it.
            info.update({k: old[k] for k in ("keystone_only", "regions", "pod_regions", "ports", "pods") if k in old})
        self.state.mkdir(parents=True, exist_ok=True)
        write_if_changed(self.state / "testbed.json", json.dumps(info, indent=2) + "\n")

    # ------------------------------------------------------------- verbs
    def up(self, keystone_only: bool = False, atoll: bool = False) -> None:
        t_all = time.monotonic()
        if atoll:
            self.check_atoll()
        self.state.mkdir(parents=True, exist_ok=True)
        self.logdir.mkdir(parents=True, exist_ok=True)
        # Record what we are about to create before creating it, so that
        # `down` can clean up after a failed or interrupted `up`.
        saved = self.saved()
        pre = dict(saved) if saved else {}
        pre.update(
            {
                "base_port": self.base_port,
                "db_prefix": self.db_prefix,
                "pods": max(self.pods if not keystone_only else 0, saved.get("pods", 0)),
                "keystone_only": saved.get("keystone_only", True) and keystone_only,
            }
        )
        write_if_changed(self.state / "testbed.json", json.dumps(pre, indent=2) + "\n")
        regions = [] if keystone_only else self.regions()
        names = ["keystone", "client"] if keystone_only else list(venvs.SPECS)
        with stage("venvs", self.timings):
            self.build_venvs(names)
        with stage("databases", self.timings):
            dbs = [f"{self.db_prefix}keystone"]
            for r in regions:
                dbs += self.databases(r)
            self.create_databases(dbs)
        # rabbitmqctl is slow to start: create vhosts while Keystone starts.
        pool = concurrent.futures.ThreadPoolExecutor(1)
        vhosts = pool.submit(self.create_vhosts, [f"{self.db_prefix}{r.short}" for r in regions]) if regions else None
        pool.shutdown(wait=False)
        with stage("keystone", self.timings):
            self.setup_keystone()
        if vhosts is not None:
            with stage("rabbitmq vhosts", self.timings):
                vhosts.result()
        with stage("identity (projects, users, catalog)", self.timings):
            self.setup_identity(regions)
        self.write_clouds(keystone_only)
        self.write_state(keystone_only, atoll)
        if regions:
            label = f"regions ({', '.join(r.name for r in regions)}): configs, migrations, start"
            with stage(label, self.timings), concurrent.futures.ThreadPoolExecutor(3) as pool:
                for fut in [pool.submit(self.bring_up_region, r) for r in regions]:
                    fut.result()
            with stage("pods ready (hypervisors, volume services, flavor, image)", self.timings):
                token = self.admin_client().token
                with concurrent.futures.ThreadPoolExecutor(4) as pool:
                    for fut in [pool.submit(self.finish_pod, r, token) for r in regions if not r.is_top]:
                        fut.result()
        if atoll:
            with stage("atoll", self.timings):
                self.setup_atoll(regions or self.regions(0))
        self.write_state(keystone_only, atoll)
        say(f"up: {time.monotonic() - t_all:.1f}s total; clouds.yaml: {self.state / 'clouds.yaml'}")
        say(
            "  e.g. OS_CLIENT_CONFIG_FILE="
            f"{self.state / 'clouds.yaml'} "
            f"{self.state / 'venvs/client/bin/openstack'} --os-cloud "
            "testbed-demo --os-region-name Pod1 server list"
        )

    def all_service_names(self) -> list[str]:
        saved = self.saved()
        n = max(self.pods, saved.get("pods", 0))
        names = ["keystone"]
        if saved.get("keystone_only"):
            n = -1
        for r in self.regions(n) if n >= 0 else []:
            names += [s.name for s in self.region_services(r)]
        names += ["atoll-api", "atoll-engine"]
        return names

    def down(self) -> None:
        t0 = time.monotonic()
        saved = self.saved()
        n = max(self.pods, saved.get("pods", 0))
        recorded = set(self.procs.names())
        # Atoll first, then pods, then Keystone.
        order = ["atoll-engine", "atoll-api"]
        for r in reversed(self.regions(n)):
            order += [s.name for s in reversed(self.region_services(r))]
        order.append("keystone")
        order += sorted(recorded - set(order))
        stopped = []
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            for name, ok in zip(order, pool.map(self.procs.stop, order), strict=False):
                if ok:
                    stopped.append(name)
        say(f"stopped {len(stopped)} processes")
        if saved or self.state.exists():
            dbs = [f"{self.db_prefix}keystone"]
            for r in self.regions(n):
                dbs += self.databases(r)
            try:
                self.sql([f"DROP DATABASE IF EXISTS `{d}`" for d in dbs])
            except TestbedError as exc:
                say(f"warning: dropping databases: {exc}")
            try:
                have = set(self.rabbitmqctl("list_vhosts").split())
                for r in self.regions(n):
                    vh = f"{self.db_prefix}{r.short}"
                    if vh in have:
                        self.rabbitmqctl("delete_vhost", vh)
            except TestbedError as exc:
                say(f"warning: deleting vhosts: {exc}")
        # Keep logs (and the venv links); drop everything else.
        if self.state.exists():
            for entry in self.state.iterdir():
                if entry.name in ("logs", "venvs"):
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        say(f"down: {time.monotonic() - t0:.1f}s")

    def status_rows(self) -> list[tuple[str, str, str, str]]:
        rows = []
        ports: dict[str, int | None] = {"keystone": self.base_port, "atoll-api": ATOLL_PORT}
        for r in self.regions(max(self.pods, self.saved().get("pods", 0))):
            ports.update({s.name: s.port for s in self.region_services(r)})
        for name in self.all_service_names():
            rec = self.procs.record(name)
            pid = self.procs.pid(name)
            port = ports.get(name)
            if rec is None and pid is None:
                if name.startswith("atoll") and not self.saved().get("atoll"):
                    continue
                state = "down"
            elif pid is None:
                state = "dead"
            elif port:
                state = "up" if answers(f"http://127.0.0.1:{port}/", 3) else "starting"
            else:
                state = "up"
            rows.append((name, state, str(port or "-"), str(pid or "-")))
        return rows

    def status(self) -> int:
        rows = self.status_rows()
        print(f"{'service':28} {'state':9} {'port':6} pid")
        for row in rows:
            print(f"{row[0]:28} {row[1]:9} {row[2]:6} {row[3]}")
        pids = []
        for name in self.procs.names():
            pids += self.procs.group_pids(name)
        rss = sum(rss_kib(p) for p in pids)
        print(f"{len(pids)} processes, {rss / 1024 / 1024:.2f} GiB RSS; state: {self.state}")
        return 0 if rows and all(r[1] == "up" for r in rows if r[1] != "down") else 1

    def stop_pod(self, name: str) -> None:
        """Simulate a pod failure: its API processes die (SIGKILL), so
        connections to its endpoints are refused."""
        region = self.region(name)
        apis = [s.name for s in self.region_services(region) if s.api]
        with concurrent.futures.ThreadPoolExecutor(len(apis)) as pool:
            list(pool.map(lambda n: self.procs.stop(n, 5, signal.SIGKILL), apis))
        say(f"{region.name}: API processes stopped")

    def start_pod(self, name: str) -> None:
        region = self.region(name)
        services = self.region_services(region)
        for svc in services:
            self.start_service(svc)
        for svc in services:
            self.wait_service(svc)
        say(f"{region.name}: API processes answer again")

    def memory(self) -> tuple[int, int]:
        pids = []
        for name in self.procs.names():
            pids += self.procs.group_pids(name)
        return len(pids), sum(rss_kib(p) for p in pids)


class Keystone:
    """Minimal Keystone v3 admin client (urllib)."""

    def __init__(self, auth_url: str, user: str, password: str, project: str):
        self.url = auth_url.rstrip("/")
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {"name": user, "domain": {"id": "default"}, "password": password}},
                },
                "scope": {"project": {"name": project, "domain": {"id": "default"}}},
            }
        }
        r = http("POST", self.url + "/auth/tokens", body)
        if r.status != 201:
            raise TestbedError(f"Keystone auth as {user}: {r.status} {r.body[:300]!r}")
        self.token = r.headers["X-Subject-Token"]

    def req(self, method: str, path: str, body=None, ok=(200, 201, 204)):
        r = http(method, self.url + path, body, token=self.token)
        if r.status not in ok:
            raise TestbedError(f"Keystone {method} {path}: {r.status} {r.body[:300]!r}")
        return r.json() if r.body else None

    def ensure(self, collection: str, name: str, extra: dict) -> str:
        found = self.req("GET", f"/{collection}?name={name}")[collection]
        if found:
            return found[0]["id"]
        key = collection[:-1]
        return self.req("POST", f"/{collection}", {key: dict(extra, name=name)})[key]["id"]

    def ensure_user(self, name: str, password: str, project_id: str) -> str:
        found = self.req("GET", f"/users?name={name}")["users"]
        if found:
            uid = found[0]["id"]
            self.req("PATCH", f"/users/{uid}", {"user": {"password": password}})
            return uid
        return self.req(
            "POST",
            "/users",
            {"user": {"name": name, "password": password, "domain_id": "default", "default_project_id": project_id}},
        )["user"]["id"]

    def grant(self, project_id: str, user_id: str, role_id: str) -> None:
        self.req("PUT", f"/projects/{project_id}/users/{user_id}/roles/{role_id}")

    def ensure_region(self, name: str) -> None:
        r = http("GET", f"{self.url}/regions/{name}", token=self.token)
        if r.status == 404:
            self.req("POST", "/regions", {"region": {"id": name}})

    def service_id(self, stype: str, name: str) -> str:
        for svc in self.req("GET", f"/services?type={stype}")["services"]:
            if svc["name"] == name:
                return svc["id"]
        return self.req("POST", "/services", {"service": {"type": stype, "name": name, "enabled": True}})["service"][
            "id"
        ]

    def ensure_endpoints(self, service_id: str, region: str, url: str):
        have = self.req("GET", f"/endpoints?service_id={service_id}&region_id={region}")["endpoints"]
        by_if = {e["interface"]: e for e in have}
        for interface in ("public", "internal", "admin"):
            ep = by_if.get(interface)
            if ep is None:
                self.req(
                    "POST",
                    "/endpoints",
                    {"endpoint": {"service_id": service_id, "region_id": region, "interface": interface, "url": url}},
                )
            elif ep["url"] != url:
                self.req("PATCH", f"/endpoints/{ep['id']}", {"endpoint": {"url": url}})


def python_ok() -> None:
    pass
