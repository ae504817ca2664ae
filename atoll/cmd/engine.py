"""atoll-engine: runs the job worker, and the periodic tasks (endpoint discovery, pod health) on the elected engine.

It loads no web framework: the engine is a sibling of the API, not a part of it.
"""

from __future__ import annotations

import asyncio
import signal

from oslo_config import cfg

from atoll.cmd.common import ensure_state_path, parse_config
from atoll.core import heap
from atoll.core.clock import SystemClock
from atoll.db.engine import create_engine, session_factory
from atoll.engine.lifecycle import Lifecycle
from atoll.engine.service import add_workers, build_directory
from atoll.openstack.http import probe_client


async def run(conf: cfg.ConfigOpts, stop: asyncio.Event) -> None:
    """Run the engine until `stop` is set; every resource is closed however it ends."""
    lifecycle = Lifecycle()
    engine = create_engine(conf.database.connection, pool_size=conf.database.max_pool_size)
    lifecycle.on_close(engine.dispose)
    client = probe_client(conf.engine.probe_timeout, conf.engine.probe_connections)
    lifecycle.on_close(client.aclose)
    try:
        clock = SystemClock()
        sessions = session_factory(engine)
        add_workers(lifecycle, conf, build_directory(conf, sessions, client, clock), sessions, clock)
        heap.freeze()
    except BaseException:
        await lifecycle.stop()
        raise
    await lifecycle.run(stop)


async def _main(conf: cfg.ConfigOpts) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await run(conf, stop)


def main(argv: list[str] | None = None) -> None:
    conf = parse_config(argv)
    ensure_state_path(conf)
    asyncio.run(_main(conf))
