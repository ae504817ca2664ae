"""Atoll's configuration: oslo.config options, one module per group.

`CONF` is the process-wide object the console scripts parse into; library
code takes a `cfg.ConfigOpts` argument instead of importing `CONF`, so tests
build their own.
"""

from __future__ import annotations

from oslo_config import cfg
from oslo_policy import opts as policy_opts

from atoll.conf import api, auth, database, engine, gateway, jobs, paths, sync

CONF = cfg.CONF


def register_opts(conf: cfg.ConfigOpts) -> None:
    paths.register_opts(conf)
    api.register_opts(conf)
    database.register_opts(conf)
    engine.register_opts(conf)
    auth.register_opts(conf)
    jobs.register_opts(conf)
    policy_opts.set_defaults(conf)  # [oslo_policy] exists before the first check, so it can be set
    gateway.register_opts(conf)
    sync.register_opts(conf)


def new_config(args: list[str] | None = None, default_config_files: list[str] | None = None) -> cfg.ConfigOpts:
    """A fresh, parsed `ConfigOpts` with every Atoll option registered."""
    conf = cfg.ConfigOpts()
    register_opts(conf)
    conf(args or [], project="atoll", default_config_files=default_config_files or [])
    return conf
