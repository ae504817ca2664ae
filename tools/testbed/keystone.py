"""A minimal Keystone v3 admin client (urllib): idempotent "ensure" calls for the test bed's setup."""

from __future__ import annotations

from typing import Any

from testbed.util import TestbedError, http


class Keystone:
    def __init__(self, auth_url: str, user: str, password: str, project: str) -> None:
        self.url = auth_url.rstrip("/")
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {"name": user, "domain": {"id": "default"}, "password": password}},
                },
                "scope": {"project": {"name": project, "domain": {"id": "default"}}},
            }
        }
        r = http("POST", self.url + "/auth/tokens", body)
        if r.status != 201:
            raise TestbedError(f"Keystone auth as {user}: {r.status} {r.body[:300]!r}")
        self.token: str = r.headers["X-Subject-Token"]

    def req(self, method: str, path: str, body: object = None, ok: tuple[int, ...] = (200, 201, 204)) -> Any:
        r = http(method, self.url + path, body, token=self.token)
        if r.status not in ok:
            raise TestbedError(f"Keystone {method} {path}: {r.status} {r.body[:300]!r}")
        return r.json() if r.body else None

    def ensure(self, collection: str, name: str, extra: dict[str, str]) -> str:
        """The id of the project/role ``name``, created if missing."""
        found = self.req("GET", f"/{collection}?name={name}")[collection]
        if found:
            return str(found[0]["id"])
        key = collection[:-1]
        return str(self.req("POST", f"/{collection}", {key: dict(extra, name=name)})[key]["id"])

    def ensure_user(self, name: str, password: str, project_id: str) -> str:
        """The id of user ``name``, created if missing; its password set to ``password`` if it is not.

        Only if it is not: Keystone revokes every token of a user whose password is written, the same
        password too (a revocation event, to the second). Every service of a running bed would lose its
        cached token on each ``up``, and one it got again within that second is revoked as well: the
        service then answers 401 to calls it should serve (seen in CI: Glance refusing an upload right
        after ``up --atoll``)."""
        found = self.req("GET", f"/users?name={name}")["users"]
        if found:
            uid = str(found[0]["id"])
            if not self.authenticates(uid, password):
                self.req("PATCH", f"/users/{uid}", {"user": {"password": password}})
            return uid
        body = {"user": {"name": name, "password": password, "domain_id": "default", "default_project_id": project_id}}
        return str(self.req("POST", "/users", body)["user"]["id"])

    def authenticates(self, user_id: str, password: str) -> bool:
        """Whether the user's password is ``password`` (an unscoped token is issued for it)."""
        identity = {"methods": ["password"], "password": {"user": {"id": user_id, "password": password}}}
        return http("POST", self.url + "/auth/tokens", {"auth": {"identity": identity}}).status == 201

    def grant(self, project_id: str, user_id: str, role_id: str) -> None:
        self.req("PUT", f"/projects/{project_id}/users/{user_id}/roles/{role_id}")

    def ensure_region(self, name: str) -> None:
        r = http("GET", f"{self.url}/regions/{name}", token=self.token)
        if r.status == 404:
            self.req("POST", "/regions", {"region": {"id": name}})

    def service_id(self, stype: str, name: str) -> str:
        """The id of the service of type ``stype`` named ``name``, created if missing."""
        for svc in self.req("GET", f"/services?type={stype}")["services"]:
            if svc["name"] == name:
                return str(svc["id"])
        created = self.req("POST", "/services", {"service": {"type": stype, "name": name, "enabled": True}})
        return str(created["service"]["id"])

    def ensure_endpoints(self, service_id: str, region: str, url: str) -> None:
        """Public, internal and admin endpoints of a service in a region, all at ``url``."""
        have = self.req("GET", f"/endpoints?service_id={service_id}&region_id={region}")["endpoints"]
        by_if = {e["interface"]: e for e in have}
        for interface in ("public", "internal", "admin"):
            ep = by_if.get(interface)
            if ep is None:
                endpoint = {"service_id": service_id, "region_id": region, "interface": interface, "url": url}
                self.req("POST", "/endpoints", {"endpoint": endpoint})
            elif ep["url"] != url:
                self.req("PATCH", f"/endpoints/{ep['id']}", {"endpoint": {"url": url}})
