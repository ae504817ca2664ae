"""How many jobs per second do one and two worker processes complete on PostgreSQL?

Starts real worker processes (`tests.functional.jobs_worker`: the worker half of
atoll-engine built from a config file) against a fresh PostgreSQL database,
enqueues a batch of trivial jobs (each records one row and succeeds) while the
workers are idle, and times until every job is SUCCESS; one worker, then two,
alternating round by round. Prints jobs/s for each and the ratio of the medians.
Not a test: it asserts nothing.

    .venv/bin/python bench/jobs_throughput.py [--jobs 500] [--rounds 3] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import statistics
import sys
import tempfile
import time
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from atoll.db import migration  # noqa: E402
from atoll.db.engine import create_engine, session_factory  # noqa: E402
from atoll.db.models import Job  # noqa: E402
from atoll.jobs.enqueue import NewJob, enqueue  # noqa: E402
from tests.conftest import SERVER_URLS, _admin  # noqa: E402
from tests.functional.test_jobs_workers import EFFECT, Workers, sql  # noqa: E402


async def _enqueue_and_wait(url: str, jobs: int) -> float:
    """Seconds from the commit of `jobs` jobs until all are SUCCESS (one connection polls, lightly)."""
    engine = create_engine(url)
    try:
        async with session_factory(engine).begin() as session:
            for i in range(jobs):
                await enqueue(session, NewJob(EFFECT, "bench", {"n": i}))
        start = time.perf_counter()
        async with engine.connect() as conn:
            query = sa.select(sa.func.count()).select_from(Job).where(Job.status == "SUCCESS")
            while (await conn.scalar(query)) != jobs:
                await conn.rollback()
                await asyncio.sleep(0.05)
        return time.perf_counter() - start
    finally:
        await engine.dispose()


def one_round(url: str, tmp: pathlib.Path, workers: int, jobs: int, concurrency: int) -> float:
    tmp.mkdir(parents=True)
    group = Workers(url, tmp, lease_time=30)
    text = group.config.read_text().replace("concurrency = 4", f"concurrency = {concurrency}")
    group.config.write_text(text)
    try:
        for _ in range(workers):
            group.start()
        elapsed = asyncio.run(_enqueue_and_wait(url, jobs))
    finally:
        group.stop()
    sql(url, "DELETE FROM jobs", "DELETE FROM job_effects")
    return jobs / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    server = SERVER_URLS["postgresql"]
    name = f"atoll_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(server, f"CREATE DATABASE {name}"))
    url = server.rsplit("/", 1)[0] + f"/{name}"
    try:
        migration.upgrade(url)
        sql(url, "CREATE TABLE job_effects (job_id VARCHAR(36) NOT NULL, step INTEGER NOT NULL, owner VARCHAR(64))")
        rates: dict[int, list[float]] = {1: [], 2: []}
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(args.rounds):
                for workers in (1, 2):
                    rate = one_round(url, pathlib.Path(tmp, f"{r}-{workers}"), workers, args.jobs, args.concurrency)
                    rates[workers].append(rate)
                    print(f"round {r + 1}: {workers} worker(s): {rate:7.1f} jobs/s", flush=True)
    finally:
        asyncio.run(_admin(server, f"DROP DATABASE IF EXISTS {name}"))
    one, two = statistics.median(rates[1]), statistics.median(rates[2])
    print(f"\n{args.jobs} jobs, concurrency {args.concurrency} per worker, medians of {args.rounds} rounds:")
    print(f"  1 worker : {one:7.1f} jobs/s")
    print(f"  2 workers: {two:7.1f} jobs/s   ({two / one:.2f}x)")


if __name__ == "__main__":
    main()
