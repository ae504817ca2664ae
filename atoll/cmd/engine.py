"""atoll-engine: runs the periodic tasks (endpoint discovery, pod health) on the elected engine."""

from __future__ import annotations

import asyncio
import signal

from oslo_config import cfg

from atoll.api.app import default_http_client
from atoll.cmd.common import ensure_state_path, parse_config
from atoll.core.clock import SystemClock
from atoll.db.engine import create_engine, session_factory
from atoll.engine.service import build_directory, build_runner


async def run(conf: cfg.ConfigOpts) -> None:
    engine = create_engine(conf.database.connection, pool_size=conf.database.max_pool_size)
    clock = SystemClock()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with default_http_client(conf.engine.probe_timeout) as client:
        directory = build_directory(conf, session_factory(engine), client, clock)
        await build_runner(conf, directory, clock).run_forever(stop)
    await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    conf = parse_config(argv)
    ensure_state_path(conf)
    asyncio.run(run(conf))
