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
    cfg.IntOpt(
        "probe_connections",
        default=100,
        min=1,
        help="Connections the health probe opens at most at once. A round asks every service of every pod; "
        "requests beyond this wait for a connection, and that wait does not count against probe_timeout.",
    ),
    cfg.StrOpt(
        "coordination_url",
        default="file://$state_path/coordination",
        help="tooz backend URL used to elect the one engine that runs periodic tasks "
        "(file://, redis://, etcd3+http://, postgresql://, mysql://).",
    ),
    cfg.FloatOpt(
        "leader_check_interval",
        default=2.0,
        min=0.1,
        help="Seconds between two leadership checks: a follower tries to take the lock, the leader renews "
        "it and checks it still holds it (a leader that lost its lock stops the periodic tasks within this "
        "time). Keep it well under the backend's lock expiry (the lock_timeout of a redis:// URL, 30 s by "
        "default). After a coordination error the check is retried after a growing delay, up to 60 s.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    group.register(conf, GROUP, OPTS)
