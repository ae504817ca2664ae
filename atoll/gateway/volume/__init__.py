"""Cinder through Atoll: `/volume/v3/...` (with or without the project id in the path)."""

from __future__ import annotations

from atoll.gateway.deps import Gateway
from atoll.gateway.merged import BRIEF, MergedList
from atoll.gateway.router import Route, Router
from atoll.gateway.volume import dependents, groups, manage, routed, shared, types, volumes
from atoll.resources.volume import VOLUME


def router(gw: Gateway) -> Router:
    ids = types.GlobalIds(gw)
    type_ids = ids.types
    gw.volume_type_names = type_ids  # a server's block device mappings name types too
    volume_list = MergedList(gw, VOLUME, routed.VOLUME_AZ, brief=BRIEF, az_filter=True)
    return Router(
        [
            Route("GET", "/volumes", volume_list),
            Route("GET", "/volumes/detail", type_ids.around(volume_list)),
            *volumes.routes(gw, type_ids),
            *dependents.routes(gw),
            *manage.routes(gw, type_ids),
            *types.routes(gw, ids),
            *groups.routes(gw, ids),
            *shared.routes(gw),
        ]
    )
