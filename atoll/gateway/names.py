"""The top names server documents show (`compute.ports.top_names`), kept for a short while.

A server's `addresses` are keyed, and its `security_groups` named, by the bottom copies' names,
which are the top ids; Atoll shows the top networks' and groups' names instead, read from the
central Neutron. Read on every server show and list, that cost a central Neutron round trip per
call (30-40 ms on the test bed, most of what Atoll added to a server show), so the names found
are kept for `[gateway] top_names_ttl` seconds. A rename or delete through Atoll's network API
drops the name in this process at once; one made straight in the central Neutron (or through
another atoll-api process) shows within the TTL. Nova itself shows a network's old name in
`addresses` until it refreshes the server's network cache, so a server document trailing a
rename is nothing a Nova client does not already meet.

Names are kept by id, whoever asked: the name of a network or group a server uses is shown
to everyone who may see that server (as Nova shows it). Ids the central Neutron did not list to
the caller are not kept (it lists only what the caller may see), and are asked again next time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cachetools import TTLCache

from atoll.network import neutron
from atoll.network.neutron import Neutron


class TopNames:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic, maxsize: int = 20_000) -> None:
        self._kept: TTLCache[tuple[str, str], str] | None = (
            TTLCache(maxsize=maxsize, ttl=ttl, timer=clock) if ttl > 0 else None
        )

    async def names(self, central: Neutron, collection: str, ids: set[str]) -> dict[str, str]:
        """id -> name (the id where the item has no name) of the `ids` the central Neutron lists
        in `collection` ("networks", "security-groups") to the caller."""
        if not ids:
            return {}
        kept = self._kept
        found = {} if kept is None else {i: name for i in ids if (name := kept.get((collection, i))) is not None}
        wanted = ids - found.keys()
        if not wanted:
            return found
        query = [("id", i) for i in sorted(wanted)] + [("fields", "id"), ("fields", "name")]
        for item in await neutron.find(central, collection, query):
            item_id = item["id"]
            found[item_id] = item.get("name") or item_id
            if kept is not None:
                kept[(collection, item_id)] = found[item_id]
        return found

    def forget(self, collection: str, item_id: str) -> None:
        """A rename or delete went through: the next document shows the central Neutron's name."""
        if self._kept is not None:
            self._kept.pop((collection, item_id), None)
