"""Keystone options: token validation and Atoll's own service credentials.

`[keystone_authtoken]` holds the credentials Atoll uses to validate callers'
tokens (as keystonemiddleware does); `[service_auth]` holds the credentials of
background work. Both take keystoneauth1 options (auth_type, auth_url,
username, ...); `[service_auth]` may name a cloud of a clouds.yaml instead.
"""

from __future__ import annotations

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

from atoll.conf import group

AUTHTOKEN_GROUP = cfg.OptGroup(
    "keystone_authtoken",
    title="Token validation",
    help="How atoll-api validates the X-Auth-Token of each request against Keystone.",
)

AUTHTOKEN_OPTS = [
    cfg.StrOpt(
        "www_authenticate_uri",
        help="Keystone URL announced to clients in the WWW-Authenticate header of a 401. Defaults to auth_url.",
    ),
    cfg.IntOpt(
        "token_cache_time",
        default=300,
        min=0,
        help="Seconds a validated token is trusted without asking Keystone again "
        "(never past its expiry). 0 disables the cache; a revoked token is rejected "
        "at the latest this long after its revocation.",
    ),
    cfg.IntOpt("token_cache_size", default=10000, min=1, help="Valid tokens kept in the validation cache."),
    cfg.IntOpt(
        "token_negative_cache_size",
        default=1000,
        min=1,
        help="Invalid tokens remembered (for token_cache_time), apart from the valid ones so that "
        "made-up tokens cannot push valid ones out of the cache.",
    ),
    cfg.FloatOpt("http_timeout", default=10.0, min=0.1, help="Seconds to wait for Keystone."),
]

SERVICE_AUTH_GROUP = cfg.OptGroup(
    "service_auth",
    title="Atoll's service credentials",
    help="Credentials of Atoll's background work (endpoint discovery, health, sync, quota). "
    "Either keystoneauth1 options or `cloud`.",
)

SERVICE_AUTH_OPTS = [
    cfg.StrOpt(
        "cloud",
        help="Name of a cloud in a clouds.yaml to take the credentials from, "
        "instead of the auth options of this group.",
    ),
    cfg.StrOpt(
        "clouds_file",
        help="Path of the clouds.yaml holding `cloud`. Defaults to the usual search path "
        "(./clouds.yaml, ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml).",
    ),
    cfg.StrOpt(
        "interface",
        default="public",
        choices=["public", "internal", "admin"],
        help="Catalog interface of the pods' endpoints Atoll talks to.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    for opt_group, opts in ((AUTHTOKEN_GROUP, AUTHTOKEN_OPTS), (SERVICE_AUTH_GROUP, SERVICE_AUTH_OPTS)):
        group.register(conf, opt_group, opts)
        ks_loading.register_auth_conf_options(conf, opt_group.name)
        ks_loading.register_session_conf_options(conf, opt_group.name)


def keystoneauth_opts() -> list[cfg.Opt]:
    """The keystoneauth1 options shown in the sample (password plugin)."""
    opts = ks_loading.get_auth_common_conf_options()
    opts += ks_loading.get_session_conf_options()
    names = {o.dest for o in opts}
    opts += [o for o in ks_loading.get_auth_plugin_conf_options("password") if o.dest not in names]
    return opts
