"""What do endpoint discovery, a health-probe round and a list fan-out cost for 1, 10 and 100 pods?

Atoll's own PodDirectory (SQLite) against stub pods with 20 ms latency each. For each pod count it
starts a stub cloud in its own process (`python -m stubpods serve`, 20 servers per project per pod),
a fresh SQLite database with the pods registered, and times, round by round:

- discovery: `PodDirectory.discover()` - a new service token carrying the whole catalog, parsed,
  every pod's endpoints written;
- probe round: `PodDirectory.probe()` - every service of every pod (7 each) probed concurrently,
  statuses written;
- probe, HTTP only: `atoll.pods.health.probe` over every pod, no database (Atoll's httpx client);
- probe URLs, aiohttp: the same GETs with one aiohttp session, to tell the client's cost from the pods';
- fan-out: `GET /servers/detail?limit=20` to every pod at once with one aiohttp session (the
  gateway's client-to-be): the floor under a merged server list, which the gateway benchmark will
  measure against when the gateway lands.

It also reads the stub process's RSS (idle, after start) and the CPU seconds it spends per round of
each kind (psutil), which is what one process of stub pods costs. Prints medians side by side, and
each median over the 1-pod one. Not a test: it asserts nothing.

    .venv/bin/python bench/stub_pods.py [--pods 1,10,100] [--rounds 7] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import psutil
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tools")]

from stubpods import StubProcess  # noqa: E402
from stubpods.atoll import token  # noqa: E402

from atoll.core.clock import SystemClock  # noqa: E402
from atoll.db import migration  # noqa: E402
from atoll.db import pods as pods_db  # noqa: E402
from atoll.db.engine import create_engine, session_factory  # noqa: E402
from atoll.openstack.catalog import CatalogReader  # noqa: E402
from atoll.openstack.http import http_client  # noqa: E402
from atoll.pods.directory import PodDirectory  # noqa: E402
from atoll.pods.health import probe  # noqa: E402

KINDS = ("discovery", "probe round", "probe, HTTP only", "probe URLs, aiohttp", "fan-out /servers/detail")
SHORT = dict(zip(KINDS, ("discovery", "probe round", "HTTP probe", "aiohttp probe", "fan-out"), strict=True))


def service_session(info: dict[str, Any]) -> ks_session.Session:
    creds = info["credentials"]["atoll"]
    auth = v3.Password(
        auth_url=info["auth_url"],
        username=creds["username"],
        password=creds["password"],
        project_name=creds["project_name"],
        user_domain_id="default",
        project_domain_id="default",
    )
    return ks_session.Session(auth=auth)


class StubCost:
    """CPU seconds a process spends while a block of work runs."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)

    def cpu(self) -> float:
        times = self.process.cpu_times()
        return float(times.user + times.system)

    def rss_mib(self) -> float:
        return float(self.process.memory_info().rss) / 2**20


async def timed(label: str, rounds: int, work: Callable[[], Awaitable[object]], cost: StubCost) -> tuple[float, float]:
    """Median seconds of `rounds` runs of `work` (after one warm-up), and the stubs' CPU seconds per run."""
    print(f"  {label} ...", flush=True)
    await work()
    samples = []
    cpu_before = cost.cpu()
    for _ in range(rounds):
        start = time.perf_counter()
        await work()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), (cost.cpu() - cpu_before) / rounds


