from __future__ import annotations

from oslo_config import cfg

from atoll.conf import group

GROUP = cfg.OptGroup("engine", title="Engine", help="Options of atoll-engine: periodic tasks and jobs.")

OPTS = [
    cfg.FloatOpt(
        "health_interval",
        default=30.0,
        min=1.0,
        help="Seconds between two health probes of every pod.",
    ),
    cfg.FloatOpt(
        "discovery_interval",
        default=300.0,
        min=1.0,
        help="Seconds between two refreshes of the pods' endpoints from the Keystone catalog.",
    ),
    cfg.FloatOpt(
        "probe_timeout",
        default=5.0,
        min=0.1,
        help="Seconds a pod's service has to answer the health probe before it counts as down.",
    ),
    cfg.StrOpt(
        "coordination_url",
        default="file://$state_path/coordination",
        help="tooz backend URL used to elect the one engine that runs periodic tasks "
        "(file://, redis://, etcd3+http://, postgresql://, mysql://).",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    group.register(conf, GROUP, OPTS)
