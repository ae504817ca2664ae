from __future__ import annotations

from oslo_config import cfg

from atoll.conf import group

GROUP = cfg.OptGroup(
    "sync",
    title="Resource sync",
    help="Sync policies (/v1.0/sync-policies): how often atoll-engine checks that the pods hold what "
    "each policy asks for, and repairs what drifted.",
)

OPTS = [
    cfg.FloatOpt(
        "policy_interval",
        default=60.0,
        min=0.1,
        help="Seconds between two checks of one sync policy in every pod of its target. A policy "
        "that is created or changed is checked at once.",
    ),
    cfg.FloatOpt(
        "policy_scan_interval",
        default=2.0,
        min=0.05,
        help="Seconds between two looks, by the leading engine, for sync policies due for a check.",
    ),
    cfg.IntOpt("policy_concurrency", default=8, min=1, help="Sync policies one engine checks at the same time."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    group.register(conf, GROUP, OPTS)
