"""What does the gateway hop cost? The same calls through atoll-api and straight to the pod.

Three processes on loopback: a pod (an aiohttp app answering realistic Nova and Cinder
documents from memory, in about 45 µs, like the backend of design.md's measurements, plus
a configurable latency), atoll-api's gateway under uvicorn with uvloop and httptools
(SQLite, the pod registered in az1, tokens accepted without Keystone so only the hop is
measured), and this client. Three calls:

    show     GET /compute/v2.1/servers/{id}            (pod: /v2.1/servers/{id})
    detail   GET /compute/v2.1/servers/detail          (pod: /v2.1/servers/detail, --detail servers;
                                                        through Atoll: the merged-list path)
    volume   GET /volume/v3/{project}/volumes/{id}     (pod: /v3/{project}/volumes/{id})

each timed against both, interleaved round by round, at 1 and at 32 concurrent clients,
for each pod latency of --latency-ms (0 is the raw microbenchmark, where the client, the
pod and Atoll share the CPUs; 15 is about what a real Nova takes to show a server, which
is what users see). Prints p50/p99 latency, the added latency, throughput ratios and
atoll-api's CPU per call; then the gateway's own Python per call, in-process. Not a test.

    .venv/bin/python bench/gateway_hop.py [--requests 2000] [--rounds 3] [--latency-ms 0,15]
        [--calls show,detail,volume] [--workers 1] [--profile FILE] [--relay]

`--profile FILE` runs atoll-api under py-spy (`pip install py-spy`), collapsed stacks to FILE.
`--relay` also times each call through a bare relay: the same uvicorn and Atoll's pod client,
the pod's answer sent back as it came, nothing else. That is the floor any gateway built
from these parts starts from; the rest of Atoll's cost is its own work.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
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
import psutil
from aiohttp import web

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVER_ID = "5c9d3b1e-8f7e-4a53-9d3c-2f0c3f6f1a10"
VOLUME_ID = "0b7b8a52-2d4e-4c8f-9a43-6a3e1e2f5d11"
PROJECT = "9a7c1e0d3b2f4a6e8c5d7f1a2b3c4d5e"  # a Keystone project id: 32 hex digits
TOKEN = "bench-token"
CLIENTS = (1, 32)
VOLUME_TYPE = {
    "id": "c4b1f3a2-1111-4a53-9d3c-2f0c3f6f1a10",
    "name": "lvmdriver-1",
    "is_public": True,
    "description": None,
    "extra_specs": {"volume_backend_name": "lvmdriver-1"},
    "qos_specs_id": None,
    "os-volume-type-access:is_public": True,
}


def server_document(base: str, server_id: str = SERVER_ID, created: str = "2026-11-23T10:00:00Z") -> dict[str, Any]:
    return {
        "server": {
            "id": server_id,
            "name": "bench-vm",
            "status": "ACTIVE",
            "tenant_id": PROJECT,
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
            "created": created,
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
                {"rel": "self", "href": f"{base}/v2.1/servers/{server_id}"},
                {"rel": "bookmark", "href": f"{base}/servers/{server_id}"},
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


def detail_document(base: str, count: int) -> dict[str, Any]:
    """`count` servers in Nova's default order (created, then id, newest first)."""
    servers = []
    for i in range(count):
        server_id = f"5c9d3b1e-8f7e-4a53-9d3c-{i:012x}"
        created = (dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC) - dt.timedelta(minutes=i)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        servers.append(server_document(base, server_id, created)["server"])
    return {"servers": servers}


def volume_document(base: str) -> dict[str, Any]:
    return {
        "volume": {
            "id": VOLUME_ID,
            "name": "bench-volume",
            "status": "available",
            "size": 1,
            "availability_zone": "nova",
            "created_at": "2026-11-23T10:00:00.000000",
            "updated_at": "2026-11-23T10:00:05.000000",
            "attachments": [],
            "bootable": "false",
            "encrypted": False,
            "description": None,
            "volume_type": "lvmdriver-1",
            "volume_type_id": VOLUME_TYPE["id"],
            "snapshot_id": None,
            "source_volid": None,
            "metadata": {},
            "multiattach": False,
            "replication_status": None,
            "consistencygroup_id": None,
            "group_id": None,
            "provider_id": None,
            "service_uuid": None,
            "shared_targets": True,
            "cluster_name": None,
            "user_id": "user-a",
            "os-vol-tenant-attr:tenant_id": PROJECT,
            "os-vol-host-attr:host": None,
            "os-vol-mig-status-attr:migstat": None,
            "os-vol-mig-status-attr:name_id": None,
            "volume_image_metadata": {},
            "links": [
                {"rel": "self", "href": f"{base}/v3/{PROJECT}/volumes/{VOLUME_ID}"},
                {"rel": "bookmark", "href": f"{base}/{PROJECT}/volumes/{VOLUME_ID}"},
            ],
        }
    }


