from __future__ import annotations

from oslo_config import cfg

from atoll.conf import group

GROUP = cfg.OptGroup("database", title="Database", help="Where Atoll keeps pods, bindings, routings and jobs.")

OPTS = [
    cfg.StrOpt(
        "connection",
        default="sqlite:///$state_path/atoll.sqlite",
        secret=True,
        help="SQLAlchemy URL of Atoll's database: sqlite:///PATH, "
        "postgresql://USER@HOST/DB or mysql+pymysql://USER:PASSWORD@HOST/DB. "
        "The matching asyncio driver (aiosqlite, asyncpg, aiomysql) is chosen automatically.",
    ),
    cfg.IntOpt("max_pool_size", default=10, min=1, help="Connections kept open per process (not SQLite)."),
    cfg.BoolOpt("connection_debug", default=False, help="Log every SQL statement (never in production)."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    group.register(conf, GROUP, OPTS)
