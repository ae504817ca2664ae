"""What does the gateway hop cost? `GET /servers/{id}` through atoll-api vs straight to the pod.

Three processes on loopback: a pod (an aiohttp app answering a realistic Nova server
document in about 45 µs, like the backend of design.md's measurements), atoll-api's
gateway under uvicorn with uvloop and httptools (SQLite, the pod registered in az1,
tokens accepted without Keystone so only the hop is measured), and this client. The same
call is timed against both, interleaved round by round, at 1 and at 32 concurrent
clients; prints p50/p99 latency, the added latency and throughput ratios. Not a test.

    .venv/bin/python bench/gateway_hop.py [--requests 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

import aiohttp
from aiohttp import web

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVER_ID = "5c9d3b1e-8f7e-4a53-9d3c-2f0c3f6f1a10"
TOKEN = "bench-token"


def server_document(base: str) -> dict[str, Any]:
    return {
        "server": {
            "id": SERVER_ID,
            "name": "bench-vm",
            "status": "ACTIVE",
            "tenant_id": "project-a",
            "user_id": "user-a",
            "metadata": {},
            "hostId": "a" * 56,
            "image": {
                "id": "70a599e0-31e7-49b7-b260-868f441e862b",
                "links": [{"rel": "bookmark", "href": f"{base}/images/x"}],
            },
            "flavor": {
                "vcpus": 1,
                "ram": 512,
                "disk": 1,
                "ephemeral": 0,
                "swap": 0,
                "original_name": "m1.tiny",
                "extra_specs": {},
            },
            "created": "2026-11-23T10:00:00Z",
            "updated": "2026-11-23T10:00:05Z",
            "addresses": {
                "net1": [
                    {
                        "version": 4,
                        "addr": "10.0.0.5",
                        "OS-EXT-IPS:type": "fixed",
                        "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:01",
                    }
                ]
            },
            "accessIPv4": "",
            "accessIPv6": "",
            "links": [
                {"rel": "self", "href": f"{base}/v2.1/servers/{SERVER_ID}"},
                {"rel": "bookmark", "href": f"{base}/servers/{SERVER_ID}"},
            ],
            "OS-DCF:diskConfig": "MANUAL",
            "progress": 0,
            "OS-EXT-AZ:availability_zone": "nova",
            "config_drive": "",
            "key_name": None,
            "OS-SRV-USG:launched_at": "2026-11-23T10:00:05.000000",
            "OS-SRV-USG:terminated_at": None,
            "security_groups": [{"name": "default"}],
            "OS-EXT-STS:task_state": None,
            "OS-EXT-STS:vm_state": "active",
            "OS-EXT-STS:power_state": 1,
            "os-extended-volumes:volumes_attached": [],
            "locked": False,
            "description": None,
            "tags": [],
            "trusted_image_certificates": None,
            "server_groups": [],
        }
    }


# --- the pod ------------------------------------------------------------------------------


def run_pod(port: int) -> None:
    base = f"http://127.0.0.1:{port}"
    body = json.dumps(server_document(base)).encode()
    versions = json.dumps({"versions": [{"id": "v2.1", "status": "CURRENT", "version": "2.96", "min_version": "2.1"}]})

    async def show(_request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    async def root(_request: web.Request) -> web.Response:
        return web.Response(text=versions, content_type="application/json")

    app = web.Application()
    app.router.add_get("/", root)
    app.router.add_get("/v2.1/servers/{id}", show)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# --- atoll-api's gateway ------------------------------------------------------------------------


class AcceptingValidator:
    async def validate(self, token: str) -> Any:
        from atoll.openstack.keystone import TokenInfo

        return TokenInfo("user-a", "project-a", "default", ("member", "reader"), dt.datetime(2100, 1, 1, tzinfo=dt.UTC))


def atoll_app() -> Any:
    """uvicorn's factory: the gateway over the bench database (ATOLL_BENCH_DB)."""
    from atoll.conf import new_config
    from atoll.db.engine import create_engine, session_factory
    from atoll.gateway.build import build_gateway
    from atoll.scheduling.weigher import EvenWeigher

    conf = new_config()
    sessions = session_factory(create_engine(os.environ["ATOLL_BENCH_DB"]))
    return build_gateway(conf, sessions=sessions, validator=AcceptingValidator(), weigher=EvenWeigher()).app


async def prepare_db(url: str, pod_url: str) -> None:
    from atoll.db import migration
    from atoll.db import pods as pods_db
    from atoll.db.engine import create_engine, session_factory
    from atoll.types import PodStatus

    await asyncio.to_thread(migration.upgrade, url)
    engine = create_engine(url)
    async with session_factory(engine).begin() as session:
        pod = await pods_db.create(session, region_name="Pod1", az_name="az1")
        now = dt.datetime.now(dt.UTC)
        [state] = await pods_db.list_states(session, [pod.pod_id])
        await pods_db.set_endpoints(session, state, {"compute": f"{pod_url}/v2.1"}, now)
        [state] = await pods_db.list_states(session, [pod.pod_id])
        await pods_db.set_status(session, state, PodStatus.UP, "", now)
    await engine.dispose()


# --- Atoll's own share: the gateway in-process over a pod client that answers at once ----------


class CannedPod:
    """A `PodClient` answering every call from memory: what is left is the gateway's own Python."""

    def __init__(self, base: str) -> None:
        from multidict import CIMultiDict, CIMultiDictProxy

        self.headers = CIMultiDictProxy(CIMultiDict({"Content-Type": "application/json"}))
        self.body = json.dumps(server_document(base)).encode()
        self.versions = json.dumps({"versions": [{"id": "v2.1", "version": "2.96", "min_version": "2.1"}]}).encode()

    async def request(self, method: str, url: str, **_: Any) -> Any:
        from atoll.pods.client import PodResponse

        return PodResponse(200, self.headers, self.versions if url.endswith("/") else self.body)

    async def close(self) -> None:
        return None


