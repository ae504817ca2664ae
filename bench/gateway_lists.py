"""How does a list through Atoll's gateway grow with the number of pods? 1, 2, 10, 100.

One stub cloud (`python -m stubpods serve`: a Keystone and --pods stub pods, each with
--servers-per-pod realistic Nova servers in the demo project and --latency-ms before every
answer) and one real atoll-api (+ atoll-engine) per pod count, each with the first N pods
registered (az1/az2 alternating). Tokens are real: Atoll validates the demo user's token
against the stub Keystone (cached) and forwards it. Round by round, interleaved, it times:

    atoll    GET /compute/v2.1/servers/detail?limit=L through the atoll-api of N pods: fan-out,
             k-way merge, one page of L (Nova's default order), Atoll's next link
    direct   the same GET to each of the N pods at once with one aiohttp session (uvloop), no merge:
             the floor (what the pods and this machine's CPUs cost, Atoll aside)

and prints medians, each over the 1-pod median (target: atoll at 100 pods under 1.2x atoll
at 1 pod), and atoll over direct at each N, and how many requests the pods received per
Atoll list. Every answer is checked: a full page, no `Atoll-Partial-Pods`. The stub pods
share this machine's CPUs with Atoll, so the many-pod figures include the stubs' own work of
serving N lists. Not a test.

With --one-holder, the server list is filtered by name to the first pod's servers: the other pods
list nothing, as for a project whose servers are all in the pod it is bound to.

With --images, the list is Glance's `GET /image/v2/images?limit=L` instead, over
--images-per-pod private images of the demo project in each pod and the one public image every
pod holds under the same id (a copy, shown once: each pod before the one showing an item is
asked which of the page's ids it lists).

    .venv/bin/python bench/gateway_lists.py [--pods 1,2,10,100] [--rounds 7] [--latency-ms 20]
        [--servers-per-pod 20] [--limit 20] [--one-holder] [--images [--images-per-pod 20]]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import functools
import pathlib
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import httpx
import psutil
import uvloop

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tools")]

from stubpods import StubProcess  # noqa: E402
from stubpods.atoll import AtollOnStubs, token  # noqa: E402

QUIET_ENGINE = {"health_interval": 3600.0, "discovery_interval": 3600.0, "probe_timeout": 10.0}
"""The engines stay out of the measurement: the API discovers and probes each pod it registers."""


@dataclasses.dataclass(frozen=True)
class Listed:
    """What is listed: the collection, Atoll's path, the pods' service and path, items per pod."""

    name: str
    atoll_path: str
    service: str
    pod_path: str
    per_pod: int
    shared: int = 0
    """Items every pod holds under the same ids (shown once through Atoll)."""

    holders: int | None = None
    """Pods whose items the list's filter matches (`--one-holder`: 1); None: every pod's."""
    query: str = ""
    """The list's filter, asked of Atoll and of each pod."""

    def through_atoll(self, limit: int, pods: int) -> int:
        holding = pods if self.holders is None else min(pods, self.holders)
        return min(limit, holding * (self.per_pod - self.shared) + self.shared)

    def from_each(self, limit: int, pods: int) -> list[int]:
        """What each of the first `pods` pods lists when asked directly."""
        holding = pods if self.holders is None else min(pods, self.holders)
        return [min(limit, self.per_pod) if i < holding else 0 for i in range(pods)]


async def atoll_list(http: aiohttp.ClientSession, url: str, key: str, expected: int) -> None:
    async with http.get(url) as response:
        document = await response.json()
        assert response.status == 200, (response.status, document)
        partial = response.headers.get("Atoll-Partial-Pods")
        assert partial is None, f"pods left out: {partial}"
        ids = [item["id"] for item in document[key]]
        assert len(ids) == expected, len(ids)
        assert len(set(ids)) == len(ids), "an item shown twice"


