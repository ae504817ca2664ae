"""What does a user see through Atoll? The same calls through RegionOne and straight to Pod1, on the test bed.

Real services (`scripts/testbed up --atoll`): the same token's GETs through Atoll's endpoints
(RegionOne) and through Pod1's own, interleaved call by call, as openstacksdk makes them.
Prints each call's median and p90 latency both ways and the difference, then the CPU per call
of atoll-api and of Pod1's and Pod2's APIs (read from /proc by the pids the test bed keeps).
Makes a network, a subnet and two servers on it in az1 first (`--keep` leaves them). Not a test.

    ATOLL_TESTBED_DIR=... .venv/bin/python bench/testbed_calls.py [--calls 20] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import openstack

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.gateway_hop import cpu_seconds  # noqa: E402 -- after the project root is on the path

PREFIX = "bench-calls-"


def prepare(top: Any, state: dict[str, Any]) -> list[str]:
    """Two servers on a top network in az1 (made once, found again on later runs)."""
    network = top.network.find_network(PREFIX + "net") or top.network.create_network(name=PREFIX + "net")
    if not list(top.network.subnets(network_id=network.id)):
        top.network.create_subnet(network_id=network.id, cidr="10.78.0.0/24", ip_version=4, name=PREFIX + "subnet")
    servers = [s for s in top.compute.servers() if s.name.startswith(PREFIX)]
    for index in range(len(servers), 2):
        made = top.compute.create_server(
            name=f"{PREFIX}{index}",
            flavor_id=state["flavor"]["id"],
            image_id=state["image"]["id"],
            networks=[{"uuid": network.id}],
            availability_zone="az1",
        )
        servers.append(top.compute.wait_for_server(made, wait=300))
    return [s.id for s in servers]


def clean(top: Any) -> None:
    for server in [s for s in top.compute.servers() if s.name.startswith(PREFIX)]:
        top.compute.delete_server(server)
        top.compute.wait_for_delete(server, wait=300)
    network = top.network.find_network(PREFIX + "net")
    if network is not None:
        top.network.delete_network(network)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=20, help="calls of each kind each way")
    parser.add_argument("--keep", action="store_true", help="leave the servers and network made for the run")
    args = parser.parse_args()
    state_dir = pathlib.Path(os.environ["ATOLL_TESTBED_DIR"])
    state = json.loads((state_dir / "testbed.json").read_text())
    os.environ["OS_CLIENT_CONFIG_FILE"] = state["clouds_yaml"]
    top = openstack.connect(cloud="testbed-demo", region_name="RegionOne")
    pod = openstack.connect(cloud="testbed-demo", region_name="Pod1")
    pids = {
        name: json.loads((state_dir / "pids" / f"{name}.json").read_text())["pid"]
        for name in ("atoll-api", "pod1-nova-api", "pod2-nova-api")
    }
    server_id = prepare(top, state)[0]
    calls: list[tuple[str, Callable[[Any], object]]] = [
        ("server show", lambda c: c.compute.get_server(server_id)),
        ("server list (detail)", lambda c: list(c.compute.servers(details=True))),
        ("server list (brief)", lambda c: list(c.compute.servers(details=False))),
        ("flavor list", lambda c: list(c.compute.flavors())),
        ("volume list", lambda c: list(c.block_storage.volumes())),
        ("volume type list", lambda c: list(c.block_storage.types())),
        ("image list", lambda c: list(c.image.images())),
        ("network list", lambda c: list(c.network.networks())),
    ]
    print(f"{args.calls} calls of each kind each way, interleaved; ms")
    print(f"{'call':24} {'Atoll p50':>9} {'Pod1 p50':>9} {'added':>7} {'Atoll p90':>9} {'Pod1 p90':>9}")
    for name, call in calls:
        samples: dict[str, list[float]] = {"atoll": [], "pod": []}
        for conn in (top, pod):  # warm: tokens, catalogs, connections
            call(conn)
        for _ in range(args.calls):
            for side, conn in (("atoll", top), ("pod", pod)):
                started = time.perf_counter()
                call(conn)
                samples[side].append((time.perf_counter() - started) * 1e3)
        p50 = {side: statistics.median(values) for side, values in samples.items()}
        p90 = {side: statistics.quantiles(values, n=10)[-1] for side, values in samples.items()}
        print(
            f"{name:24} {p50['atoll']:9.1f} {p50['pod']:9.1f} {p50['atoll'] - p50['pod']:+7.1f}"
            f" {p90['atoll']:9.1f} {p90['pod']:9.1f}"
        )
    print("\nCPU per `server list (detail)` call, ms (each way, the same calls):")
    for side, conn in (("Pod1 directly", pod), ("through Atoll", top)):
        before = {n: cpu_seconds(p) for n, p in pids.items()}
        for _ in range(args.calls):
            list(conn.compute.servers(details=True))
        spent = {n: (cpu_seconds(p) - before[n]) / args.calls * 1e3 for n, p in pids.items()}
        print(f"  {side:14} " + ", ".join(f"{n} {v:.1f}" for n, v in spent.items()))
    if not args.keep:
        clean(top)


if __name__ == "__main__":
    main()
