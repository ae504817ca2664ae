"""keystoneauth1 sessions built from Atoll's configuration.

keystoneauth1 is synchronous; its calls run in a worker thread. It caches the
token in the auth plugin, so a thread hop happens only when a token is made.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import plugin, session
from oslo_config import cfg

from atoll.core.errors import ServiceUnavailable


def load_session(conf: cfg.ConfigOpts, group: str) -> session.Session:
    """A session for `group` ([keystone_authtoken] or [service_auth])."""
    section = getattr(conf, group)
    if group == "service_auth" and section.cloud:
        return _cloud_session(section.cloud, section.clouds_file)
    auth = ks_loading.load_auth_from_conf_options(conf, group)
    if auth is None:
        raise ServiceUnavailable(f"[{group}] has no credentials: set auth_type and its options.")
    return ks_loading.load_session_from_conf_options(conf, group, auth=auth)


def _cloud_session(cloud: str, clouds_file: str | None) -> session.Session:
    from openstack import config as os_config  # slow import: only when a cloud is named

    files = [clouds_file] if clouds_file else None
    region = os_config.OpenStackConfig(config_files=files).get_one(cloud=cloud)
    result: session.Session = region.get_session()
    return result


def identity_url(sess: session.Session) -> str:
    """The Keystone v3 URL of a session's auth plugin."""
    url = sess.get_endpoint(interface=plugin.AUTH_INTERFACE)
    if url is None:
        raise ServiceUnavailable("The auth plugin has no Keystone URL.")
    url = url.rstrip("/")
    return url if url.endswith("/v3") else url + "/v3"


class SessionTokens:
    """The token of a session, fetched off the event loop."""

    FRESH_FOR = 300.0
    """A token good for longer than this is handed out as it is, without a thread: keystoneauth1
    itself keeps it until 120 s before it expires. A sync of one flavor to 100 pods asks for it
    700 times at once, each a hop through anyio's 40 worker threads otherwise."""

    def __init__(self, sess: session.Session) -> None:
        self._session = sess

    async def __call__(self, renew: bool = False) -> str:
        if not renew:
            token = self._fresh()
            if token is not None:
                return token
        return await anyio.to_thread.run_sync(self._token, renew)

    def _fresh(self) -> str | None:
        ref = getattr(self._session.auth, "auth_ref", None)  # an identity plugin's current token, if any
        if ref is None or ref.will_expire_soon(self.FRESH_FOR):
            return None
        token = ref.auth_token
        return str(token) if token else None

    def _token(self, renew: bool) -> str:
        auth: Any = self._session.auth
        if renew and auth is not None:
            auth.invalidate()
        try:
            token = self._session.get_token()
        except ks_exceptions.ClientException as error:
            raise ServiceUnavailable(f"Atoll could not get a Keystone token: {type(error).__name__}") from error
        if token is None:
            raise ServiceUnavailable("Atoll could not get a Keystone token.")
        return str(token)