# --- the pod ------------------------------------------------------------------------------


def run_pod(port: int, detail: int) -> None:
    base = f"http://127.0.0.1:{port}"
    show_body = json.dumps(server_document(base)).encode()
    detail_body = json.dumps(detail_document(base, detail)).encode()
    volume_body = json.dumps(volume_document(base)).encode()
    types_body = json.dumps({"volume_types": [VOLUME_TYPE]}).encode()
    versions = json.dumps(
        {
            "versions": [
                {"id": "v2.1", "status": "CURRENT", "version": "2.96", "min_version": "2.1"},
                {"id": "v3.0", "status": "CURRENT", "version": "3.71", "min_version": "3.0"},
            ]
        }
    )
    latency = [0.0]

    def answer(body: bytes) -> Any:
        async def handler(_request: web.Request) -> web.Response:
            if latency[0]:
                await asyncio.sleep(latency[0])
            return web.Response(body=body, content_type="application/json")

        return handler

    async def root(_request: web.Request) -> web.Response:
        return web.Response(text=versions, content_type="application/json")

    async def set_latency(request: web.Request) -> web.Response:
        latency[0] = float(request.query["ms"]) / 1000
        return web.Response(status=204)

    app = web.Application()
    app.router.add_get("/", root)
    app.router.add_put("/bench/latency", set_latency)
    app.router.add_get("/v2.1/servers/detail", answer(detail_body))
    app.router.add_get("/v2.1/servers/{id}", answer(show_body))
    app.router.add_get("/v3/{project}/volumes/{id}", answer(volume_body))
    app.router.add_get("/v3/volumes/{id}", answer(volume_body))
    # Atoll reads the first pod's types (cached) to show a volume's type id as its own.
    app.router.add_get("/v3/{project}/types", answer(types_body))
    app.router.add_get("/v3/types", answer(types_body))
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# --- atoll-api's gateway ------------------------------------------------------------------------


class AcceptingValidator:
    async def validate(self, token: str) -> Any:
        from atoll.openstack.keystone import TokenInfo

        return TokenInfo("user-a", PROJECT, "default", ("member", "reader"), dt.datetime(2100, 1, 1, tzinfo=dt.UTC))


def atoll_app() -> Any:
    """uvicorn's factory: the gateway over the bench database (ATOLL_BENCH_DB)."""
    from atoll.conf import new_config
    from atoll.db.engine import create_engine, session_factory
    from atoll.gateway.build import build_gateway
    from atoll.scheduling.weigher import EvenWeigher

    conf = new_config()
    sessions = session_factory(create_engine(os.environ["ATOLL_BENCH_DB"]))
    parts = build_gateway(conf, sessions=sessions, validator=AcceptingValidator(), weigher=EvenWeigher())

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await parts.app(scope, receive, send)
            return
        while (await receive())["type"] != "lifespan.shutdown":  # startup, then shutdown
            await send({"type": "lifespan.startup.complete"})
        await parts.close()  # the pod clients, closed as atoll-api closes them
        await send({"type": "lifespan.shutdown.complete"})

    from atoll.core import heap

    heap.freeze()  # as atoll-api's own factory does
    return app


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
        endpoints = {"compute": f"{pod_url}/v2.1", "volumev3": f"{pod_url}/v3/{PROJECT}"}
        await pods_db.set_endpoints(session, state, endpoints, now)
        [state] = await pods_db.list_states(session, [pod.pod_id])
        await pods_db.set_status(session, state, PodStatus.UP, "", now)
    await engine.dispose()


