from __future__ import annotations

from oslo_config import cfg

from atoll.conf import group

GROUP = cfg.OptGroup("api", title="API server", help="Options of atoll-api, the gateway and admin API.")

OPTS = [
    cfg.HostAddressOpt("host", default="127.0.0.1", help="Address atoll-api listens on."),
    cfg.PortOpt("port", default=19999, help="Port atoll-api listens on."),
    cfg.IntOpt("workers", default=1, min=1, help="Number of uvicorn worker processes."),
    cfg.BoolOpt(
        "run_engine",
        default=False,
        help="Run the engine's periodic tasks inside atoll-api (single-machine deployments).",
    ),
    cfg.IntOpt(
        "max_limit",
        default=1000,
        min=1,
        help="The largest page a list call returns; a larger `limit` is reduced to this.",
    ),
    cfg.FloatOpt(
        "policy_check_interval",
        default=5.0,
        min=0,
        help="Seconds between two looks at the policy files ([oslo_policy] policy_file and policy_dirs); "
        "a change takes effect at the next look, and requests never read the files. "
        "0 loads them once, at start.",
    ),
    cfg.StrOpt(
        "public_url",
        help="Base URL clients use to reach Atoll, for links in responses. Defaults to the URL of the request.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    group.register(conf, GROUP, OPTS)