async def measure(pods: int, rounds: int, latency_ms: float, workdir: pathlib.Path) -> dict[str, Any]:
    args = ["--pods", str(pods), "--latency-ms", f"{latency_ms:g}", "--servers-per-pod", "20"]
    with StubProcess(args) as stubs:
        info = stubs.info
        cost = StubCost(stubs.pid)
        cpu_idle = cost.cpu()
        await asyncio.sleep(2)
        result: dict[str, Any] = {"rss": cost.rss_mib(), "idle cpu": (cost.cpu() - cpu_idle) / 2}
        url = f"sqlite:///{workdir}/atoll-{pods}.sqlite"
        await asyncio.to_thread(migration.upgrade, url)  # alembic runs its own event loop
        engine = create_engine(url)
        sessions = session_factory(engine)
        async with sessions.begin() as session:
            for i, name in enumerate(info["pod_regions"]):
                await pods_db.create(session, region_name=name, az_name=f"az{i % 2 + 1}")
        catalog = CatalogReader(service_session(info))
        async with http_client(5.0) as client:
            directory = PodDirectory(sessions, catalog, client, SystemClock(), probe_timeout=5.0)
            result["discovery"] = await timed("discovery", rounds, directory.discover, cost)
            result["probe round"] = await timed("probe round", rounds, directory.probe, cost)
            endpoints = (await catalog.regions(info["pod_regions"])).values()

            async def http_probe() -> object:
                return await asyncio.gather(*(probe(client, eps, 5.0) for eps in endpoints))

            result["probe, HTTP only"] = await timed("probe, HTTP only", rounds, http_probe, cost)
        demo = {"X-Auth-Token": token(info["auth_url"], info["credentials"]["demo"])}
        urls = [pod["endpoints"]["compute"] + "/servers/detail?limit=20" for pod in info["pods"].values()]
        probe_urls = [url for eps in endpoints for url in eps.values()]
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

            async def aiohttp_probe() -> object:
                async def one(url: str) -> int:
                    async with http.get(url) as response:
                        await response.read()
                        return response.status

                statuses = await asyncio.gather(*(one(u) for u in probe_urls))
                assert all(s < 500 for s in statuses), statuses
                return statuses

            result["probe URLs, aiohttp"] = await timed("probe URLs, aiohttp", rounds, aiohttp_probe, cost)
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector, headers=demo) as http:

            async def fan_out() -> object:
                async def one(url: str) -> int:
                    async with http.get(url) as response:
                        body = await response.json()
                        return len(body["servers"])

                counts = await asyncio.gather(*(one(u) for u in urls))
                assert sum(counts) == 20 * pods, counts  # a partial answer would time nothing useful
                return counts

            result["fan-out /servers/detail"] = await timed("fan-out /servers/detail", rounds, fan_out, cost)
        await engine.dispose()
    return result


def report(results: dict[int, dict[str, Any]], latency_ms: float, rounds: int) -> None:
    counts = sorted(results)
    print(f"\nstub pods with {latency_ms:g} ms latency each; median of {rounds} rounds (after a warm-up)")
    header = f"  {'':<26}" + "".join(f"{str(n) + ' pods':>14}" for n in counts)
    print(header)
    for kind in KINDS:
        print(f"  {kind:<26}" + "".join(f"{results[n][kind][0] * 1000:>11.1f} ms" for n in counts))
    print("  over the 1-pod median:")
    base = counts[0]
    for kind in KINDS:
        ratios = "".join(f"{results[n][kind][0] / results[base][kind][0]:>13.2f}x" for n in counts)
        print(f"  {kind:<26}" + ratios)
    print("  the stub process:")
    print(f"  {'RSS after start':<26}" + "".join(f"{results[n]['rss']:>10.1f} MiB" for n in counts))
    print(f"  {'CPU idle (s per s)':<26}" + "".join(f"{results[n]['idle cpu']:>14.3f}" for n in counts))
    for kind in KINDS:
        label = f"CPU ms per {SHORT[kind]}"
        print(f"  {label:<26}" + "".join(f"{results[n][kind][1] * 1000:>14.1f}" for n in counts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", default="1,10,100", help="pod counts, comma separated")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    counts = [int(n) for n in args.pods.split(",")]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for pods in counts:
            print(f"measuring {pods} pods ...", flush=True)
            results[pods] = asyncio.run(measure(pods, args.rounds, args.latency_ms, pathlib.Path(tmp)))
    report(results, args.latency_ms, args.rounds)


if __name__ == "__main__":
    main()
