from __future__ import annotations

from oslo_config import cfg

from atoll.conf import group

GROUP = cfg.OptGroup(
    "gateway",
    title="OpenStack API gateway",
    help="The OpenStack APIs atoll-api serves over all pods: /compute, /volume, /image, /network.",
)

OPTS = [
    cfg.URIOpt(
        "central_neutron_url",
        help="URL of the top region's own Neutron server (the central Neutron, e.g. "
        "http://127.0.0.1:9696), which Atoll's /network API serves from. The catalog's network "
        "endpoint of the top region is Atoll itself, so this is not read from the catalog.",
    ),
    cfg.FloatOpt(
        "pod_timeout",
        default=60.0,
        min=0.1,
        help="Seconds a pod has to answer one forwarded call before Atoll answers 503.",
    ),
    cfg.FloatOpt("pod_connect_timeout", default=5.0, min=0.1, help="Seconds to open a connection to a pod."),
    cfg.IntOpt(
        "pod_connections",
        default=100,
        min=1,
        help="Open connections from one atoll-api process to one pod at most; more calls wait.",
    ),
    cfg.FloatOpt(
        "list_timeout",
        default=10.0,
        min=0.1,
        help="Seconds each pod has to answer its part of a list fanned out to every pod; a pod that "
        "does not answer in time is left out and named in the Atoll-Partial-Pods header.",
    ),
    cfg.FloatOpt(
        "registry_ttl",
        default=5.0,
        min=0.0,
        help="Seconds a process serves its in-memory copy of the pods table before refreshing it in the "
        "background (pods changed through this process are seen at once).",
    ),
    cfg.FloatOpt(
        "capacity_cache_time",
        default=10.0,
        min=0.0,
        help="Seconds the free capacity read from a pod's Placement is reused when choosing a pod.",
    ),
    cfg.FloatOpt(
        "top_names_ttl",
        default=30.0,
        min=0.0,
        help="Seconds a top network's or security group's name, read from the central Neutron for "
        "the `addresses` and `security_groups` of server documents, is reused (0: read on every "
        "call). A rename through Atoll shows at once in the atoll-api process that made it; one "
        "made straight in the central Neutron or through another process shows within this time.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    group.register(conf, GROUP, OPTS)
