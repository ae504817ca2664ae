"""How fast does Atoll's sync copy a flavor to many pods, and an image from pod to pod?

flavor   One stub cloud (`python -m stubpods serve`) of 1 + max(--targets) pods, each answering
         after --latency-ms, and a real atoll-api + atoll-engine on it (every pod registered;
         `[jobs] concurrency` and `poll_interval` from --concurrency and --poll-interval; the
         database a fresh SQLite file, or with --database one on the machine's PostgreSQL/MariaDB).
         Round by round, interleaved, for each target count N (10 and 100), a new flavor with
         two extra specs is made in Pod1 and copied to Pod2..PodN+1 by:

           atoll        `POST /v1.0/{project}/os-sync` (one parent job, N `sync_flavor`
                        children run by the engine's job worker with atoll/sync/flavor.py),
                        timed until the parent job (`GET /v1.0/jobs/{id}`, read every
                        --status-poll s) is SUCCESS; "atoll POST" is the POST alone
           sequential   what a script does without Atoll: one pod after another, create the
                        flavor and set its extra specs (2 calls a pod, one aiohttp session)
           concurrent   the same 2 calls to every pod at once: the floor of N pods' latency

         Target: 100 pods in under 1 s through Atoll.

image    A 2-pod-plus stub cloud with no latency; a --image-mib image (random data) made in Pod1.
         Each copy runs in a process of its own, whose peak RSS (getrusage) is reported:

           atoll        atoll/sync/image.py's handler (what the engine's worker runs for a
                        `sync_image` job) copying the image, same id, to a pod without it:
                        Glance to Glance chunk by chunk, hashed on the way, checked after
           whole        the plain way: download the whole image, then upload it (new id)
           idle         the same process, imports done, copying nothing (the RSS floor)

Prints medians of --rounds rounds and the ratios. Not a test.

    .venv/bin/python bench/sync.py [--targets 10,100] [--rounds 3] [--latency-ms 10]
        [--concurrency 64] [--poll-interval 0.25] [--database sqlite|postgresql|mysql]
        [--image-mib 100] [--only flavor|image]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pathlib
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import aiohttp

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tools")]

from stubpods import StubProcess  # noqa: E402
from stubpods.atoll import AtollOnStubs, token  # noqa: E402
from stubpods.identity import ADMIN, DEMO  # noqa: E402

COMPUTE = {"X-OpenStack-Nova-API-Version": "2.55", "OpenStack-API-Version": "compute 2.55"}
QUIET_ENGINE = {"health_interval": 3600.0, "discovery_interval": 3600.0, "probe_timeout": 10.0}
"""No periodic probes of 101 pods during the measurement: the API probes each pod it registers."""
EXTRA_SPECS = {"hw:cpu_policy": "shared", "quota:disk_read_bytes_sec": "10240000"}


# --- flavors ----------------------------------------------------------------------------------


def flavor_body(flavor_id: str) -> dict[str, Any]:
    name = f"bench-{flavor_id[:8]}"
    return {"flavor": {"id": flavor_id, "name": name, "ram": 512, "vcpus": 1, "disk": 1, "description": None}}


async def expect(response: aiohttp.ClientResponse, *ok: int) -> Any:
    async with response:
        body = await response.read()
        assert response.status in ok, (response.status, body[:300])
        return json.loads(body) if body else None


async def make_flavor(http: aiohttp.ClientSession, compute: str) -> str:
    flavor_id = str(uuid.uuid4())
    await expect(await http.post(f"{compute}/flavors", json=flavor_body(flavor_id), headers=COMPUTE), 200)
    specs = {"extra_specs": EXTRA_SPECS}
    await expect(await http.post(f"{compute}/flavors/{flavor_id}/os-extra_specs", json=specs, headers=COMPUTE), 200)
    return flavor_id


async def copy_flavor(http: aiohttp.ClientSession, compute: str, flavor_id: str) -> None:
    await expect(await http.post(f"{compute}/flavors", json=flavor_body(flavor_id), headers=COMPUTE), 200)
    specs = {"extra_specs": EXTRA_SPECS}
    await expect(await http.post(f"{compute}/flavors/{flavor_id}/os-extra_specs", json=specs, headers=COMPUTE), 200)


async def atoll_sync(http: aiohttp.ClientSession, atoll: str, flavor_id: str, targets: list[str], poll: float) -> float:
    """Seconds the POST took (the jobs written); returns once the parent job is SUCCESS."""
    body = {"resource_set": {"resource_type": "flavor", "resources": [flavor_id], "source": "Pod1", "target": targets}}
    base = f"{atoll}/v1.0/{ADMIN.id}/os-sync"
    start = time.perf_counter()
    job_id = (await expect(await http.post(base, json=body), 200))["job_status"]["id"]
    posted = time.perf_counter() - start
    status = "NEW"
    while status not in ("SUCCESS", "FAIL"):  # the parent job: SUCCESS once every target is
        await asyncio.sleep(poll)
        status = (await expect(await http.get(f"{atoll}/v1.0/jobs/{job_id}"), 200))["job"]["status"]
    assert status == "SUCCESS", await expect(await http.get(f"{base}/{job_id}"), 200)
    return posted


async def flavor_rounds(
    info: dict[str, Any], atoll: str, counts: list[int], rounds: int, poll: float
) -> dict[tuple[str, int], list[float]]:
    admin = token(info["auth_url"], info["credentials"]["admin"])
    compute = {name: pod["endpoints"]["compute"] for name, pod in info["pods"].items()}
    samples: dict[tuple[str, int], list[float]] = {}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, headers={"X-Auth-Token": admin}) as http:

        async def sequential(flavor_id: str, targets: list[str]) -> None:
            for target in targets:
                await copy_flavor(http, compute[target], flavor_id)

        async def concurrent(flavor_id: str, targets: list[str]) -> None:
            await asyncio.gather(*(copy_flavor(http, compute[t], flavor_id) for t in targets))

        async def through_atoll(flavor_id: str, targets: list[str]) -> None:
            posted[0] = await atoll_sync(http, atoll, flavor_id, targets, poll)

        posted = [0.0]

        ways = {"atoll": through_atoll, "sequential": sequential, "concurrent": concurrent}
        for round_ in range(rounds + 1):  # round 0 warms up: tokens validated, connections open
            for n in counts:
                targets = [f"Pod{i}" for i in range(2, n + 2)]
                for way, copy in ways.items():
                    flavor_id = await make_flavor(http, compute["Pod1"])
                    start = time.perf_counter()
                    await copy(flavor_id, targets)
                    if round_:
                        samples.setdefault((way, n), []).append(time.perf_counter() - start)
                        if way == "atoll":
                            samples.setdefault(("atoll POST", n), []).append(posted[0])
            print(f"  flavor round {round_ or 'warm-up'} done", flush=True)
    return samples


@contextlib.contextmanager
def database(kind: str, workdir: pathlib.Path) -> Iterator[str]:
    """A fresh SQLite file, or a throw-away database on the machine's PostgreSQL or MariaDB."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir}/atoll-sync.sqlite"
        return
    from tests.conftest import SERVER_URLS, _admin

    server = SERVER_URLS[kind]
    name = f"atoll_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(server, f"CREATE DATABASE {name}"))
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(_admin(server, f"DROP DATABASE IF EXISTS {name}"))


