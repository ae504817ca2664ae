"""Reading a region's endpoints from the Keystone service catalog."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import anyio.to_thread
from keystoneauth1 import access, identity, session
from keystoneauth1 import exceptions as ks_exceptions

from atoll.core.errors import ServiceUnavailable
from atoll.types import ServiceType

POD_SERVICE_TYPES: tuple[str, ...] = (*tuple(t.value for t in ServiceType), "identity")


def endpoints_for_region(
    catalog: access.service_catalog.ServiceCatalog,
    region_name: str,
    interface: str,
    service_types: Iterable[str] = POD_SERVICE_TYPES,
) -> dict[str, str]:
    """The URL of each wanted service type the region has, for one interface.

    Reads the catalog as registered, without keystoneauth's alias resolution
    (`url_for` raises ValueError when an alias of a missing type is present).
    """
    wanted = set(service_types)
    found: dict[str, str] = {}
    by_type = catalog.get_endpoints_data(interface=interface, region_name=region_name)
    for service_type, endpoints in sorted(by_type.items()):
        urls = [e.url for e in endpoints if e.url]
        if service_type in wanted and urls:
            found[service_type] = urls[0]
    return found


class CatalogReader:
    """Reads the catalog of Atoll's service token, fresh on every call."""

    def __init__(self, sess: session.Session, interface: str = "public") -> None:
        self._session = sess
        self._interface = interface

    async def regions(self, region_names: Iterable[str]) -> Mapping[str, dict[str, str]]:
        names = list(region_names)
        return await anyio.to_thread.run_sync(self._read, names)

    def _read(self, names: list[str]) -> dict[str, dict[str, str]]:
        auth = self._session.auth
        if not isinstance(auth, identity.BaseIdentityPlugin):
            raise ServiceUnavailable("Atoll's service session has no credentials.")
        try:
            # A new token carries the catalog as it is now. It is asked for without touching the
            # plugin's own token: `invalidate()` + `get_access()` raced when pods registered at once
            # were discovered in parallel threads (one thread's invalidate between another's fetch
            # and its read: keystoneauth1's AssertionError, and a pod left undiscovered).
            auth_ref = auth.get_auth_ref(self._session)
        except ks_exceptions.ClientException as error:
            raise ServiceUnavailable(f"Keystone catalog could not be read: {type(error).__name__}") from error
        return {name: endpoints_for_region(auth_ref.service_catalog, name, self._interface) for name in names}