async def in_process_cpu(db: str, pod_url: str, calls: int) -> float:
    """CPU seconds per `GET /servers/{id}` of the gateway app called directly (no HTTP server or client)."""
    from atoll.conf import new_config
    from atoll.db.engine import create_engine, session_factory
    from atoll.gateway.build import build_gateway
    from atoll.pods.pool import PodClients
    from atoll.scheduling.weigher import EvenWeigher

    engine = create_engine(db)
    clients = PodClients(factory=lambda _name, _limits: CannedPod(pod_url))  # type: ignore[arg-type,return-value]
    parts = build_gateway(
        new_config(),
        sessions=session_factory(engine),
        validator=AcceptingValidator(),
        weigher=EvenWeigher(),
        clients=clients,
    )
    headers = [(b"host", b"atoll"), (b"x-auth-token", TOKEN.encode())]
    scope = {"type": "http", "method": "GET", "path": f"/compute/v2.1/servers/{SERVER_ID}", "query_string": b""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(_message: Any) -> None:
        return None

    async def one() -> None:
        await parts.app({**scope, "headers": headers, "scheme": "http", "server": ("atoll", 80)}, receive, send)

    for _ in range(200):
        await one()
    started = time.process_time()
    for _ in range(calls):
        await one()
    spent = (time.process_time() - started) / calls
    await parts.close()
    await engine.dispose()
    return spent


# --- the client ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_up(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


async def load(url: str, requests: int, concurrency: int) -> tuple[list[float], float]:
    """Latencies of `requests` calls made by `concurrency` clients at once, and the wall time."""
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers={"X-Auth-Token": TOKEN}) as http:
        remaining = iter(range(requests))

        async def worker() -> None:
            for _ in remaining:
                start = time.perf_counter()
                async with http.get(url) as response:
                    await response.read()
                    assert response.status == 200, response.status
                latencies.append(time.perf_counter() - start)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies, time.perf_counter() - started


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(direct: str, through: str, requests: int, rounds: int, atoll_pid: int) -> None:
    await load(direct, 200, 4)
    await load(through, 200, 4)  # warm: registry loaded, connections open
    print(f"GET /servers/{{id}}, {requests} requests x {rounds} rounds, interleaved")
    print(f"{'clients':>7} {'path':>7} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    for concurrency in (1, 32):
        results: dict[str, tuple[list[float], float]] = {"direct": ([], 0.0), "atoll": ([], 0.0)}
        cpu = 0.0
        for _ in range(rounds):
            for name, url in (("direct", direct), ("atoll", through)):
                before = cpu_seconds(atoll_pid)
                latencies, wall = await load(url, requests, concurrency)
                if name == "atoll":
                    cpu += cpu_seconds(atoll_pid) - before
                results[name] = (results[name][0] + latencies, results[name][1] + wall)
        stats = {}
        for name, (latencies, wall) in results.items():
            rate = len(latencies) / wall
            stats[name] = (percentile(latencies, 0.5) * 1e3, percentile(latencies, 0.99) * 1e3, rate)
            print(f"{concurrency:>7} {name:>7} {stats[name][0]:8.3f} {stats[name][1]:8.3f} {rate:8.0f}")
        d, a = stats["direct"], stats["atoll"]
        print(
            f"{concurrency:>7}   added p50 {a[0] - d[0]:+.3f} ms, p99 {a[1] - d[1]:+.3f} ms; "
            f"throughput atoll/direct {a[2] / d[2]:.2f}x; atoll-api CPU {cpu / (requests * rounds) * 1e6:.0f} µs/call"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", metavar="FILE", help="run atoll-api under py-spy, collapsed stacks to FILE")
    parser.add_argument("--serve-pod", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_pod:
        run_pod(args.serve_pod)
        return
    pod_port, atoll_port = free_port(), free_port()
    pod_url = f"http://127.0.0.1:{pod_port}"
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/bench.sqlite"
        try:
            procs.append(subprocess.Popen([sys.executable, __file__, "--serve-pod", str(pod_port)]))
            asyncio.run(prepare_db(db, pod_url))
            env = {**os.environ, "ATOLL_BENCH_DB": db, "PYTHONPATH": str(ROOT)}
            uvicorn = [sys.executable, "-m", "uvicorn", "bench.gateway_hop:atoll_app", "--factory"]
            uvicorn += ["--port", str(atoll_port), "--loop", "uvloop", "--http", "httptools", "--no-access-log"]
            uvicorn += ["--log-level", "warning"]
            if args.profile:
                spy = str(pathlib.Path(sys.executable).with_name("py-spy"))
                uvicorn = [spy, "record", "-f", "raw", "-r", "400", "-o", args.profile, "--", *uvicorn]
            procs.append(subprocess.Popen(uvicorn, env=env, cwd=ROOT))
            asyncio.run(wait_up(pod_url + "/"))
            asyncio.run(wait_up(f"http://127.0.0.1:{atoll_port}/compute/"))
            path = f"/servers/{SERVER_ID}"
            asyncio.run(
                measure(
                    f"{pod_url}/v2.1{path}",
                    f"http://127.0.0.1:{atoll_port}/compute/v2.1{path}",
                    args.requests,
                    args.rounds,
                    procs[1].pid,
                )
            )
            cpu = asyncio.run(in_process_cpu(db, pod_url, args.requests))
            print(f"gateway's own Python, in-process with an instant pod client: {cpu * 1e6:.0f} µs CPU per call")
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGINT)  # py-spy writes its profile on SIGINT
                proc.wait(timeout=10)


if __name__ == "__main__":
    main()
