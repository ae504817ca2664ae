"""Entry point of oslo-config-generator (namespace `atoll`)."""

from __future__ import annotations

from oslo_config import cfg

from atoll.conf import api, auth, database, engine, gateway, jobs, paths, sync


def list_opts() -> list[tuple[cfg.OptGroup | str, list[cfg.Opt]]]:
    return [
        ("DEFAULT", list(paths.OPTS)),
        (api.GROUP, list(api.OPTS)),
        (database.GROUP, list(database.OPTS)),
        (engine.GROUP, list(engine.OPTS)),
        (jobs.GROUP, list(jobs.OPTS)),
        (gateway.GROUP, list(gateway.OPTS)),
        (sync.GROUP, list(sync.OPTS)),
        (auth.AUTHTOKEN_GROUP, auth.AUTHTOKEN_OPTS + auth.keystoneauth_opts()),
        (auth.SERVICE_AUTH_GROUP, auth.SERVICE_AUTH_OPTS + auth.keystoneauth_opts()),
    ]
