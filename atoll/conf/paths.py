from __future__ import annotations

from oslo_config import cfg

OPTS = [
    cfg.StrOpt(
        "state_path",
        default="/var/lib/atoll",
        help="Directory where Atoll keeps its state: the SQLite database, coordination files.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS)
