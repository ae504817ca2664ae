"""The test bed's verbs: up, down, status, stop-pod, start-pod, memory.

``up`` is idempotent and resumable: every step checks what is already
there (venvs, databases, vhosts, Keystone, regions, pods, Atoll) and only
adds what is missing.  ``down`` stops exactly the process groups recorded
in ``pids/``, drops the databases and vhosts, and removes the state but the
logs and venv links.
"""

from __future__ import annotations

import concurrent.futures
import shutil
import signal
import time

from testbed import atoll, broker, databases, identity, pods, preflight, regions, state, venvs
from testbed.layout import ATOLL_PORT, Layout, Region
from testbed.procs import Service, rss_kib
from testbed.util import TestbedError, answers, say, stage


class Testbed:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.timings: list[tuple[str, float]] = []

    @classmethod
    def load(cls, pods: int | None = None) -> Testbed:
        return cls(Layout.load(pods))

    def up(self, keystone_only: bool = False, with_atoll: bool = False) -> None:
        t_all = time.monotonic()
        layout = self.layout
        if with_atoll:
            atoll.check()
        preflight.check_up(
            layout,
            self._planned(keystone_only, with_atoll),
            regions=not keystone_only,
            venv_names=self._venvs(keystone_only),
        )
        layout.state.mkdir(parents=True, exist_ok=True)
        layout.logdir.mkdir(parents=True, exist_ok=True)
        state.record_intent(layout, keystone_only)
        wanted = [] if keystone_only else layout.regions()
        with stage("venvs", self.timings):
            venvs.install(self._venvs(keystone_only), layout.logdir, layout.state)
        with stage("databases", self.timings):
            databases.create(layout, [layout.keystone_database] + [d for r in wanted for d in layout.databases(r)])
        # rabbitmqctl is slow to start: create vhosts while Keystone starts.
        pool = concurrent.futures.ThreadPoolExecutor(1)
        user = layout.rabbit.split(":", 1)[0]
        vhosts = pool.submit(broker.create_vhosts, user, [layout.vhost(r) for r in wanted]) if wanted else None
        pool.shutdown(wait=False)
        with stage("keystone", self.timings):
            identity.setup_keystone(layout)
        if vhosts is not None:
            with stage("rabbitmq vhosts", self.timings):
                vhosts.result()
        with stage("identity (projects, users, catalog)", self.timings):
            identity.setup_identity(layout, wanted)
        state.write_clouds(layout, keystone_only)
        state.write_state(layout, keystone_only, with_atoll)
        if wanted:
            self._bring_up(wanted)
        if with_atoll:
            with stage("atoll", self.timings):
                atoll.setup(layout, wanted or layout.regions(0))
        state.write_state(layout, keystone_only, with_atoll)
        clouds = layout.state / "clouds.yaml"
        say(f"up: {time.monotonic() - t_all:.1f}s total; clouds.yaml: {clouds}")
        say(
            f"  e.g. OS_CLIENT_CONFIG_FILE={clouds} {layout.state / 'venvs/client/bin/openstack'} --os-cloud "
            "testbed-demo --os-region-name Pod1 server list"
        )

    @staticmethod
    def _venvs(keystone_only: bool) -> list[str]:
        return ["keystone", "client"] if keystone_only else [n for n in venvs.SPECS if n not in venvs.ON_DEMAND]

    def _planned(self, keystone_only: bool, with_atoll: bool) -> list[Service]:
        """Every process ``up`` would run."""
        layout = self.layout
        planned = [identity.keystone_service(layout)]
        for region in [] if keystone_only else layout.regions():
            planned += regions.services(layout, region)
        if with_atoll:
            planned += atoll.services(layout)
        return planned

    def _bring_up(self, wanted: list[Region]) -> None:
        layout = self.layout
        label = f"regions ({', '.join(r.name for r in wanted)}): configs, migrations, start"
        with stage(label, self.timings), concurrent.futures.ThreadPoolExecutor(3) as pool:
            for fut in [pool.submit(regions.bring_up, layout, r) for r in wanted]:
                fut.result()
        with stage("pods ready (hypervisors, volume services, flavor, image)", self.timings):
            token = identity.admin_client(layout).token
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                for fut in [pool.submit(pods.finish, layout, r, token) for r in wanted if not r.is_top]:
                    fut.result()

    def all_service_names(self) -> list[str]:
        saved = self.layout.saved()
        n = self.layout.recorded_pods
        names = ["keystone"]
        if not saved.get("keystone_only"):
            for r in self.layout.regions(n):
                names += [s.name for s in regions.services(self.layout, r)]
        names += ["atoll-api", "atoll-engine"]
        return names

    def down(self) -> None:
        t0 = time.monotonic()
        layout = self.layout
        saved = layout.saved()
        every = layout.regions(layout.recorded_pods)
        procs = layout.procs
        recorded = set(procs.names())
        # Atoll first, then pods, then Keystone.
        order = ["atoll-engine", "atoll-api"]
        for r in reversed(every):
            order += [s.name for s in reversed(regions.services(layout, r))]
        order.append("keystone")
        order += sorted(recorded - set(order))
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            stopped = [name for name, ok in zip(order, pool.map(procs.stop, order), strict=True) if ok]
        say(f"stopped {len(stopped)} processes")
        if saved or layout.state.exists():
            try:
                databases.drop(layout, [layout.keystone_database] + [d for r in every for d in layout.databases(r)])
            except TestbedError as exc:
                say(f"warning: dropping databases: {exc}")
            try:
                broker.delete_vhosts([layout.vhost(r) for r in every])
            except TestbedError as exc:
                say(f"warning: deleting vhosts: {exc}")
        # Keep logs (and the venv links); drop everything else.
        if layout.state.exists():
            for entry in layout.state.iterdir():
                if entry.name in ("logs", "venvs"):
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        say(f"down: {time.monotonic() - t0:.1f}s")

    def status_rows(self) -> list[tuple[str, str, str, str]]:
        """(service, up/starting/dead/down, port, pid) for each service the test bed has or had."""
        layout = self.layout
        procs = layout.procs
        rows = []
        ports: dict[str, int | None] = {"keystone": layout.base_port, "atoll-api": ATOLL_PORT}
        for r in layout.regions(layout.recorded_pods):
            ports.update({s.name: s.port for s in regions.services(layout, r)})
        for name in self.all_service_names():
            rec = procs.record(name)
            pid = procs.pid(name)
            port = ports.get(name)
            if rec is None and pid is None:
                if name.startswith("atoll") and not layout.saved().get("atoll"):
                    continue
                status = "down"
            elif pid is None:
                status = "dead"
            elif port:
                status = "up" if answers(f"http://127.0.0.1:{port}/", 3) else "starting"
            else:
                status = "up"
            rows.append((name, status, str(port or "-"), str(pid or "-")))
        return rows

    def status(self) -> int:
        rows = self.status_rows()
        print(f"{'service':28} {'state':9} {'port':6} pid")
        for row in rows:
            print(f"{row[0]:28} {row[1]:9} {row[2]:6} {row[3]}")
        count, kib = self.memory()
        print(f"{count} processes, {kib / 1024 / 1024:.2f} GiB RSS; state: {self.layout.state}")
        return 0 if rows and all(r[1] == "up" for r in rows if r[1] != "down") else 1

    def stop_pod(self, name: str) -> None:
        """Simulate a pod failure: its API processes die (SIGKILL), so
        connections to its endpoints are refused."""
        region = self.layout.region(name)
        procs = self.layout.procs
        apis = [s.name for s in regions.services(self.layout, region) if s.api]
        with concurrent.futures.ThreadPoolExecutor(len(apis)) as pool:
            list(pool.map(lambda n: procs.stop(n, 5, signal.SIGKILL), apis))
        say(f"{region.name}: API processes stopped")

    def start_pod(self, name: str) -> None:
        region = self.layout.region(name)
        regions.start(self.layout, region)
        say(f"{region.name}: API processes answer again")

    def restart_atoll(self) -> None:
        """Stop atoll-api and atoll-engine and start them again: the project's current code, same config."""
        procs = self.layout.procs
        for service in atoll.services(self.layout):
            procs.stop(service.name, 10)
        atoll.setup(self.layout, self.layout.regions(self.layout.recorded_pods))
        say("atoll-api and atoll-engine restarted")

    def memory(self) -> tuple[int, int]:
        """(processes, KiB of RSS) of every live member of the recorded process groups."""
        procs = self.layout.procs
        pids = [pid for name in procs.names() for pid in procs.group_pids(name)]
        return len(pids), sum(rss_kib(p) for p in pids)
