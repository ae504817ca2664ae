"""A job worker process for the functional tests: the worker half of atoll-engine
(`build_worker` from a config file) running job types declared by the tests.

    python -m tests.functional.jobs_worker CONFIG_FILE READY_FILE

Types: `effect` records one side effect and succeeds; `steps` does
`resource["steps"]` steps, recording and checkpointing each, and on its first
attempt stops after step `resource["stall_after"]` (writes READY_FILE + ".stalled")
so that the test can kill -9 it there.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import signal
import sys

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.conf import new_config
from atoll.core.clock import SystemClock
from atoll.db.engine import create_engine, session_factory
from atoll.engine.service import build_worker
from atoll.jobs.declarations import JobRun, JobType, JobTypes
from atoll.jobs.outcomes import Done, Outcome

EFFECTS = sa.table("job_effects", sa.column("job_id"), sa.column("step"), sa.column("owner"))


def types(sessions: async_sessionmaker[AsyncSession], owner: str, ready: pathlib.Path) -> JobTypes:
    async def record(job_id: str, step: int) -> None:
        async with sessions.begin() as session:
            await session.execute(sa.insert(EFFECTS).values(job_id=job_id, step=step, owner=owner))

    async def effect(run: JobRun) -> Outcome:
        await record(run.id, 0)
        await asyncio.sleep(0.005)
        return Done()

    async def steps(run: JobRun) -> Outcome:
        for step in range(int(run.progress.get("done", 0)), int(run.resource["steps"])):
            await record(run.id, step)
            await run.checkpoint({"done": step + 1})
            if run.attempt == 1 and step == int(run.resource["stall_after"]):
                await asyncio.to_thread(pathlib.Path(str(ready) + ".stalled").write_text, run.id)
                await asyncio.Event().wait()  # killed here
        return Done()

    return JobTypes([JobType("effect", ("n",), effect), JobType("steps", ("steps", "stall_after"), steps)])


async def main(config_file: str, ready_file: str) -> None:
    conf = new_config(["--config-file", config_file])
    engine = create_engine(conf.database.connection)
    sessions = session_factory(engine)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    ready = pathlib.Path(ready_file)
    owner = f"pid-{os.getpid()}"
    worker = build_worker(conf, sessions, types(sessions, owner, ready), SystemClock())
    await asyncio.to_thread(ready.write_text, owner)
    await worker.run_forever(stop)
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