def flavor_bench(args: argparse.Namespace, counts: list[int], workdir: pathlib.Path) -> None:
    stub_args = ["--pods", str(max(counts) + 1), "--latency-ms", f"{args.latency_ms:g}"]
    with StubProcess(stub_args) as stubs, contextlib.ExitStack() as stack:
        url = stack.enter_context(database(args.database, workdir))
        atoll = AtollOnStubs(workdir / "atoll", stubs.info, engine=QUIET_ENGINE)
        jobs = f"[jobs]\nconcurrency = {args.concurrency}\npoll_interval = {args.poll_interval:g}\n"
        conf = re.sub(r"(?m)^connection = .*$", f"connection = {url}", atoll.conf.read_text())
        atoll.conf.write_text(conf + jobs)
        stack.enter_context(atoll)
        print(f"registering {max(counts) + 1} pods ...", flush=True)
        atoll.register_pods()
        atoll.wait_pods("up", seconds=300)
        samples = asyncio.run(flavor_rounds(stubs.info, atoll.url, counts, args.rounds, args.status_poll))
    medians = {key: statistics.median(values) for key, values in samples.items()}
    print(
        f"\none flavor (+2 extra specs) from Pod1 to N pods answering after {args.latency_ms:g} ms; "
        f"{args.database}, [jobs] concurrency {args.concurrency}, poll_interval {args.poll_interval:g} s; "
        f"median of {args.rounds} rounds, interleaved"
    )
    print(f"  {'':<22}" + "".join(f"{str(n) + ' pods':>12}" for n in counts))
    for way in ("atoll", "atoll POST", "sequential", "concurrent"):
        print(f"  {way + ' (s)':<22}" + "".join(f"{medians[(way, n)]:>12.3f}" for n in counts))
    for way in ("sequential", "concurrent"):
        label = f"atoll / {way}"
        print(f"  {label:<22}" + "".join(f"{medians[('atoll', n)] / medians[(way, n)]:>11.2f}x" for n in counts))
    top = max(counts)
    spent = medians[("atoll", top)]
    print(f"target: {top} pods through Atoll in under 1 s: {spent:.3f} s, {'met' if spent < 1 else 'NOT met'}")


