"""How `capture` records: one authenticated call at a time, answers kept with their status, the
headers that matter and the body, the test bed's hosts replaced by `{nova}`-style placeholders."""

from __future__ import annotations

import json
import pathlib
import time
from typing import Any

import httpx

HERE = pathlib.Path(__file__).resolve().parent


RECORDED = HERE / "recorded"


KEPT_HEADERS = (
    "content-type",
    "location",
    "openstack-api-version",
    "x-openstack-nova-api-version",
    "vary",
    "x-openstack-request-id",
    "x-compute-request-id",
    "content-md5",
    "openstack-image-import-methods",
    "openstack-image-store-ids",
)


SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHxQ1U0o3bNVYdM5S5R8R5y1YEDeZ6PVKmXj1m0cG3Ja stubpods-capture"


class Recorder:
    def __init__(self, http: httpx.Client, token: str, endpoints: dict[str, str]) -> None:
        self.http = http
        self.token = token
        self.endpoints = endpoints
        self.records: dict[str, dict[str, Any]] = {}

    def scrub(self, text: str) -> str:
        for service, url in self.endpoints.items():
            root = httpx.URL(url).copy_with(path="/", query=None)
            text = text.replace(str(root).rstrip("/"), "{" + service + "}")
        return text

    def call(
        self,
        name: str,
        service: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        token: str | None = "",
        content: bytes | None = None,
        keep: bool = True,
    ) -> httpx.Response:
        url = self.endpoints[service].rstrip("/") + path if not path.startswith("http") else path
        sent = {"X-Auth-Token": token if token is not None else "", **(headers or {})}
        if token == "":
            sent["X-Auth-Token"] = self.token
        if token is None:
            del sent["X-Auth-Token"]
        response = self.http.request(method, url, json=body, headers=sent, content=content)
        if keep:
            self.records[name] = {
                "request": {
                    "method": method,
                    "url": self.scrub(url),
                    "headers": {k: v for k, v in (headers or {}).items()},
                    "body": body,
                },
                "status": response.status_code,
                "headers": {k: self.scrub(v) for k, v in response.headers.items() if k.lower() in KEPT_HEADERS},
                "body": self.decoded(response),
            }
        return response

    def decoded(self, response: httpx.Response) -> Any:
        if not response.content:
            return None
        if "json" in response.headers.get("content-type", ""):
            return json.loads(self.scrub(response.text))
        return {"text": self.scrub(response.text[:2000])}


def token_for(http: httpx.Client, auth_url: str, creds: dict[str, str]) -> tuple[str, dict[str, Any]]:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": creds["username"], "password": creds["password"], "domain": {"id": "default"}}
                },
            },
            "scope": {"project": {"name": creds["project_name"], "domain": {"id": "default"}}},
        }
    }
    response = http.post(auth_url.rstrip("/") + "/auth/tokens", json=body)
    response.raise_for_status()
    return response.headers["X-Subject-Token"], response.json()


def pod_endpoints(token_body: dict[str, Any], region: str) -> dict[str, str]:
    names = {"compute": "nova", "volumev3": "cinder", "image": "glance", "network": "neutron", "placement": "placement"}
    found = {}
    for entry in token_body["token"]["catalog"]:
        for endpoint in entry["endpoints"]:
            if endpoint["region_id"] == region and endpoint["interface"] == "public" and entry["type"] in names:
                found[names[entry["type"]]] = endpoint["url"]
    return found


def wait_status(rec: Recorder, service: str, path: str, key: str, wanted: tuple[str | None, ...]) -> None:
    """Polls `path` until its `status` is one of `wanted` (None: gone, a 404)."""
    deadline = time.monotonic() + 120
    while True:
        response = rec.call("", service, "GET", path, keep=False)
        status = None if response.status_code == 404 else response.json()[key]["status"]
        if status in wanted:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"capture: gave up waiting for {path} to be {wanted}")
        time.sleep(0.5)


def scrub_token_body(body: dict[str, Any]) -> dict[str, Any]:
    """A token body trimmed to one region's catalog, so the fixture stays small."""
    token = dict(body["token"])
    catalog = []
    for entry in token.get("catalog", []):
        endpoints = [e for e in entry["endpoints"] if e["region_id"] in ("Pod1", "RegionOne")]
        if endpoints:
            catalog.append({**entry, "endpoints": endpoints})
    token["catalog"] = catalog
    return {"token": token}


def write(out: pathlib.Path, name: str, records: dict[str, Any]) -> None:
    (out / f"{name}.json").write_text(json.dumps(records, indent=1, sort_keys=True) + "\n")
    print(f"capture: wrote {out / name}.json ({len(records)} records)")


def paging(rec: Recorder, service: str, path: str, key: str, queries: list[str]) -> dict[str, Any]:
    """The population (default order) and, per query, the ids answered and the links."""
    population = rec.call("population", service, "GET", path, keep=False).json()[key]
    ids = [item["id"] for item in population]
    result: dict[str, Any] = {"collection": key, "path": path, "population": population, "queries": {}}
    for query in queries:
        concrete = query.format(*ids)
        response = rec.call("q:" + query, service, "GET", f"{path}?{concrete}" if concrete else path, keep=False)
        body = response.json()
        links = body.get(f"{key}_links") or ([{"rel": "next", "href": body["next"]}] if "next" in body else [])
        result["queries"][query] = {
            "status": response.status_code,
            "ids": [item["id"] for item in body.get(key, [])],
            "links": [{"rel": link["rel"], "href": rec.scrub(link["href"])} for link in links],
            "body": None if response.status_code < 400 else body,
        }
    return result
