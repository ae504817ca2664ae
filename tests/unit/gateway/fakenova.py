"""A small fake Nova on loopback for the gateway's unit tests: in-memory servers with Nova's
sorting, limit/marker semantics and reply shapes, and a record of every request it got."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tests.unit.gateway.fakeglance import FakeGlance
from tests.unit.pods.fakepod import FakePod

_CLOCK = itertools.count()
_EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

SORT_FIELDS = {"created_at": "created", "uuid": "id", "display_name": "name", "updated_at": "updated"}


def _stamp() -> str:
    return (_EPOCH + dt.timedelta(seconds=next(_CLOCK))).strftime("%Y-%m-%dT%H:%M:%SZ")


def _after(items: list[dict[str, Any]], marker: str | None) -> list[dict[str, Any]] | None:
    """The items after the one whose id is `marker` (all without one); None when no item has it."""
    if marker is None:
        return items
    ids = [item["id"] for item in items]
    return items[ids.index(marker) + 1 :] if marker in ids else None


class FakeNova(FakePod):
    def __init__(self, az: str = "nova", versions: tuple[str, str] = ("2.1", "2.96")) -> None:
        super().__init__()
        self.az = az
        self.versions = versions
        self.servers: dict[str, dict[str, Any]] = {}
        self.bodies: list[Any] = []
        self.flavors: dict[str, dict[str, Any]] = {"1": {"id": "1", "name": "m1.tiny", "ram": 512}}
        self.keypairs: dict[str, dict[str, Any]] = {}
        r = self.route
        r("GET", "/", self._root)
        r("GET", "/v2.1/servers/detail", self._list)
        r("GET", "/v2.1/servers", self._list)
        r("POST", "/v2.1/servers", self._create)
        r("GET", "/v2.1/servers/{id}", self._show)
        r("PUT", "/v2.1/servers/{id}", self._update)
        r("DELETE", "/v2.1/servers/{id}", self._delete)
        r("POST", "/v2.1/servers/{id}/action", self._action)
        r("*", "/v2.1/servers/{id}/{rest:.*}", self._sub)
        r("GET", "/v2.1/os-availability-zone", self._zones)
        r("GET", "/v2.1/os-availability-zone/detail", self._zones_detail)
        r("POST", "/v2.1/flavors", self._create_flavor)
        r("GET", "/v2.1/flavors/detail", self._flavor_list)
        r("GET", "/v2.1/flavors/{id}", self._show_flavor)
        r("DELETE", "/v2.1/flavors/{id}", self._delete_flavor)
        r("*", "/v2.1/flavors/{id}/os-extra_specs", self._flavor_specs)
        self.keypair_tokens: list[str] = []
        """The tokens keypairs were made with."""
        self.flavor_tokens: list[str] = []
        """The tokens flavors were made with (Atoll's service token for its copies)."""
        r("POST", "/v2.1/os-keypairs", self._create_keypair)
        r("GET", "/v2.1/os-keypairs/{name}", self._show_keypair)
        self.images: dict[str, dict[str, Any]] = {}
        self.glance = FakeGlance(self, self.images)
        r("GET", "/v2.1/images", self._nova_images)
        r("GET", "/v2.1/images/detail", self._nova_images)
        r("GET", "/v2.1/images/{id}", self._nova_image)
        r("DELETE", "/v2.1/images/{id}", self._nova_image)
        r("*", "/v2.1/images/{id}/metadata", self._nova_image_metadata)
        self.migrations: list[dict[str, Any]] | None = None
        """Migrations, newest first, paged from 2.59 as Nova pages them (None: one of this pod's)."""
        self.max_limit = 1000
        """The page size of a list asked for no `limit` (Nova's `api.max_limit`)."""
        self.host = f"{az}-host"
        """The name of this pod's one compute host, as `/os-hosts` shows it."""
        self.service_id: str | int = f"svc-{az}"
        """The id of this pod's nova-compute service (an integer before microversion 2.53)."""
        self.aggregate_id = 1
        """The id of this pod's one host aggregate."""
        self.server_groups: list[dict[str, Any]] = []
        """Server groups, listed by `limit` and `offset` as Nova lists them."""
        r("GET", "/v2.1/os-migrations", self._migrations)
        r("GET", "/v2.1/os-server-groups", self._server_groups)
        r("*", "/v2.1/os-{kind:(hypervisors|services|aggregates|migrations|hosts)}{rest:.*}", self._operator)
        r("GET", "/v2.1/os-simple-tenant-usage", self._usage)
        r("GET", "/v2.1/os-simple-tenant-usage/{tenant}", self._usage)
        self.canned: dict[str, tuple[int, Any]] = {}
        """GET answers a test sets after the pod is up (path -> status, body): limits, quota sets."""
        r("GET", "/v2.1/limits", self._canned)
        r("GET", "/v2.1/os-quota-sets/{rest:.*}", self._canned)
        r("*", "/v2.1/os-quota-class-sets/{rest:.*}", self._canned)
        r("GET", "/v2.1/os-instance_usage_audit_log{rest:.*}", self._canned)
        r("GET", "/v2.1/os-console-auth-tokens/{token}", self._canned)

    async def _migrations(self, request: web.Request) -> web.StreamResponse:
        """Nova's: from 2.59 at most `limit` (1000 when none), after the `marker` migration (its uuid, a
        400 when unknown), with a next link after every full page; before, every one (paging ignored)."""
        if self.migrations is None:
            return self._echo(request, {"migrations": [{"id": 1, "source_compute": f"{self.az}-host"}]})
        major, minor = request.headers.get("X-OpenStack-Nova-API-Version", "2.1").split(".")
        items = list(self.migrations)
        if (int(major), int(minor)) < (2, 59):
            return self._echo(request, {"migrations": items})
        if (marker := request.query.get("marker")) is not None:
            uuids = [m["uuid"] for m in items]
            if marker not in uuids:
                return self._fault(400, "badRequest", f"Marker {marker} could not be found.")
            items = items[uuids.index(marker) + 1 :]
        limit = min(int(request.query.get("limit", self.max_limit)), self.max_limit)
        body: dict[str, Any] = {"migrations": items[:limit]}
        if items[:limit] and len(items[:limit]) == limit:
            href = f"{self.url}/v2.1/os-migrations?limit={limit}&marker={items[limit - 1]['uuid']}"
            body["migrations_links"] = [{"rel": "next", "href": href}]
        return self._echo(request, body)

    async def _server_groups(self, request: web.Request) -> web.StreamResponse:
        offset, limit = int(request.query.get("offset", "0")), int(request.query.get("limit", "1000"))
        return self._echo(request, {"server_groups": self.server_groups[offset : offset + limit]})

    async def _canned(self, request: web.Request) -> web.StreamResponse:
        status, body = self.canned.get(request.path, (404, {"itemNotFound": {"code": 404, "message": "nothing"}}))
        return web.json_response(body, status=status)

    # -- Nova's image API: this pod's Glance images in Nova's shape (newest first, limit/marker) ----
    def _nova_view(self, image: dict[str, Any]) -> dict[str, Any]:
        status = {"active": "ACTIVE", "queued": "SAVING"}.get(image["status"], "UNKNOWN")
        metadata = {k: v for k, v in image.items() if k.startswith("x_")}
        link = f"{self.url}/v2.1/images/{image['id']}"
        return {
            "id": image["id"],
            "name": image["name"],
            "status": status,
            "created": image["created_at"],
            "metadata": metadata,
            "links": [{"rel": "self", "href": link}],
        }

    async def _nova_images(self, request: web.Request) -> web.StreamResponse:
        items = sorted(self.images.values(), key=lambda i: (i["created_at"], i["id"]), reverse=True)
        marker = request.query.get("marker")
        if marker is not None:
            ids = [i["id"] for i in items]
            if marker not in ids:
                return web.json_response({"badRequest": {"code": 400, "message": "marker not found"}}, status=400)
            items = items[ids.index(marker) + 1 :]
        limit = int(request.query.get("limit", "1000"))
        page = [self._nova_view(i) for i in items[:limit]]
        if not request.path.endswith("/detail"):
            page = [{k: i[k] for k in ("id", "name", "links")} for i in page]
        body: dict[str, Any] = {"images": page}
        if len(page) == limit:
            body["images_links"] = [{"rel": "next", "href": f"{self.url}/v2.1/images?marker={page[-1]['id']}"}]
        return web.json_response(body)

    async def _nova_image(self, request: web.Request) -> web.StreamResponse:
        image = self.images.get(request.match_info["id"])
        if image is None:
            return web.json_response({"itemNotFound": {"code": 404, "message": "Image not found."}}, status=404)
        if request.method == "DELETE":
            del self.images[image["id"]]
            return web.Response(status=204)
        return web.json_response({"image": self._nova_view(image)})

    async def _nova_image_metadata(self, request: web.Request) -> web.StreamResponse:
        image = self.images.get(request.match_info["id"])
        if image is None:
            return web.json_response({"itemNotFound": {"code": 404, "message": "Image not found."}}, status=404)
        if request.method in ("PUT", "POST"):
            image.update((await request.json())["metadata"])
        return web.json_response({"metadata": self._nova_view(image)["metadata"]})

    # -- helpers -------------------------------------------------------------------------------
    def add(self, name: str, **fields: Any) -> dict[str, Any]:
        server_id = fields.pop("id", None) or str(uuid.uuid4())
        base = self.url + "/v2.1"
        server = {
            "id": server_id,
            "name": name,
            "status": "ACTIVE",
            "tenant_id": "project-a",
            "created": _stamp(),
            "updated": _stamp(),
            "OS-EXT-AZ:availability_zone": self.az,
            "user_id": "user-a",
            "hostId": "",
            "image": {"id": "70a599e0-31e7-49b7-b260-868f441e862b", "links": []},
            "flavor": {"vcpus": 1, "ram": 512, "disk": 1, "ephemeral": 0, "swap": 0, "original_name": "m1.tiny"},
            "addresses": {},
            "metadata": {},
            "key_name": None,
            "security_groups": [],
            "OS-EXT-STS:vm_state": "active",
            "OS-EXT-STS:task_state": None,
            "OS-EXT-STS:power_state": 1,
            "os-extended-volumes:volumes_attached": [],
            "locked": False,
            "tags": [],
            "links": [
                {"rel": "self", "href": f"{base}/servers/{server_id}"},
                {"rel": "bookmark", "href": f"{self.url}/servers/{server_id}"},
            ],
            **fields,
        }
        self.servers[server_id] = server
        return server

    @staticmethod
    def _fault(status: int, name: str, message: str) -> web.Response:
        return web.json_response({name: {"code": status, "message": message}}, status=status)

    def _echo(self, request: web.Request, body: Any, status: int = 200, **headers: str) -> web.Response:
        version = request.headers.get("X-OpenStack-Nova-API-Version", "2.1")
        headers |= {
            "OpenStack-API-Version": f"compute {version}",
            "X-OpenStack-Nova-API-Version": version,
            "x-openstack-request-id": "req-00000000-0000-4000-8000-000000000000",
            "x-compute-request-id": "req-00000000-0000-4000-8000-000000000000",
        }
        return web.json_response(body, status=status, headers=headers)

    # -- handlers ------------------------------------------------------------------------------
    async def _root(self, _request: web.Request) -> web.StreamResponse:
        low, high = self.versions
        doc = {"id": "v2.1", "status": "CURRENT", "version": high, "min_version": low, "links": []}
        return web.json_response({"versions": [{"id": "v2.0", "version": "", "min_version": ""}, doc]})

    async def _list(self, request: web.Request) -> web.StreamResponse:
        keys = request.query.getall("sort_key", ["created_at", "uuid"])
        dirs = request.query.getall("sort_dir", ["desc"] * len(keys))
        items = list(self.servers.values())
        for key, direction in reversed(list(zip(keys, dirs, strict=False))):
            field = SORT_FIELDS[key]

            def value(server: dict[str, Any], field: str = field) -> str:
                return str(server.get(field) or "").lower()

            items.sort(key=value, reverse=direction == "desc")
        marker = request.query.get("marker")
        after = _after(items, marker)
        if after is None:
            return self._fault(400, "badRequest", f"marker [{marker}] not found")
        limit = int(request.query.get("limit", "1000"))
        page = after[:limit]
        if request.path == "/v2.1/servers":  # Nova's brief list: no sort values in the items
            page = [{"id": s["id"], "name": s["name"], "links": s["links"]} for s in page]
        body: dict[str, Any] = {"servers": page}
        if len(page) == limit and page:
            # As Nova links it: the same list and query, with the last item's id as the marker.
            kept = [(k, v) for k, v in request.query.items() if k != "marker"]
            query = urlencode([*kept, ("marker", page[-1]["id"])])
            body["servers_links"] = [{"rel": "next", "href": f"{self.url}{request.path}?{query}"}]
        return self._echo(request, body)

    async def _create(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.bodies.append(body)
        flavor = body["server"].get("flavorRef")
        if flavor is not None and str(flavor).rsplit("/", 1)[-1] not in self.flavors:
            return self._fault(400, "badRequest", f"Flavor {flavor} could not be found.")
        key_name = body["server"].get("key_name")
        if key_name is not None and key_name not in self.keypairs:
            return self._fault(400, "badRequest", "Invalid key_name provided.")
        server = self.add(body["server"].get("name", ""))
        location = server["links"][0]["href"]
        reply = {"server": {"id": server["id"], "links": server["links"], "adminPass": "x"}}
        return self._echo(request, reply, 202, Location=location)

    async def _show(self, request: web.Request) -> web.StreamResponse:
        server = self.servers.get(request.match_info["id"])
        if server is None:
            return self._fault(404, "itemNotFound", f"Instance {request.match_info['id']} could not be found.")
        return self._echo(request, {"server": server})

    async def _update(self, request: web.Request) -> web.StreamResponse:
        server = self.servers[request.match_info["id"]]
        body = await request.json()
        self.bodies.append(body)
        server.update(body["server"])
        return self._echo(request, {"server": server})

    async def _delete(self, request: web.Request) -> web.StreamResponse:
        if self.servers.pop(request.match_info["id"], None) is None:
            return self._fault(404, "itemNotFound", "not found")
        return web.Response(status=204)

    async def _action(self, request: web.Request) -> web.StreamResponse:
        self.bodies.append(await request.json())
        return web.Response(status=202)

    async def _sub(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.bodies.append(body)
        if request.method == "GET" and request.path in self.canned:
            return await self._canned(request)
        return self._echo(request, {"sub": request.match_info["rest"], "method": request.method})

    async def _zones(self, request: web.Request) -> web.StreamResponse:
        return self._echo(
            request, {"availabilityZoneInfo": [{"zoneName": self.az, "zoneState": {"available": True}, "hosts": None}]}
        )

    async def _zones_detail(self, request: web.Request) -> web.StreamResponse:
        zones = [
            {"zoneName": "internal", "zoneState": {"available": True}, "hosts": {"conductor": {}}},
            {"zoneName": self.az, "zoneState": {"available": True}, "hosts": {f"{self.az}-host": {}}},
        ]
        return self._echo(request, {"availabilityZoneInfo": zones})

    async def _create_flavor(self, request: web.Request) -> web.StreamResponse:
        flavor = (await request.json())["flavor"]
        if flavor.get("id") in self.flavors:
            return self._fault(409, "conflictingRequest", f"Flavor with ID {flavor['id']} already exists.")
        if any(f.get("name") == flavor.get("name") for f in self.flavors.values()):
            return self._fault(409, "conflictingRequest", f"Flavor with name {flavor['name']} already exists.")
        self.flavors[flavor["id"]] = flavor
        self.flavor_tokens.append(request.headers.get("X-Auth-Token", ""))
        return self._echo(request, {"flavor": flavor})

    async def _delete_flavor(self, request: web.Request) -> web.StreamResponse:
        if self.flavors.pop(request.match_info["id"], None) is None:
            return self._fault(404, "itemNotFound", "Flavor not found")
        return web.Response(status=202)

    async def _flavor_list(self, request: web.Request) -> web.StreamResponse:
        return self._echo(request, {"flavors": list(self.flavors.values())})

    async def _flavor_specs(self, request: web.Request) -> web.StreamResponse:
        flavor = self.flavors.get(request.match_info["id"])
        if flavor is None:
            return self._fault(404, "itemNotFound", "Flavor could not be found.")
        specs = flavor.setdefault("extra_specs", {})
        if request.method == "POST":
            specs.update((await request.json())["extra_specs"])
        return self._echo(request, {"extra_specs": specs})

    async def _show_flavor(self, request: web.Request) -> web.StreamResponse:
        flavor = self.flavors.get(request.match_info["id"])
        if flavor is None:
            return self._fault(404, "itemNotFound", "Flavor could not be found.")
        return self._echo(request, {"flavor": flavor})

    async def _create_keypair(self, request: web.Request) -> web.StreamResponse:
        keypair = dict((await request.json())["keypair"])
        if "public_key" not in keypair:
            keypair |= {"public_key": f"ssh-ed25519 AAAA{uuid.uuid4().hex}", "private_key": "PRIVATE"}
        self.keypairs[keypair["name"]] = keypair
        self.keypair_tokens.append(request.headers.get("X-Auth-Token", ""))
        return self._echo(request, {"keypair": keypair})

    async def _show_keypair(self, request: web.Request) -> web.StreamResponse:
        keypair = self.keypairs.get(request.match_info["name"])
        if keypair is None:
            return self._fault(404, "itemNotFound", "Keypair not found")
        return self._echo(request, {"keypair": keypair})

    async def _usage(self, request: web.Request) -> web.StreamResponse:
        """Nova's usage report of this pod's servers (one hour each, one vCPU), in id order; from 2.40
        paged by `limit` and `marker` with links, as Nova pages it."""
        tenant = request.match_info.get("tenant")
        servers = sorted(
            (s for s in self.servers.values() if tenant is None or s.get("tenant_id") == tenant), key=lambda s: s["id"]
        )
        version = tuple(int(p) for p in request.headers.get("X-OpenStack-Nova-API-Version", "2.1").split("."))
        if tenant is not None and "detailed" in request.query:
            return self._fault(400, "badRequest", "Additional properties are not allowed ('detailed' was unexpected)")
        limit, marker = 1000, None
        if version >= (2, 40):
            if not request.query.get("limit", "1").isdigit():
                return self._fault(400, "badRequest", "limit param must be an integer")
            limit = int(request.query.get("limit", 1000)) or 1000
            marker = request.query.get("marker")
        after = _after(servers, marker)
        if after is None:
            return self._fault(400, "badRequest", f"Marker {marker} could not be found.")
        servers = after[:limit]
        usages: dict[str, dict[str, Any]] = {}
        for server in servers:
            usage = usages.setdefault(
                server.get("tenant_id", ""),
                {"tenant_id": server.get("tenant_id", ""), "total_hours": 0, "total_vcpus_usage": 0}
                | {"total_memory_mb_usage": 0, "total_local_gb_usage": 0, "start": "s", "stop": "e"},
            )
            usage["total_hours"] += 1
            usage["total_vcpus_usage"] += 1
            usage.setdefault("server_usages", []).append({"instance_id": server["id"], "name": server["name"]})
        detailed = tenant is not None or request.query.get("detailed") == "1"
        listed = [u if detailed else {k: v for k, v in u.items() if k != "server_usages"} for u in usages.values()]
        key = "tenant_usage" if tenant else "tenant_usages"
        body: dict[str, Any] = {key: (listed[0] if listed else {}) if tenant else listed}
        if version >= (2, 40) and servers and len(servers) == limit:
            body[f"{key}_links"] = [{"href": f"{self.url}/v2.1/os-simple-tenant-usage?marker={servers[-1]['id']}"}]
        return self._echo(request, body)

    async def _operator(self, request: web.Request) -> web.StreamResponse:
        """Hypervisors, services, aggregates and migrations: one of each, named after this pod's AZ."""
        kind, rest = request.match_info["kind"], request.match_info["rest"]
        hypervisor = {"id": f"hv-{self.az}", "hypervisor_hostname": f"{self.az}-host", "vcpus": 4}
        services = [
            {"id": self.service_id, "binary": "nova-compute", "host": f"{self.az}-host", "zone": self.az},
            {"id": f"cond-{self.az}", "binary": "nova-conductor", "host": f"{self.az}-host", "zone": "internal"},
        ]
        if kind == "hypervisors" and rest in ("", "/detail"):
            return self._echo(request, {"hypervisors": [hypervisor]})
        if kind == "hypervisors" and rest == "/statistics":
            return self._echo(request, {"hypervisor_statistics": {"count": 1, "vcpus": 4, "running_vms": 2}})
        if kind == "hypervisors" and rest.startswith(f"/{hypervisor['id']}"):
            return self._echo(request, {"hypervisor": hypervisor})
        if kind == "services" and rest == "":
            return self._echo(request, {"services": services})
        if kind == "services" and rest == f"/{self.service_id}" and request.method == "DELETE":
            return web.Response(status=204)
        if kind == "services" and rest == f"/{self.service_id}" and request.method == "PUT":
            return self._echo(request, {"service": services[0] | (await request.json())})
        hosts = [
            {"host_name": self.host, "service": "compute", "zone": self.az},
            {"host_name": self.host, "service": "conductor", "zone": "internal"},
        ]
        if kind == "hosts" and rest == "":
            return self._echo(request, {"hosts": hosts})
        if kind == "hosts" and rest == f"/{self.host}" and request.method == "GET":
            return self._echo(request, {"host": [{"resource": {"host": self.host, "project": "(total)"}}]})
        if kind == "hosts" and rest == f"/{self.host}" and request.method == "PUT":
            return self._echo(request, {"host": self.host} | (await request.json()))
        number = self.aggregate_id
        aggregate = {"id": number, "name": f"agg-{self.az}", "availability_zone": self.az}
        aggregate["metadata"] = {"availability_zone": self.az}
        if kind == "aggregates" and rest == "":
            return self._echo(request, {"aggregates": [aggregate]})
        if kind == "aggregates" and rest == f"/{number}" and request.method == "GET":
            return self._echo(request, {"aggregate": aggregate})
        if kind == "aggregates" and rest == f"/{number}/action":
            host = (await request.json())["add_host"]["host"]
            return self._echo(request, {"aggregate": aggregate | {"hosts": [host]}})
        if kind == "migrations" and rest == "":
            return self._echo(request, {"migrations": [{"id": 1, "source_compute": f"{self.az}-host"}]})
        return self._fault(404, "itemNotFound", f"{kind}{rest} could not be found.")