def relay_app() -> Any:
    """uvicorn's factory for the floor: each call relayed to the pod (ATOLL_BENCH_POD) with Atoll's
    own pod client and the body sent back as it came. No token check, routing, parsing or rewriting:
    what any gateway made of this server and this pod client costs before it does anything."""
    from atoll.pods.client import PodLimits
    from atoll.pods.h1 import H1PodClient

    pod = os.environ["ATOLL_BENCH_POD"]
    client = H1PodClient("Pod1", PodLimits())
    prefixes = {"/compute/": "/", "/volume/": "/"}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await client.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
        path = scope["path"]
        for prefix, replaced in prefixes.items():
            if path.startswith(prefix):
                path = replaced + path[len(prefix) :]
        answer = await client.request("GET", pod + path, token=TOKEN)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(answer.body)).encode())]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})

    return app


# --- Atoll's own share: the gateway in-process over a pod client that answers at once ----------


class CannedPod:
    """A `PodClient` answering every call from memory: what is left is the gateway's own Python."""

    def __init__(self, base: str, detail: int) -> None:
        from multidict import CIMultiDict, CIMultiDictProxy

        self.headers = CIMultiDictProxy(CIMultiDict({"Content-Type": "application/json"}))
        self.show = json.dumps(server_document(base)).encode()
        self.detail = json.dumps(detail_document(base, detail)).encode()
        self.volume = json.dumps(volume_document(base)).encode()
        self.types = json.dumps({"volume_types": [VOLUME_TYPE]}).encode()
        self.versions = json.dumps(
            {
                "versions": [
                    {"id": "v2.1", "version": "2.96", "min_version": "2.1"},
                    {"id": "v3.0", "version": "3.71", "min_version": "3.0"},
                ]
            }
        ).encode()

    async def request(self, method: str, url: str, **_: Any) -> Any:
        from atoll.pods.client import PodResponse

        if url.endswith("/"):
            return PodResponse(200, self.headers, self.versions)
        if "/servers/detail" in url:
            return PodResponse(200, self.headers, self.detail)
        if url.endswith("/types"):
            return PodResponse(200, self.headers, self.types)
        return PodResponse(200, self.headers, self.volume if "/volumes/" in url else self.show)

    async def close(self) -> None:
        return None


async def in_process_cpu(db: str, pod_url: str, calls: int, call: str = "show", detail: int = 20) -> float:
    """CPU seconds per call (`CALLS`) of the gateway app called directly (no HTTP server or client)."""
    from atoll.conf import new_config
    from atoll.db.engine import create_engine, session_factory
    from atoll.gateway.build import build_gateway
    from atoll.pods.pool import PodClients
    from atoll.scheduling.weigher import EvenWeigher

    engine = create_engine(db)
    clients = PodClients(factory=lambda _name, _limits: CannedPod(pod_url, detail))  # type: ignore[arg-type,return-value]
    parts = build_gateway(
        new_config(),
        sessions=session_factory(engine),
        validator=AcceptingValidator(),
        weigher=EvenWeigher(),
        clients=clients,
    )
    headers = [(b"host", b"atoll"), (b"x-auth-token", TOKEN.encode())]
    scope = {"type": "http", "method": "GET", "path": CALLS[call][1], "query_string": b""}

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
    """User + system CPU time a process and its children (uvicorn's workers) have used so far."""
    process = psutil.Process(pid)
    total = 0.0
    for proc in (process, *process.children(recursive=True)):
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


CALLS = {
    "show": (f"/v2.1/servers/{SERVER_ID}", f"/compute/v2.1/servers/{SERVER_ID}"),
    "detail": ("/v2.1/servers/detail", "/compute/v2.1/servers/detail"),
    "volume": (f"/v3/{PROJECT}/volumes/{VOLUME_ID}", f"/volume/v3/{PROJECT}/volumes/{VOLUME_ID}"),
}


@dataclasses.dataclass
class Row:
    call: str
    latency_ms: float
    clients: int
    direct: tuple[float, float, float]
    """p50 ms, p99 ms, requests/s"""
    atoll: tuple[float, float, float]
    cpu_us: float
    relay: tuple[float, float, float] | None = None
    """The bare relay's p50, p99 and requests/s (`--relay`)."""
    relay_cpu_us: float = 0.0