async def direct_lists(http: aiohttp.ClientSession, urls: list[str], key: str, expected: list[int]) -> None:
    async def one(url: str) -> int:
        async with http.get(url) as response:
            document = await response.json()
            assert response.status == 200, (response.status, document)
            return len(document[key])

    counts = await asyncio.gather(*(one(url) for url in urls))
    assert counts == expected, counts


def cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def pod_requests(info: dict[str, Any]) -> int:
    """Requests every stub pod has received so far (the stub cloud's control API)."""
    described = httpx.get(info["control_url"], timeout=30).json()
    return sum(pod["requests"] for pod in described["pods"].values())


async def measure(
    info: dict[str, Any], atolls: dict[int, AtollOnStubs], rounds: int, limit: int, listed: Listed, stub_pid: int
) -> dict[str, dict[int, list[float]]]:
    demo = token(info["auth_url"], info["credentials"]["demo"])
    bases = [info["pods"][name]["endpoints"][listed.service] for name in info["pod_regions"]]
    per_pod = listed.per_pod
    pod_query = f"{listed.pod_path}?limit={min(limit, per_pod)}{listed.query}"
    samples: dict[str, dict[int, list[float]]] = {
        kind: {}
        for kind in ("atoll", "direct", "atoll-api cpu", "atoll stub cpu", "direct stub cpu", "atoll pod calls")
    }
    stub = psutil.Process(stub_pid)
    apis = {n: psutil.Process(atoll.procs[0].pid) for n, atoll in atolls.items()}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, headers={"X-Auth-Token": demo}) as http:
        works: dict[int, dict[str, Callable[[], Awaitable[None]]]] = {}
        for n, atoll in atolls.items():
            url = f"{atoll.url}{listed.atoll_path}?limit={limit}{listed.query}"
            urls = [base + pod_query for base in bases[:n]]
            works[n] = {
                "atoll": functools.partial(atoll_list, http, url, listed.name, listed.through_atoll(limit, n)),
                "direct": functools.partial(direct_lists, http, urls, listed.name, listed.from_each(limit, n)),
            }
        for round_ in range(rounds + 1):  # the first round warms up: tokens validated, connections open
            for n, work in works.items():
                for kind, call in work.items():
                    requests_before = await asyncio.to_thread(pod_requests, info) if kind == "atoll" else 0
                    stub_before, api_before = cpu(stub), cpu(apis[n])
                    start = time.perf_counter()
                    await call()
                    took = time.perf_counter() - start
                    # Read before the control API is asked for the request count (its answer costs the stubs).
                    stub_spent, api_spent = cpu(stub) - stub_before, cpu(apis[n]) - api_before
                    if round_ and kind == "atoll":
                        calls = await asyncio.to_thread(pod_requests, info) - requests_before
                        samples["atoll pod calls"].setdefault(n, []).append(calls)
                    if round_:
                        samples[kind].setdefault(n, []).append(took)
                        samples[f"{kind} stub cpu"].setdefault(n, []).append(stub_spent)
                        if kind == "atoll":
                            samples["atoll-api cpu"].setdefault(n, []).append(api_spent)
            print(f"  round {round_ or 'warm-up'} done", flush=True)
    return samples


