from __future__ import annotations

from oslo_config import cfg

from atoll.conf import group

GROUP = cfg.OptGroup(
    "jobs",
    title="Job workers",
    help="The job workers of atoll-engine (and of atoll-api with [api] run_engine): "
    "how many jobs run at once, how leases and retries work.",
)

OPTS = [
    cfg.IntOpt(
        "concurrency",
        default=64,
        min=1,
        help="Jobs one worker process runs at the same time. Jobs mostly wait on pods (a sync to "
        "100 pods is 100 jobs), so this is far above the number of cores; lower it to spare "
        "slow pods.",
    ),
    cfg.FloatOpt(
        "poll_interval",
        default=0.25,
        min=0.05,
        help="Seconds an idle worker waits before looking for due jobs again: at most this long "
        "between a request and the start of its jobs (one cheap query per interval and engine).",
    ),
    cfg.FloatOpt(
        "lease_time",
        default=30.0,
        min=1.0,
        help="Seconds a claimed job stays leased to its worker; the worker renews the lease "
        "every third of this time. A job whose worker died is taken over by another worker "
        "this long after its last renewal. The engines' clocks must agree to well within it.",
    ),
    cfg.IntOpt(
        "max_attempts",
        default=10,
        min=1,
        help="Attempts of a job before it ends FAIL (a job type may set its own).",
    ),
    cfg.FloatOpt(
        "retry_delay",
        default=2.0,
        min=0.0,
        help="Seconds before the second attempt of a failed job; each later wait doubles (with jitter).",
    ),
    cfg.FloatOpt("max_retry_delay", default=300.0, min=0.0, help="The longest wait between two attempts of a job."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    group.register(conf, GROUP, OPTS)
