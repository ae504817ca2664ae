"""Pod endpoints come from the real Keystone catalog; the engine's probe follows the pod's health."""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.functional.conftest import AtollProcesses, free_port
from tests.unit.pods.versions_docs import GLANCE, NOVA

pytestmark = pytest.mark.keystone


class _Answer(http.server.BaseHTTPRequestHandler):
    document: dict[str, Any] = {}

    def do_GET(self) -> None:
        if self.path != "/":
            self.send_error(404)
            return
        body = json.dumps(self.document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


class FakeService:
    """An HTTP server on loopback standing in for a pod's API: its version document at its root."""

    def __init__(self, document: dict[str, Any], path: str) -> None:
        handler = type("Answer", (_Answer,), {"document": document})
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class KeystoneAdmin:
    def __init__(self, auth_url: str, token: str) -> None:
        self.http = httpx.Client(base_url=auth_url, headers={"X-Auth-Token": token}, timeout=30)
        self.cleanup: list[str] = []

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(path, json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def region(self, name: str) -> None:
        self.post("/regions", {"region": {"id": name}})
        self.cleanup.append(f"/regions/{name}")

    def endpoint(self, region: str, service_type: str, url: str) -> str:
        service = self.post("/services", {"service": {"type": service_type, "name": f"func-{uuid.uuid4().hex[:6]}"}})
        self.cleanup.append(f"/services/{service['service']['id']}")
        endpoint = self.post(
            "/endpoints",
            {
                "endpoint": {
                    "service_id": service["service"]["id"],
                    "interface": "public",
                    "region_id": region,
                    "url": url,
                }
            },
        )
        self.cleanup.append(f"/endpoints/{endpoint['endpoint']['id']}")
        return str(endpoint["endpoint"]["id"])

    def close(self) -> None:
        for path in reversed(self.cleanup):
            self.http.delete(path)
        self.http.close()


@pytest.fixture
def keystone_admin(keystone: Any, tokens: dict[str, str]) -> Iterator[KeystoneAdmin]:
    admin = KeystoneAdmin(keystone.auth_url, tokens["admin"])
    yield admin
    admin.close()


def wait_for(predicate: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"gave up waiting for {what}")


def test_endpoints_discovered_and_health_followed(
    atoll: AtollProcesses, keystone_admin: KeystoneAdmin, tokens: dict[str, str]
) -> None:
    region = f"AtollFunc-{uuid.uuid4().hex[:6]}"
    service = FakeService(NOVA, "/v2.1")
    glance = FakeService(GLANCE, "")
    closed = f"http://127.0.0.1:{free_port()}/v2"
    keystone_admin.region(region)
    keystone_admin.endpoint(region, "compute", service.url)
    image_endpoint = keystone_admin.endpoint(region, "image", closed)
    admin = {"X-Auth-Token": tokens["admin"]}
    created = httpx.post(
        f"{atoll.url}/v1.0/pods", json={"pod": {"region_name": region, "az_name": "az-func"}}, headers=admin
    )
    assert created.status_code == 200, created.text
    pod = created.json()["pod"]
    url = f"{atoll.url}/v1.0/pods/{pod['pod_id']}"

    def current() -> dict[str, Any]:
        response = httpx.get(url, headers=admin)
        assert response.status_code == 200, response.text
        shown: dict[str, Any] = response.json()["pod"]
        return shown

    try:
        # The reply does not wait for the pod: discovery and the probe follow in the background.
        assert (pod["status"], pod["endpoints"]) == ("unknown", {})
        wait_for(lambda: current()["status"] == "down", "the pod's first probe")
        probed = current()
        assert probed["endpoints"] == {"compute": service.url, "image": closed}
        assert "image: unreachable" in probed["status_reason"]
        assert probed["last_seen_at"] is not None  # compute answered

        # A wrong endpoint (Nova's URL given as the image service) is told apart from a down one.
        wrong = keystone_admin.http.patch(f"/endpoints/{image_endpoint}", json={"endpoint": {"url": service.url}})
        assert wrong.status_code == 200
        wait_for(lambda: "misconfigured" in current()["status_reason"], "the wrong endpoint to be reported")
        assert current()["status_reason"] == (
            f"image: misconfigured endpoint: {service.url.removesuffix('v2.1')} serves compute's version document,"
            " not image's"
        )

        # The operator fixes the catalog; the engine notices without being told.
        moved = keystone_admin.http.patch(f"/endpoints/{image_endpoint}", json={"endpoint": {"url": glance.url}})
        assert moved.status_code == 200
        wait_for(lambda: current()["status"] == "up", "the pod to be seen up")
        assert current()["endpoints"]["image"] == glance.url
        assert current()["status_reason"] == ""

        service.stop()
        glance.stop()
        wait_for(lambda: current()["status"] == "down", "the pod to be seen down")
        reason = current()["status_reason"]
        assert "compute: unreachable" in reason
        assert "image: unreachable" in reason
    finally:
        httpx.delete(url, headers=admin)
        service.stop()
        glance.stop()
