"""Command line: `python -m stubpods serve ...` (tools on PYTHONPATH) and `capture`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pathlib
import signal
import sys

import uvloop

from stubpods.config import CloudConfig, Failure, VersionRange


def _pod_failures(values: list[str]) -> dict[str, Failure]:
    """`Pod3=down`, `Pod4=hang`, `Pod5=error:500@compute`."""
    failures = {}
    for value in values:
        name, _, spec = value.partition("=")
        failures[name] = Failure.parse(spec)
    return failures


def build_config(args: argparse.Namespace) -> CloudConfig:
    config = CloudConfig.uniform(
        args.pods,
        base_port=args.base_port,
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        servers=args.servers_per_pod,
        volumes=args.volumes_per_pod,
        images=args.images_per_pod,
        networks=args.networks_per_pod,
        compute_versions=VersionRange.parse(args.compute_versions),
        volume_versions=VersionRange.parse(args.volume_versions),
    )
    config.host = args.host
    config.seed = args.seed
    config.keystone_latency_ms = args.keystone_latency_ms
    for pod in config.pods:
        pod.failure = args.fail.get(pod.name)
        pod.az = args.pod_az
    return config


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="stubpods", description="Stub OpenStack pods for benchmarks and fast tests.")
    sub = root.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run a stub Keystone and N stub pods until killed")
    serve.add_argument("--pods", type=int, default=2, help="number of pods Pod1..PodN (default 2)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument(
        "--base-port",
        type=int,
        default=0,
        help="Keystone on this port and PodN on base+N (default: free ports chosen by the system)",
    )
    serve.add_argument("--latency-ms", type=float, default=0.0, help="delay before every pod answer")
    serve.add_argument("--jitter-ms", type=float, default=0.0, help="extra random delay in [0, jitter)")
    serve.add_argument("--keystone-latency-ms", type=float, default=0.0)
    serve.add_argument("--servers-per-pod", type=int, default=0, help="servers seeded per project (demo, alt_demo)")
    serve.add_argument("--volumes-per-pod", type=int, default=0)
    serve.add_argument("--images-per-pod", type=int, default=0)
    serve.add_argument("--networks-per-pod", type=int, default=0)
    serve.add_argument("--compute-versions", default="2.1-2.104", help="Nova microversion range, MIN-MAX")
    serve.add_argument("--volume-versions", default="3.0-3.71", help="Cinder microversion range, MIN-MAX")
    serve.add_argument("--pod-az", default="nova", help="availability zone each pod's Nova/Cinder reports")
    serve.add_argument("--seed", type=int, default=0)
    serve.add_argument(
        "--fail",
        action="append",
        default=[],
        metavar="POD=MODE",
        help="inject a failure: Pod3=down, Pod4=hang, Pod5=error:500, Pod6=error:503@compute (repeatable)",
    )
    serve.add_argument("--endpoints-file", help="also write the endpoints JSON here (atomically)")
    serve.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop when the process that started this one dies (StubProcess passes it, so no stub outlives its test)",
    )
    sub.add_parser("capture", help="record real services' answers from the test bed as fixtures", add_help=False)
    return root


async def _orphaned(parent: int) -> None:
    while os.getppid() == parent:  # noqa: ASYNC110 - a parent's death sets no event; it can only be polled
        await asyncio.sleep(1)


async def serve(config: CloudConfig, endpoints_file: str | None, exit_with_parent: bool = False) -> None:
    from stubpods.cloud import StubCloud

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with StubCloud(config) as cloud:
        doc = json.dumps({**cloud.describe(), "pid": os.getpid()})
        if endpoints_file:
            path = pathlib.Path(endpoints_file)
            tmp = path.with_suffix(path.suffix + ".tmp")
            tmp.write_text(doc + "\n")
            tmp.replace(path)
        print(doc, flush=True)
        waits: list[asyncio.Future[object]] = [asyncio.ensure_future(stop.wait())]
        if exit_with_parent:
            waits.append(asyncio.ensure_future(_orphaned(os.getppid())))
        _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    if args_list[:1] == ["capture"]:
        from stubpods import capture

        capture.main(args_list[1:])
        return 0
    args = parser().parse_args(args_list)
    args.fail = _pod_failures(args.fail)
    # uvloop, as atoll-api runs: a pod stands for a machine of its own, and the stub cloud's one process
    # serves all of them, so the less CPU each answer costs, the less the stubs, rather than what they
    # stand for, decide a many-pod benchmark (on asyncio's own loop each answer cost about twice as much).
    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(serve(build_config(args), args.endpoints_file, args.exit_with_parent))
    return 0