def report(samples: dict[str, dict[int, list[float]]], args: argparse.Namespace) -> None:
    counts = sorted(samples["atoll"])
    medians = {kind: {n: statistics.median(s) for n, s in by_n.items()} for kind, by_n in samples.items()}
    what = (
        f"GET /image/v2/images?limit={args.limit}: {args.images_per_pod} images per pod and one in every pod"
        if args.images
        else f"GET /servers/detail?limit={args.limit}: {args.servers_per_pod} servers per pod"
    )
    if args.one_holder:
        what += ", filtered to the first pod's (the others list nothing)"
    print(f"\n{what}, pods answering after {args.latency_ms:g} ms; median of {args.rounds} rounds, interleaved")
    print(f"  {'':<28}" + "".join(f"{str(n) + ' pods':>12}" for n in counts))
    for kind in ("atoll", "direct"):
        print(f"  {kind + ' (ms)':<28}" + "".join(f"{medians[kind][n] * 1000:>12.1f}" for n in counts))
    for kind in ("atoll", "direct"):
        base = medians[kind][counts[0]]
        print(f"  {kind + ' N pods / 1 pod':<28}" + "".join(f"{medians[kind][n] / base:>11.2f}x" for n in counts))
    print(
        f"  {'atoll / direct':<28}" + "".join(f"{medians['atoll'][n] / medians['direct'][n]:>11.2f}x" for n in counts)
    )
    # CPU seconds per list (mean: the process clocks tick in 10 ms steps, too coarse for a median).
    means = {kind: {n: statistics.fmean(s) for n, s in by_n.items()} for kind, by_n in samples.items()}
    for kind, label in (
        ("atoll-api cpu", "atoll-api CPU (ms)"),
        ("atoll stub cpu", "stub pods CPU, atoll (ms)"),
        ("direct stub cpu", "stub pods CPU, direct (ms)"),
    ):
        print(f"  {label:<28}" + "".join(f"{means[kind][n] * 1000:>12.1f}" for n in counts))
    label = "pod requests per atoll list"
    print(f"  {label:<28}" + "".join(f"{means['atoll pod calls'][n]:>12.1f}" for n in counts))
    top = counts[-1]
    ratio = medians["atoll"][top] / medians["atoll"][counts[0]]
    verdict = "met" if ratio < 1.2 else "NOT met"
    print(f"target: a list across {top} pods under 1.2x one pod's: {ratio:.2f}x, {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pods", default="1,2,10,100", help="pod counts, comma separated")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--latency-ms", type=float, default=20.0, help="each pod's delay before answering")
    parser.add_argument("--servers-per-pod", type=int, default=20)
    parser.add_argument("--limit", type=int, default=20, help="the page size asked of Atoll")
    parser.add_argument("--images", action="store_true", help="list Glance's images instead of servers")
    parser.add_argument("--images-per-pod", type=int, default=20)
    parser.add_argument(
        "--one-holder",
        action="store_true",
        help="list only the first pod's servers (a name filter the others match nothing of): a project in one pod",
    )
    args = parser.parse_args()
    counts = sorted({int(n) for n in args.pods.split(",")})
    stub_args = ["--pods", str(counts[-1]), "--latency-ms", f"{args.latency_ms:g}"]
    if args.images:
        stub_args += ["--images-per-pod", str(args.images_per_pod)]
        listed = Listed("images", "/image/v2/images", "image", "/v2/images", args.images_per_pod + 1, shared=1)
    else:
        stub_args += ["--servers-per-pod", str(args.servers_per_pod)]
        listed = Listed("servers", "/compute/v2.1/servers/detail", "compute", "/servers/detail", args.servers_per_pod)
    if args.one_holder:
        # Stub servers are named vm-NNNN-<pod>: a name filter (Nova's is a regex) matching the first pod's only.
        listed = dataclasses.replace(listed, holders=1, query="&name=-pod1%24")
    with tempfile.TemporaryDirectory() as tmp, StubProcess(stub_args) as stubs, contextlib.ExitStack() as stack:
        info = stubs.info
        atolls = {}
        for n in counts:
            print(f"starting atoll-api with {n} pods ...", flush=True)
            subset = {**info, "pod_regions": info["pod_regions"][:n]}
            atoll = stack.enter_context(AtollOnStubs(pathlib.Path(tmp) / f"atoll-{n}", subset, engine=QUIET_ENGINE))
            atoll.register_pods()
            atoll.wait_pods("up", seconds=300)
            atolls[n] = atoll
        samples = uvloop.run(measure(info, atolls, args.rounds, args.limit, listed, stubs.pid))
    report(samples, args)


if __name__ == "__main__":
    main()
