"""What every console script does first: parse configuration, set up logging."""

from __future__ import annotations

import os
import pathlib
import sys

from oslo_config import cfg
from oslo_log import log

from atoll.conf import CONF, register_opts


def parse_config(argv: list[str] | None = None) -> cfg.ConfigOpts:
    if "api" not in CONF:
        register_opts(CONF)
        log.register_options(CONF)
        # httpcore's debug trace prints every header, X-Auth-Token and X-Subject-Token
        # included: it stays at WARN even when an operator turns debug on.
        quiet = ["httpcore=WARN", "httpx=WARN", "alembic.runtime.plugins=WARN", "tooz=WARN", "asyncio=WARN"]
        log.set_defaults(default_log_levels=[*log.get_default_log_levels(), *quiet])
    args = sys.argv[1:] if argv is None else argv
    CONF(args, project="atoll")
    log.setup(CONF, "atoll")
    return CONF


def ensure_state_path(conf: cfg.ConfigOpts) -> None:
    """Create the state directory when the SQLite database or file coordination lives there."""
    path = pathlib.Path(conf.state_path)
    uses_it = conf.state_path in (conf.database.connection or "") or conf.state_path in conf.engine.coordination_url
    if uses_it and not path.exists():
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o700)
