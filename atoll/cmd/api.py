"""atoll-api: serves the admin API and the OpenStack API gateway with uvicorn (uvloop, httptools)."""

from __future__ import annotations

import json
import os

import uvicorn
from starlette.types import ASGIApp

from atoll.cmd.common import ensure_state_path, parse_config
from atoll.core import heap

ARGS_ENV = "ATOLL_API_ARGS"


def app_factory() -> ASGIApp:
    """Used by uvicorn workers: each parses the command line it was given through the environment."""
    from atoll.runtime import build_api

    conf = parse_config(json.loads(os.environ.get(ARGS_ENV, "[]")))
    app = build_api(conf)
    heap.freeze()
    return app


def main(argv: list[str] | None = None) -> None:
    import sys

    args = sys.argv[1:] if argv is None else argv
    conf = parse_config(args)
    ensure_state_path(conf)
    os.environ[ARGS_ENV] = json.dumps(args)
    uvicorn.run(
        "atoll.cmd.api:app_factory",
        factory=True,
        host=conf.api.host,
        port=conf.api.port,
        workers=conf.api.workers,
        log_config=None,
        access_log=False,
        server_header=False,
        loop="uvloop",
        http="httptools",
    )