# --- images -----------------------------------------------------------------------------------


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def atoll_copy(info: dict[str, Any], image_id: str, target: str) -> None:
    """What the engine's worker does for one `sync_image` job: atoll/sync/image.py's handler."""
    from atoll.jobs.outcomes import Done
    from atoll.pods.client import PodLimits
    from atoll.pods.info import PodInfo
    from atoll.pods.pool import PodClients
    from atoll.pods.registry import PodSnapshot
    from atoll.sync import image
    from atoll.sync.calls import PodCalls
    from atoll.sync.task import SyncTask
    from atoll.types import PodId, PodStatus, RegionName

    pods = tuple(
        PodInfo(PodId(name), RegionName(name), "az1", "", False, pod["endpoints"], PodStatus.UP)
        for name, pod in info["pods"].items()
    )
    snapshot = PodSnapshot(pods)

    class Snapshots:
        async def snapshot(self) -> PodSnapshot:
            return snapshot

    service = token(info["auth_url"], info["credentials"]["atoll"])

    async def service_token(*_: Any) -> str:
        return service

    async def checkpoint(progress: Mapping[str, Any]) -> None:
        return None

    clients = PodClients(PodLimits())
    calls = PodCalls(Snapshots(), clients, service_token)
    task = SyncTask("image", image_id, "Pod1", target, False, DEMO.id, "", {}, checkpoint)
    try:
        outcome = await image.sync(calls, task)
    finally:
        await clients.close()
    assert isinstance(outcome, Done), outcome


async def whole_copy(info: dict[str, Any], image_id: str, target: str) -> None:
    """Download the whole image into memory, then upload it (under a new id)."""
    demo = token(info["auth_url"], info["credentials"]["demo"])
    source, into = info["pods"]["Pod1"]["endpoints"]["image"], info["pods"][target]["endpoints"]["image"]
    async with aiohttp.ClientSession(headers={"X-Auth-Token": demo}) as http:
        async with http.get(f"{source}/v2/images/{image_id}/file") as response:
            assert response.status == 200, response.status
            data = await response.read()
        body = {"name": "bench-whole", "disk_format": "raw", "container_format": "bare"}
        made = await expect(await http.post(f"{into}/v2/images", json=body), 201)
        headers = {"Content-Type": "application/octet-stream"}
        await expect(await http.put(f"{into}/v2/images/{made['id']}/file", data=data, headers=headers), 204)


def copy_process(args: argparse.Namespace) -> None:
    """`--copy WAY`: one copy in this process; prints seconds and peak RSS as JSON."""
    info = json.loads(pathlib.Path(args.info).read_text())
    import atoll.sync.image  # noqa: F401 - the same imports whichever way, so the RSS floors agree

    start = time.perf_counter()
    if args.copy == "atoll":
        asyncio.run(atoll_copy(info, args.image, args.target))
    elif args.copy == "whole":
        asyncio.run(whole_copy(info, args.image, args.target))
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_rss_mib": peak_rss_mib()}))


async def random_chunks(mib: int) -> AsyncIterator[bytes]:
    for _ in range(mib):
        yield os.urandom(1 << 20)