def requests_for(requests: int, latency_ms: float, clients: int) -> int:
    """Against a slow pod a lone client makes fewer calls, so a round lasts seconds, not minutes."""
    return requests if latency_ms == 0 else max(min(requests, 200), requests * clients // CLIENTS[-1])


async def measure_call(
    call: str, urls: dict[str, str], latency_ms: float, requests: int, rounds: int, pids: dict[str, int]
) -> list[Row]:
    """`urls`: the call straight to the pod ("direct"), through Atoll ("atoll") and maybe through the
    bare relay ("relay"); `pids`: the processes whose CPU each is charged with."""
    for url in urls.values():
        await load(url, 100, 4)  # warm: registry loaded, routing adopted, connections open
    rows = []
    for concurrency in CLIENTS:
        count = requests_for(requests, latency_ms, concurrency)
        results: dict[str, tuple[list[float], float]] = {name: ([], 0.0) for name in urls}
        cpu = dict.fromkeys(urls, 0.0)
        for _ in range(rounds):
            for name, url in urls.items():
                before = cpu_seconds(pids[name]) if name in pids else 0.0
                latencies, wall = await load(url, count, concurrency)
                if name in pids:
                    cpu[name] += cpu_seconds(pids[name]) - before
                results[name] = (results[name][0] + latencies, results[name][1] + wall)
        stats = {}
        for name, (latencies, wall) in results.items():
            stats[name] = (percentile(latencies, 0.5) * 1e3, percentile(latencies, 0.99) * 1e3, len(latencies) / wall)
        per_call = {name: spent / (count * rounds) * 1e6 for name, spent in cpu.items()}
        row = Row(call, latency_ms, concurrency, stats["direct"], stats["atoll"], per_call["atoll"])
        if "relay" in stats:
            row.relay, row.relay_cpu_us = stats["relay"], per_call["relay"]
        print_row(row)
        rows.append(row)
    return rows


def print_row(row: Row) -> None:
    d, a = row.direct, row.atoll
    print(
        f"{row.call:>7} {row.latency_ms:>6g} {row.clients:>7} {d[0]:8.3f} {a[0]:8.3f} {a[0] - d[0]:+8.3f}"
        f" {d[1]:8.3f} {a[1]:8.3f} {a[1] - d[1]:+8.3f} {d[2]:8.0f} {a[2]:8.0f} {a[2] / d[2]:6.2f}x {row.cpu_us:6.0f}"
        + (
            ""
            if row.relay is None
            else f" {row.relay[0] - d[0]:+8.3f} {row.relay[2] / d[2]:6.2f}x {row.relay_cpu_us:6.0f}"
        ),
        flush=True,
    )


HEADER = (
    f"{'call':>7} {'pod ms':>6} {'clients':>7} {'p50 dir':>8} {'p50 atl':>8} {'added':>8}"
    f" {'p99 dir':>8} {'p99 atl':>8} {'added':>8} {'rps dir':>8} {'rps atl':>8} {'ratio':>7} {'µs CPU':>6}"
)
RELAY_HEADER = f" {'relay +':>8} {'ratio':>7} {'µs CPU':>6}"


async def set_latency(pod_url: str, latency_ms: float) -> None:
    async with aiohttp.ClientSession() as http, http.put(f"{pod_url}/bench/latency?ms={latency_ms:g}") as response:
        assert response.status == 204, response.status


async def measure(
    pod_url: str,
    roots: dict[str, str],
    calls: list[str],
    latencies: list[float],
    requests: int,
    rounds: int,
    pids: dict[str, int],
) -> list[Row]:
    """`roots`: Atoll's URL ("atoll") and maybe the bare relay's ("relay")."""
    print(f"{requests} requests (200 for 1 client against a slow pod) x {rounds} rounds, direct and atoll interleaved")
    print("latencies in ms; 'added' is atoll minus direct; ratio is atoll/direct requests per second;")
    print("µs CPU is atoll-api's (all its processes) per call")
    if "relay" in roots:
        print("relay: the same call through a bare relay on the same server and pod client (no auth, routing,")
        print("parsing or rewriting): its added p50, its throughput ratio and its CPU per call; the floor")
    print(HEADER + (RELAY_HEADER if "relay" in roots else ""))
    rows = []
    for latency_ms in latencies:
        await set_latency(pod_url, latency_ms)
        for call in calls:
            direct, through = CALLS[call]
            urls = {"direct": pod_url + direct} | {name: root + through for name, root in roots.items()}
            rows += await measure_call(call, urls, latency_ms, requests, rounds, pids)
    return rows


def summary(rows: list[Row]) -> None:
    print("\ntargets: added p50 < 1 ms and p99 < 5 ms (1 client); throughput >= 0.9x direct (1 and 32 clients)")
    for row in rows:
        d, a = row.direct, row.atoll
        checks = [f"throughput {a[2] / d[2]:.2f}x {'met' if a[2] / d[2] >= 0.9 else 'NOT met'}"]
        if row.clients == 1:
            checks.insert(0, f"added p50 {a[0] - d[0]:+.3f} ms {'met' if a[0] - d[0] < 1 else 'NOT met'}")
            checks.insert(1, f"added p99 {a[1] - d[1]:+.3f} ms {'met' if a[1] - d[1] < 5 else 'NOT met'}")
        print(f"  {row.call:>7}, pod {row.latency_ms:g} ms, {row.clients:>2} clients: " + "; ".join(checks))


def uvicorn_command(factory: str, port: int, workers: int) -> list[str]:
    """atoll-api's server settings (uvloop, httptools) for one of this module's app factories."""
    command = [sys.executable, "-m", "uvicorn", f"bench.gateway_hop:{factory}", "--factory", "--port", str(port)]
    command += ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]
    return [*command, "--workers", str(workers)]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-ms", default="0,15", help="pod latencies to measure at, comma separated")
    parser.add_argument("--calls", default=",".join(CALLS), help="which calls: show, detail, volume")
    parser.add_argument("--detail", type=int, default=20, help="servers in the pod's /servers/detail")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes of atoll-api")
    parser.add_argument("--profile", metavar="FILE", help="run atoll-api under py-spy, collapsed stacks to FILE")
    parser.add_argument(
        "--relay", action="store_true", help="also time a bare relay on the same server and pod client (the floor)"
    )
    parser.add_argument("--serve-pod", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_pod:
        run_pod(args.serve_pod, args.detail)
        return
    calls = [c for c in args.calls.split(",") if c]
    if unknown := set(calls) - set(CALLS):
        parser.error(f"unknown calls: {', '.join(sorted(unknown))}")
    latencies = [float(v) for v in args.latency_ms.split(",")]
    pod_port, atoll_port = free_port(), free_port()
    pod_url = f"http://127.0.0.1:{pod_port}"
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/bench.sqlite"
        try:
            pod = [sys.executable, __file__, "--serve-pod", str(pod_port), "--detail", str(args.detail)]
            procs.append(subprocess.Popen(pod))
            asyncio.run(prepare_db(db, pod_url))
            env = {**os.environ, "ATOLL_BENCH_DB": db, "PYTHONPATH": str(ROOT)}
            uvicorn = uvicorn_command("atoll_app", atoll_port, args.workers)
            if args.profile:
                spy = str(pathlib.Path(sys.executable).with_name("py-spy"))
                uvicorn = [spy, "record", "-s", "-f", "raw", "-r", "400", "-o", args.profile, "--", *uvicorn]
            procs.append(subprocess.Popen(uvicorn, env=env, cwd=ROOT))
            roots = {"atoll": f"http://127.0.0.1:{atoll_port}"}
            pids = {"atoll": procs[1].pid}
            if args.relay:
                relay_port = free_port()
                relay = uvicorn_command("relay_app", relay_port, args.workers)
                procs.append(subprocess.Popen(relay, env={**env, "ATOLL_BENCH_POD": pod_url}, cwd=ROOT))
                roots["relay"], pids["relay"] = f"http://127.0.0.1:{relay_port}", procs[-1].pid
            asyncio.run(wait_up(pod_url + "/"))
            for root in roots.values():
                asyncio.run(wait_up(f"{root}/compute/"))
            rows = asyncio.run(measure(pod_url, roots, calls, latencies, args.requests, args.rounds, pids))
            print("\nthe gateway's own Python per call, in-process, with a pod client answering from memory:")
            for call in calls:
                cpu = asyncio.run(in_process_cpu(db, pod_url, args.requests, call, args.detail))
                print(f"  {call:>7} {CALLS[call][1]}: {cpu * 1e6:.0f} µs CPU")
            summary(rows)
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGINT)  # py-spy writes its profile on SIGINT
                proc.wait(timeout=10)


if __name__ == "__main__":
    main()
