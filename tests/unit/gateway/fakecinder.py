"""A fake pod with Nova (`FakeNova`) and a small Cinder beside it: in-memory volumes, snapshots
and volume types with Cinder's sort syntax, limit/marker and reply shapes; every request body
it got is recorded in `bodies`."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from tests.unit.gateway.fakenova import FakeNova, _stamp

_SORT_FIELDS = {"display_name": "name", "name": "name"}


class FakeCloud(FakeNova):
    def __init__(self, az: str = "nova", cinder_az: str = "nova") -> None:
        super().__init__(az=az)
        self.cinder_az = cinder_az
        self.volumes: dict[str, dict[str, Any]] = {}
        self.snapshots: dict[str, dict[str, Any]] = {}
        self.types: dict[str, dict[str, Any]] = {}
        self.add_type("__DEFAULT__")
        r = self.route
        r("GET", "/v3/volumes/summary", self._summary)
        for kind in ("volumes", "snapshots"):
            r("GET", f"/v3/{kind}/detail", self._lister(kind, detail=True))
            r("GET", f"/v3/{kind}", self._lister(kind, detail=False))
            r("GET", f"/v3/{kind}/{{id}}", self._shower(kind))
            r("DELETE", f"/v3/{kind}/{{id}}", self._deleter(kind))
        r("POST", "/v3/volumes", self._create_volume)
        r("PUT", "/v3/volumes/{id}", self._update_volume)
        r("POST", "/v3/volumes/{id}/action", self._volume_action)
        r("POST", "/v3/snapshots", self._create_snapshot)
        r("POST", "/v3/types", self._create_type)
        r("GET", "/v3/types", self._list_types)
        r("GET", "/v3/types/{id}", self._show_type)
        r("DELETE", "/v3/types/{id}", self._delete_type)
        r("POST", "/v3/types/{id}/extra_specs", self._set_specs)
        self.group_types: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.group_snapshots: dict[str, dict[str, Any]] = {}
        r("POST", "/v3/group_types", self._create_group_type)
        r("GET", "/v3/group_types", self._list_group_types)
        r("GET", "/v3/group_types/{id}", self._show_group_type)
        r("POST", "/v3/groups", self._create_group)
        r("GET", "/v3/groups/detail", self._list_groups)
        r("GET", "/v3/groups/{id}", self._shower("groups"))
        r("POST", "/v3/group_snapshots", self._create_group_snapshot)
        self.qos: dict[str, dict[str, Any]] = {}
        r("POST", "/v3/qos-specs", self._create_qos)
        r("GET", "/v3/qos-specs", self._list_qos)
        r("GET", "/v3/qos-specs/{id}", self._show_qos)
        r("GET", "/v3/qos-specs/{id}/associate", self._associate_qos)
        r("POST", "/v3/attachments", self._attach)
        self.services: list[dict[str, Any]] = []
        self.transfers: dict[str, dict[str, Any]] = {}
        r("POST", "/v3/os-volume-transfer", self._create_transfer)
        r("GET", "/v3/os-volume-transfer/detail", self._list_transfers)
        r("GET", "/v3/os-volume-transfer/{id}", self._show_transfer)
        r("POST", "/v3/os-volume-transfer/{id}/accept", self._accept_transfer)
        r("GET", "/v3/os-services", self._services)
        r("PUT", "/v3/os-services/{action}", self._service_action)
        self.clusters: list[dict[str, Any]] = []
        r("GET", "/v3/clusters", self._clusters)
        r("GET", "/v3/clusters/detail", self._clusters)
        r("GET", "/v3/clusters/{name}", self._cluster)
        r("PUT", "/v3/clusters/{action}", self._cluster_action)
        r("POST", "/v3/workers/cleanup", self._cleanup)
        for base in ("/v3/manageable_volumes", "/v3/os-volume-manage"):
            r("POST", base, self._manage_volume)
            r("GET", base, self._manageable)
            r("GET", f"{base}/detail", self._manageable)
        for base in ("/v3/manageable_snapshots", "/v3/os-snapshot-manage"):
            r("POST", base, self._create_snapshot)
        # Nova's volume proxy (up to 2.35): this pod's Cinder volumes and snapshots in Nova's shape.
        for kind in ("volumes", "snapshots"):
            r("GET", f"/v2.1/os-{kind}", self._proxy_list(kind))
            r("GET", f"/v2.1/os-{kind}/detail", self._proxy_list(kind))
            r("GET", f"/v2.1/os-{kind}/{{id}}", self._proxy_item(kind))
            r("DELETE", f"/v2.1/os-{kind}/{{id}}", self._proxy_item(kind))
            r("POST", f"/v2.1/os-{kind}", self._proxy_create(kind))

    async def _summary(self, request: web.Request) -> web.StreamResponse:
        volumes = self.volumes.values()
        summary = {"total_count": len(volumes), "total_size": sum(v["size"] for v in volumes)}
        return self._echo(request, {"volume-summary": summary})

    # -- helpers -------------------------------------------------------------------------------
    def add_volume(self, name: str, **fields: Any) -> dict[str, Any]:
        volume_id = fields.pop("id", None) or str(uuid.uuid4())
        volume = {
            "id": volume_id,
            "name": name,
            "status": "available",
            "size": 1,
            "availability_zone": self.cinder_az,
            "created_at": _stamp(),
            "updated_at": None,
            "volume_type": "__DEFAULT__",
            "volume_type_id": self._type_id(fields.get("volume_type", "__DEFAULT__")),
            "metadata": {},
            "attachments": [],
            "links": [
                {"rel": "self", "href": f"{self.url}/v3/project-a/volumes/{volume_id}"},
                {"rel": "bookmark", "href": f"{self.url}/project-a/volumes/{volume_id}"},
            ],
            **fields,
        }
        self.volumes[volume_id] = volume
        return volume

    def _type_id(self, name: str) -> str | None:
        found = self.type_named(name)
        return None if found is None else str(found["id"])

    def add_snapshot(self, volume_id: str, name: str = "") -> dict[str, Any]:
        snapshot_id = str(uuid.uuid4())
        snapshot: dict[str, Any] = {
            "id": snapshot_id,
            "name": name,
            "volume_id": volume_id,
            "status": "available",
            "size": 1,
            "created_at": _stamp(),
            "updated_at": None,
            "metadata": {},
        }
        self.snapshots[snapshot_id] = snapshot
        return snapshot

    def add_type(self, name: str) -> dict[str, Any]:
        type_id = str(uuid.uuid4())
        volume_type: dict[str, Any] = {"id": type_id, "name": name, "is_public": True, "extra_specs": {}}
        self.types[type_id] = volume_type
        return volume_type

    async def _create_group_type(self, request: web.Request) -> web.StreamResponse:
        group_type = {"id": str(uuid.uuid4()), **(await request.json())["group_type"]}
        self.group_types[group_type["id"]] = group_type
        return self._cinder({"group_type": group_type})

    async def _list_group_types(self, _request: web.Request) -> web.StreamResponse:
        return self._cinder({"group_types": list(self.group_types.values())})

    async def _show_group_type(self, request: web.Request) -> web.StreamResponse:
        group_type = self.group_types.get(request.match_info["id"])
        if group_type is None:
            return self._missing("Group type", request.match_info["id"])
        return self._cinder({"group_type": group_type})

    async def _list_groups(self, _request: web.Request) -> web.StreamResponse:
        return self._cinder({"groups": list(self.groups.values())})

    async def _create_group(self, request: web.Request) -> web.StreamResponse:
        """A group of this Cinder's own group type and volume types, by their ids here."""
        wanted = (await request.json())["group"]
        if wanted.get("group_type") not in self.group_types:
            return self._missing("GroupType", str(wanted.get("group_type")))
        unknown = [t for t in wanted.get("volume_types", []) if t not in self.types]
        if unknown:
            return self._missing("Volume type", unknown[0])
        group = {"id": str(uuid.uuid4()), "status": "available", "availability_zone": self.cinder_az, **wanted}
        self.groups[group["id"]] = group
        return self._cinder({"group": group}, 202)

    async def _create_group_snapshot(self, request: web.Request) -> web.StreamResponse:
        wanted = (await request.json())["group_snapshot"]
        if wanted.get("group_id") not in self.groups:
            return self._missing("Group", str(wanted.get("group_id")))
        snapshot = {"id": str(uuid.uuid4()), "status": "available", **wanted}
        self.group_snapshots[snapshot["id"]] = snapshot
        return self._cinder({"group_snapshot": snapshot}, 202)

    async def _create_qos(self, request: web.Request) -> web.StreamResponse:
        """QoS specs with an id of this Cinder's own choosing, as types."""
        spec = dict((await request.json())["qos_specs"])
        qos = {"id": str(uuid.uuid4()), "name": spec.pop("name"), "specs": spec, "associations": []}
        self.qos[qos["id"]] = qos
        return self._cinder({"qos_specs": qos})

    async def _list_qos(self, _request: web.Request) -> web.StreamResponse:
        return self._cinder({"qos_specs": list(self.qos.values())})

    async def _show_qos(self, request: web.Request) -> web.StreamResponse:
        qos = self.qos.get(request.match_info["id"])
        if qos is None:
            return self._missing("QoS spec", request.match_info["id"])
        return self._cinder({"qos_specs": qos})

    async def _associate_qos(self, request: web.Request) -> web.StreamResponse:
        type_id = request.query.get("vol_type_id", "")
        if type_id not in self.types:
            return self._missing("Volume type", type_id)
        self.qos[request.match_info["id"]]["associations"].append(type_id)
        return web.Response(status=202)

    def type_named(self, name: str) -> dict[str, Any] | None:
        return next((t for t in self.types.values() if t["name"] == name), None)

    def _cinder(self, body: Any, status: int = 200) -> web.Response:
        return web.json_response(body, status=status, headers={"x-openstack-request-id": "req-pod"})

    def _missing(self, what: str, item_id: str) -> web.Response:
        return self._fault(404, "itemNotFound", f"{what} {item_id} could not be found.")

    # -- handlers ------------------------------------------------------------------------------
    def _lister(self, kind: str, detail: bool) -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            store: dict[str, dict[str, Any]] = getattr(self, kind)
            items = list(store.values())
            if "availability_zone" in request.query:
                items = [i for i in items if i.get("availability_zone") == request.query["availability_zone"]]
            sort = request.query.get("sort", "created_at:desc,id:desc")
            for part in reversed(sort.split(",")):
                key, _, direction = part.partition(":")
                field = _SORT_FIELDS.get(key, key)

                def value(item: dict[str, Any], field: str = field) -> Any:
                    found = item.get(field)
                    return (found is not None, found if isinstance(found, int) else str(found or "").lower())

                items.sort(key=value, reverse=direction != "asc")
            marker = request.query.get("marker")
            if marker is not None:
                ids = [i["id"] for i in items]
                if marker not in ids:
                    return self._fault(404, "itemNotFound", f"Marker {marker} could not be found.")
                items = items[ids.index(marker) + 1 :]
            limit = int(request.query.get("limit", "1000"))
            page = items[:limit]
            if not detail and kind == "volumes":
                page = [{"id": i["id"], "links": i["links"], "name": i["name"]} for i in page]
            body: dict[str, Any] = {kind: page}
            if len(page) == limit and page:
                body[f"{kind}_links"] = [{"rel": "next", "href": f"{self.url}/v3/{kind}?marker={page[-1]['id']}"}]
            return self._cinder(body)

        return handle

    def _shower(self, kind: str) -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            item = getattr(self, kind).get(request.match_info["id"])
            if item is None:
                return self._missing(kind[:-1].capitalize(), request.match_info["id"])
            return self._cinder({kind[:-1]: item})

        return handle

    def _deleter(self, kind: str) -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            if getattr(self, kind).pop(request.match_info["id"], None) is None:
                return self._missing(kind[:-1].capitalize(), request.match_info["id"])
            return web.Response(status=202)

        return handle

    async def _create_volume(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.bodies.append(body)
        wanted = body["volume"]
        for field, store in (("snapshot_id", self.snapshots), ("source_volid", self.volumes)):
            if wanted.get(field) is not None and wanted[field] not in store:
                return self._missing(field, wanted[field])
        kind = wanted.get("volume_type")
        if kind is not None and kind not in self.types and self.type_named(kind) is None:
            return self._fault(404, "itemNotFound", f"Volume type with name {kind} could not be found.")
        named = self.types[kind]["name"] if kind in self.types else kind or "__DEFAULT__"
        volume = self.add_volume(
            wanted.get("name") or "", size=wanted.get("size", 1), status="creating", volume_type=named
        )
        return self._cinder({"volume": volume}, 202)

    async def _update_volume(self, request: web.Request) -> web.StreamResponse:
        volume = self.volumes.get(request.match_info["id"])
        if volume is None:
            return self._missing("Volume", request.match_info["id"])
        volume.update((await request.json())["volume"])
        return self._cinder({"volume": volume})

    async def _volume_action(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["id"] not in self.volumes:
            return self._missing("Volume", request.match_info["id"])
        self.bodies.append(await request.json())
        return web.Response(status=202)

    async def _create_snapshot(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.bodies.append(body)
        volume_id = body["snapshot"]["volume_id"]
        if volume_id not in self.volumes:
            return self._missing("Volume", volume_id)
        return self._cinder({"snapshot": self.add_snapshot(volume_id, body["snapshot"].get("name", ""))}, 202)

    async def _create_type(self, request: web.Request) -> web.StreamResponse:
        wanted = (await request.json())["volume_type"]
        if self.type_named(wanted["name"]) is not None:
            return self._fault(409, "conflict", f"Volume Type {wanted['name']} already exists.")
        volume_type = self.add_type(wanted["name"])
        volume_type["extra_specs"] = dict(wanted.get("extra_specs") or {})
        return self._cinder({"volume_type": volume_type})

    async def _list_types(self, _request: web.Request) -> web.StreamResponse:
        return self._cinder({"volume_types": list(self.types.values())})

    async def _show_type(self, request: web.Request) -> web.StreamResponse:
        volume_type = self.types.get(request.match_info["id"])
        if volume_type is None:
            return self._missing("Volume type", request.match_info["id"])
        return self._cinder({"volume_type": volume_type})

    async def _delete_type(self, request: web.Request) -> web.StreamResponse:
        if self.types.pop(request.match_info["id"], None) is None:
            return self._missing("Volume type", request.match_info["id"])
        return web.Response(status=202)

    async def _set_specs(self, request: web.Request) -> web.StreamResponse:
        volume_type = self.types.get(request.match_info["id"])
        if volume_type is None:
            return self._missing("Volume type", request.match_info["id"])
        specs = (await request.json())["extra_specs"]
        volume_type["extra_specs"].update(specs)
        return self._cinder({"extra_specs": specs})

    async def _root(self, _request: web.Request) -> web.StreamResponse:
        low, high = self.versions
        nova = {"id": "v2.1", "status": "CURRENT", "version": high, "min_version": low, "links": []}
        cinder = {"id": "v3.0", "status": "CURRENT", "version": "3.71", "min_version": "3.0", "links": []}
        return web.json_response({"versions": [nova, cinder]})

    async def _attach(self, request: web.Request) -> web.StreamResponse:
        wanted = (await request.json())["attachment"]
        self.bodies.append(wanted)
        attachment = {"id": str(uuid.uuid4()), "volume_id": wanted["volume_uuid"], "instance": wanted["instance_uuid"]}
        return self._cinder({"attachment": attachment})

    async def _services(self, _request: web.Request) -> web.StreamResponse:
        return self._cinder({"services": self.services})

    async def _cleanup(self, request: web.Request) -> web.StreamResponse:
        """Cinder's `/workers/cleanup`: this pod's services matching the body's `binary`, all cleaning."""
        body = await request.json()
        if not isinstance(body, dict) or "bogus" in body:
            return self._fault(400, "badRequest", "Invalid filter keys: bogus")
        binary = body.get("binary", "cinder-volume")
        cleaning = [{"id": 1, "host": s["host"], "binary": s["binary"]} for s in self.services if s["binary"] == binary]
        return web.json_response({"cleaning": cleaning, "unavailable": []}, status=202)

    def _proxied(self, kind: str, item: dict[str, Any]) -> dict[str, Any]:
        if kind == "snapshots":
            return {"id": item["id"], "volumeId": item["volume_id"], "status": item["status"], "size": item["size"]}
        return {
            "id": item["id"],
            "displayName": item["name"],
            "status": item["status"],
            "size": item["size"],
            "availabilityZone": item["availability_zone"],
            "attachments": [{}],
        }

    @staticmethod
    def _proxy_version(request: web.Request) -> web.Response | None:
        major, minor = request.headers.get("X-OpenStack-Nova-API-Version", "2.1").split(".")
        if (int(major), int(minor)) >= (2, 36):
            return web.json_response({"itemNotFound": {"code": 404, "message": "not found"}}, status=404)
        return None

    def _proxy_list(self, kind: str) -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            if (gone := self._proxy_version(request)) is not None:
                return gone
            offset, limit = int(request.query.get("offset", "0")), int(request.query.get("limit", "1000"))
            items = [self._proxied(kind, item) for item in getattr(self, kind).values()]
            return self._echo(request, {kind: items[offset : offset + limit]})

        return handle

    def _proxy_item(self, kind: str) -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            if (gone := self._proxy_version(request)) is not None:
                return gone
            store: dict[str, dict[str, Any]] = getattr(self, kind)
            item = store.get(request.match_info["id"])
            if item is None:
                return self._fault(404, "itemNotFound", f"{kind[:-1]} {request.match_info['id']} not found")
            if request.method == "DELETE":
                del store[item["id"]]
                return web.Response(status=202)
            return self._echo(request, {kind[:-1]: self._proxied(kind, item)})

        return handle

    def _proxy_create(self, kind: str) -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            if (gone := self._proxy_version(request)) is not None:
                return gone
            body = await request.json()
            self.bodies.append(body)
            wanted = body[kind[:-1]]
            if kind == "snapshots":
                if wanted["volume_id"] not in self.volumes:
                    return self._missing("Volume", wanted["volume_id"])
                return self._echo(request, {"snapshot": self._proxied(kind, self.add_snapshot(wanted["volume_id"]))})
            volume = self.add_volume(wanted.get("display_name") or "", size=wanted.get("size", 1))
            volume["availability_zone"] = wanted.get("availability_zone") or self.cinder_az
            return self._echo(request, {"volume": self._proxied(kind, volume)})

        return handle

    def _backend(self, host: str | None) -> bool:
        return host is not None and any(s["host"] == host.split("#")[0] for s in self.services)

    async def _manage_volume(self, request: web.Request) -> web.StreamResponse:
        """Cinder's: a volume of the backend's storage named `ref`; 503 for a host it does not have."""
        body = await request.json()
        self.bodies.append(body)
        wanted = body["volume"]
        if not self._backend(wanted.get("host")):
            return self._fault(503, "serviceUnavailable", f"Host '{wanted.get('host')}' not found")
        volume = self.add_volume(wanted.get("name") or "", status="creating")
        volume["availability_zone"] = wanted.get("availability_zone") or self.cinder_az
        return self._cinder({"volume": volume}, 202)

    async def _manageable(self, request: web.Request) -> web.StreamResponse:
        host = request.query.get("host")
        if host is None:
            return self._fault(400, "badRequest", "Missing required parameter host or cluster.")
        if not self._backend(host):
            return self._fault(404, "itemNotFound", f"Service {host} could not be found.")
        listed = [{"reference": {"source-name": f"lv-{self.cinder_az}"}, "size": 1, "safe_to_manage": True}]
        return self._cinder({"manageable-volumes": listed})

    async def _clusters(self, _request: web.Request) -> web.StreamResponse:
        return self._cinder({"clusters": self.clusters})

    async def _cluster(self, request: web.Request) -> web.StreamResponse:
        found = [c for c in self.clusters if c["name"] == request.match_info["name"]]
        if not found:
            return self._fault(404, "itemNotFound", f"Cluster {request.match_info['name']} could not be found.")
        return self._cinder({"cluster": found[0]})

    async def _cluster_action(self, request: web.Request) -> web.StreamResponse:
        name = (await request.json()).get("name")
        found = [c for c in self.clusters if c["name"] == name]
        if not found:
            return self._fault(404, "itemNotFound", f"Cluster {name} could not be found.")
        found[0]["status"] = "disabled" if request.match_info["action"] == "disable" else "enabled"
        return self._cinder({"cluster": found[0]})

    async def _service_action(self, request: web.Request) -> web.StreamResponse:
        """enable/disable of a host's service: 400 for a host this Cinder does not have."""
        body = await request.json()
        found = [s for s in self.services if s["host"] == body.get("host")]
        if not found:
            return self._fault(400, "badRequest", f"Invalid host {body.get('host')}")
        found[0]["status"] = "disabled" if request.match_info["action"].startswith("disable") else "enabled"
        return self._cinder(dict(found[0]))

    async def _create_transfer(self, request: web.Request) -> web.StreamResponse:
        volume_id = (await request.json())["transfer"]["volume_id"]
        if volume_id not in self.volumes:
            return self._missing("Volume", volume_id)
        transfer = {"id": str(uuid.uuid4()), "volume_id": volume_id, "name": None}
        self.transfers[transfer["id"]] = transfer
        return self._cinder({"transfer": {**transfer, "auth_key": "secret"}}, 202)

    async def _list_transfers(self, request: web.Request) -> web.StreamResponse:
        """Cinder's before 3.59: every query parameter is a filter (`limit` too, which no transfer has),
        then `offset` and `limit` cut the list."""
        listed = [t for t in self.transfers.values() if all(str(t.get(k)) == v for k, v in request.query.items())]
        if set(request.query) - {"name"}:
            listed = []  # a filter on a field transfers do not have matches none
        return self._cinder({"transfers": listed})

    async def _show_transfer(self, request: web.Request) -> web.StreamResponse:
        transfer = self.transfers.get(request.match_info["id"])
        if transfer is None:
            return self._missing("Transfer", request.match_info["id"])
        return self._cinder({"transfer": transfer})

    async def _accept_transfer(self, request: web.Request) -> web.StreamResponse:
        transfer = self.transfers.pop(request.match_info["id"], None)
        if transfer is None:
            return self._missing("Transfer", request.match_info["id"])
        return self._cinder({"transfer": transfer}, 202)