async def make_image(info: dict[str, Any], mib: int) -> str:
    demo = token(info["auth_url"], info["credentials"]["demo"])
    glance = info["pods"]["Pod1"]["endpoints"]["image"]
    body = {"name": "bench-image", "disk_format": "raw", "container_format": "bare"}
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(headers={"X-Auth-Token": demo}, timeout=timeout) as http:
        made = await expect(await http.post(f"{glance}/v2/images", json=body), 201)
        headers = {"Content-Type": "application/octet-stream"}
        url = f"{glance}/v2/images/{made['id']}/file"
        await expect(await http.put(url, data=random_chunks(mib), headers=headers), 204)
        image_id: str = made["id"]
        return image_id


def run_copy(info_file: pathlib.Path, way: str, image_id: str, target: str) -> dict[str, float]:
    command = [sys.executable, __file__, "--copy", way, "--info", str(info_file), "--image", image_id]
    done = subprocess.run([*command, "--target", target], check=False, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"the {way} copy failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def image_bench(args: argparse.Namespace, workdir: pathlib.Path) -> None:
    # Glance never takes data under an existing id: each of Atoll's copies goes to a pod of its own.
    with StubProcess(["--pods", str(args.rounds + 2)]) as stubs:
        info_file = workdir / "stubs.json"
        info_file.write_text(json.dumps(stubs.info))
        print(f"uploading a {args.image_mib} MiB image to Pod1 ...", flush=True)
        image_id = asyncio.run(make_image(stubs.info, args.image_mib))
        results: dict[str, list[dict[str, float]]] = {"atoll": [], "whole": [], "idle": []}
        for round_ in range(args.rounds + 1):  # round 0 warms up (page cache, the stub's first answers)
            target = f"Pod{round_ + 2}"
            for way, kept in results.items():
                result = run_copy(info_file, way, image_id, target)
                if round_:
                    kept.append(result)
            print(f"  image round {round_ or 'warm-up'} done", flush=True)
    size = args.image_mib
    seconds = {way: statistics.median(r["seconds"] for r in rs) for way, rs in results.items()}
    rss = {way: statistics.median(r["peak_rss_mib"] for r in rs) for way, rs in results.items()}
    print(f"\none {size} MiB image, Pod1 -> another pod (stub Glance, no latency); median of {args.rounds} rounds")
    print(f"  {'':<10}{'seconds':>10}{'MiB/s':>10}{'peak RSS MiB':>14}{'over idle':>11}")
    for way in ("atoll", "whole"):
        print(
            f"  {way:<10}{seconds[way]:>10.2f}{size / seconds[way]:>10.1f}{rss[way]:>14.1f}"
            f"{rss[way] - rss['idle']:>11.1f}"
        )
    print(f"  {'idle':<10}{'':>10}{'':>10}{rss['idle']:>14.1f}")
    print(
        f"  atoll / whole: time {seconds['atoll'] / seconds['whole']:.2f}x, "
        f"memory over idle {(rss['atoll'] - rss['idle']) / max(rss['whole'] - rss['idle'], 0.1):.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--targets", default="10,100", help="target pod counts of the flavor sync")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=10.0, help="each stub pod's delay (flavor part)")
    parser.add_argument(
        "--concurrency", type=int, default=64, help="atoll-engine's [jobs] concurrency (default: the shipped one)"
    )
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=0.25,
        help="atoll-engine's [jobs] poll_interval (default: the shipped one)",
    )
    parser.add_argument("--status-poll", type=float, default=0.02, help="seconds between two reads of the job")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "mysql"), default="sqlite")
    parser.add_argument("--image-mib", type=int, default=100)
    parser.add_argument("--only", choices=("flavor", "image"))
    parser.add_argument("--copy", choices=("atoll", "whole", "idle"), help=argparse.SUPPRESS)
    parser.add_argument("--info", help=argparse.SUPPRESS)
    parser.add_argument("--image", help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.copy:
        copy_process(args)
        return
    counts = sorted({int(n) for n in args.targets.split(",")})
    with tempfile.TemporaryDirectory() as tmp:
        if args.only in (None, "flavor"):
            flavor_bench(args, counts, pathlib.Path(tmp))
        if args.only in (None, "image"):
            image_bench(args, pathlib.Path(tmp))


if __name__ == "__main__":
    main()
