"""Sync jobs on the real test bed run by two atoll-engines sharing a PostgreSQL database.

Beside the test bed's own Atoll (SQLite), this module starts an atoll-api and two atoll-engine
processes on a new PostgreSQL database, with the bed's Keystone and service credentials (the bed's
atoll.conf, then an override file). Through that Atoll's os-sync API it checks that two engines
run each job exactly once, and that an image copy cut by `kill -9` of the engines resumes after a
restart and ends SUCCESS with the image complete in the target pod.
"""

from __future__ import annotations

import os
import pathlib
import signal
import socket
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from atoll.db import migration
from tests import conftest
from tests.functional.test_jobs_workers import sql, wait_for
from tests.realpods.test_sync import SOURCE, TARGET, Caller, one

pytestmark = [pytest.mark.realpods]

BIN = pathlib.Path(sys.executable).parent
IMAGE_MIB = 160
"""Big enough that the copy is still streaming when the engines are killed (Glance on loopback
stores some 40-80 MiB/s here)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgAtoll:
    """atoll-api and atoll-engines of their own, on a PostgreSQL database."""

    def __init__(self, bed: Any, url: str, tmp: pathlib.Path) -> None:
        self.url, self.tmp = url, tmp
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.confs = [str(pathlib.Path(bed.state_dir) / "atoll" / "atoll.conf"), str(tmp / "override.conf")]
        (tmp / "override.conf").write_text(
            textwrap.dedent(f"""\
                [DEFAULT]
                log_file = {tmp}/atoll-api.log
                state_path = {tmp}
                [api]
                port = {self.port}
                run_engine = false
                [database]
                connection = {url}
                [engine]
                health_interval = 2
                discovery_interval = 30
                [jobs]
                poll_interval = 0.2
                lease_time = 4
                retry_delay = 0.5
                """)
        )
        self.api: subprocess.Popen[bytes] | None = None
        self.engines: list[subprocess.Popen[bytes]] = []

    def _spawn(self, command: str, log: str) -> subprocess.Popen[bytes]:
        args = [str(BIN / command)]
        for conf in self.confs:
            args += ["--config-file", conf]
        if command == "atoll-engine":
            args += ["--log-file", str(self.tmp / log)]
        with (self.tmp / f"{log}.out").open("ab") as out:
            return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def start_api(self) -> None:
        self.api = self._spawn("atoll-api", "atoll-api")

    def start_engine(self) -> subprocess.Popen[bytes]:
        engine = self._spawn("atoll-engine", f"engine-{len(self.engines)}.log")
        self.engines.append(engine)
        return engine

    def kill_engines(self) -> None:
        for engine in self.engines:
            if engine.poll() is None:
                os.killpg(engine.pid, signal.SIGKILL)
                engine.wait()

    def stop(self) -> None:
        for proc in [*self.engines, self.api]:
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in [*self.engines, self.api]:
            if proc is None:
                continue
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.tmp.glob("*.log*")))


@pytest.fixture(scope="module")
def pg_atoll(
    atoll: Any, test_databases: conftest.TestDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PgAtoll]:
    if "postgresql" not in conftest.selected_backends():
        pytest.skip("ATOLL_TEST_DATABASES leaves PostgreSQL out")
    url = test_databases.new("postgresql")
    migration.upgrade(url)
    group = PgAtoll(atoll, url, tmp_path_factory.mktemp("pg-atoll"))
    group.start_api()
    group.start_engine()
    group.start_engine()
    try:
        admin = Caller(atoll, "testbed-admin")
        admin.url = group.base

        def answers() -> bool:
            try:
                return admin.call("GET", "/v1.0/pods").status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(answers, "the PostgreSQL Atoll's api to answer", 90)
        top = atoll.info.get("top_region", "RegionOne")
        for pod in (
            {"region_name": top},
            {"region_name": SOURCE, "az_name": "az1"},
            {"region_name": TARGET, "az_name": "az2"},
        ):
            response = admin.call("POST", "/v1.0/pods", {"pod": pod})
            assert response.status_code in (200, 201), response.text

        def pods_up() -> bool:
            try:
                pods = admin.call("GET", "/v1.0/pods").json()["pods"]
            except (httpx.HTTPError, ValueError, KeyError):
                return False
            return {p["region_name"] for p in pods if p.get("status") == "up"} >= {SOURCE, TARGET}

        wait_for(pods_up, "the engines to discover Pod1 and Pod2 and find them up", 120)
        yield group
    except BaseException:
        print(group.logs())
        raise
    finally:
        group.stop()


def _caller(atoll: Any, group: PgAtoll) -> Caller:
    demo = Caller(atoll, "testbed-demo")
    demo.url = group.base
    return demo


def _parts(url: str, job_id: str) -> list[tuple[str, int]]:
    [rows] = sql(url, f"SELECT status, attempts FROM jobs WHERE parent_id = '{job_id}' ORDER BY seq")
    return [(status, int(attempts)) for status, attempts in rows]


def test_two_engines_run_each_sync_job_once(atoll: Any, pg_atoll: PgAtoll) -> None:
    demo = _caller(atoll, pg_atoll)
    tag = uuid.uuid4().hex[:8]
    names = [f"pg-kp-{tag}-{i}" for i in range(8)]
    for name in names:
        atoll.openstack("keypair", "create", name, region=SOURCE, json_output=False)
    try:
        job_id = demo.sync(one("keypair", names))
        status, parts = demo.finished(job_id)
        assert status == "SUCCESS", parts
        assert _parts(pg_atoll.url, job_id) == [("SUCCESS", 1)] * len(names)  # each claimed once
        copied = {k["Name"] for k in atoll.openstack("keypair", "list", region=TARGET)}
        assert set(names) <= copied
        assert all(engine.poll() is None for engine in pg_atoll.engines)
    finally:
        for name in names:
            for region in (SOURCE, TARGET):
                atoll.openstack("keypair", "delete", name, region=region, json_output=False, check=False)


@pytest.fixture
def big_image(atoll: Any, tmp_path: pathlib.Path) -> Iterator[str]:
    data = tmp_path / "big.raw"
    with data.open("wb") as out:
        for _ in range(IMAGE_MIB):
            out.write(os.urandom(1 << 20))
    made = atoll.openstack(
        "image", "create", "--disk-format", "raw", "--container-format", "bare", "--file", str(data),
        f"pg-big-{uuid.uuid4().hex[:8]}", region=SOURCE,
    )  # fmt: skip
    data.unlink()
    yield str(made["id"])
    for region in (SOURCE, TARGET):
        atoll.openstack("image", "delete", made["id"], region=region, json_output=False, check=False)


def _image(conn: Any, region: str, image_id: str) -> dict[str, Any] | None:
    """Glance's own document of the image in that region (keystoneauth, no SDK resource layer)."""
    where = {"service_type": "image", "interface": "public", "region_name": region}
    response = conn.session.get(f"/v2/images/{image_id}", endpoint_filter=where, raise_exc=False)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def test_an_image_copy_cut_by_kill_9_of_the_engines_ends_success_after_restart(
    atoll: Any, pg_atoll: PgAtoll, big_image: str
) -> None:
    demo = _caller(atoll, pg_atoll)
    with atoll.connect("testbed-demo", SOURCE) as conn:
        job_id = demo.sync(one("image", [big_image]))

        def streaming() -> bool:
            copy = _image(conn, TARGET, big_image)
            return copy is not None and copy["status"] == "saving"

        wait_for(streaming, "the copy to start streaming into Pod2", 120)
        pg_atoll.kill_engines()
        assert _parts(pg_atoll.url, job_id) == [("RUNNING", 1)]
        cut = _image(conn, TARGET, big_image)
        assert cut is not None
        assert cut["status"] != "active"  # cut in the middle

        pg_atoll.start_engine()  # the job is taken over once the dead engines' lease expires
        status, parts = demo.finished(job_id)
        assert status == "SUCCESS", parts
        [(part_status, attempts)] = _parts(pg_atoll.url, job_id)
        assert part_status == "SUCCESS"
        assert attempts >= 2
        want, got = _image(conn, SOURCE, big_image), _image(conn, TARGET, big_image)
        assert want is not None
        assert got is not None
        assert got["status"] == "active"
        fields = ("size", "checksum", "os_hash_algo", "os_hash_value")
        assert [got[f] for f in fields] == [want[f] for f in fields]
        assert got["size"] == IMAGE_MIB << 20
