"""Real clients against a real atoll-api process: openstacksdk and the `openstack` CLI find
Atoll's compute endpoint in the real Keystone catalog, discover its versions, negotiate a
microversion, authenticate with real tokens, and boot, show, list and delete servers in
two pods. The pods here are fake Novas on loopback (the real ones: tests/realpods)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.functional.conftest import AtollProcesses
from tests.functional.test_pod_discovery import KeystoneAdmin, wait_for
from tests.unit.gateway.fakenova import FakeNova
from tests.unit.pods.fakepod import serve

pytestmark = [
    pytest.mark.keystone,
    # openstacksdk warns about its own internals on every call.
    pytest.mark.filterwarnings("ignore::openstack.warnings.OpenStackDeprecationWarning"),
    pytest.mark.filterwarnings("ignore::openstack.warnings._RemovedInSDKWarning"),
    pytest.mark.filterwarnings("ignore::openstack.warnings.OpenStackWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


class ThreadedPods:
    """Fake Novas served from an event loop of their own, in a thread."""

    def __init__(self, count: int) -> None:
        self.novas = [FakeNova(az=f"inner-{i}") for i in range(count)]
        self.loop = asyncio.new_event_loop()
        self.stop = asyncio.Event()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._serve(),), daemon=True)
        self.thread.start()
        assert self.ready.wait(30)

    async def _serve(self) -> None:
        self.stop = asyncio.Event()
        async with serve(self.novas[0]), serve(self.novas[1]):
            self.ready.set()
            await self.stop.wait()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(30)
        self.loop.close()


@pytest.fixture
def gateway_region(atoll: AtollProcesses, keystone: Any, tokens: dict[str, str]) -> Iterator[tuple[str, ThreadedPods]]:
    """A region whose compute endpoint is Atoll, over two pods (az1, az2) that are fake Novas."""
    suffix = uuid.uuid4().hex[:6]
    admin = KeystoneAdmin(keystone.auth_url, tokens["admin"])
    pods = ThreadedPods(2)
    registered: list[str] = []
    headers = {"X-Auth-Token": tokens["admin"]}
    try:
        region = f"AtollGw-{suffix}"
        admin.region(region)
        admin.endpoint(region, "compute", f"{atoll.url}/compute/v2.1")
        admin.endpoint(region, "identity", keystone.auth_url)
        for i, nova in enumerate(pods.novas, start=1):
            name = f"GwPod{i}-{suffix}"
            admin.region(name)
            admin.endpoint(name, "compute", nova.url + "/v2.1")
            body = {"pod": {"region_name": name, "az_name": f"az{i}", "pod_az_name": nova.az}}
            created = httpx.post(f"{atoll.url}/v1.0/pods", json=body, headers=headers, timeout=60)
            assert created.status_code == 200, created.text
            registered.append(created.json()["pod"]["pod_id"])

        def all_up() -> bool:
            pods_now = httpx.get(f"{atoll.url}/v1.0/pods", headers=headers).json()["pods"]
            return all(p["status"] == "up" for p in pods_now if p["pod_id"] in registered)

        wait_for(all_up, "both fake pods to be seen up")
        time.sleep(6)  # atoll-api's pod registry refreshes within [gateway] registry_ttl (5 s)
        yield region, pods
    finally:
        for pod_id in registered:
            for routing in httpx.get(f"{atoll.url}/v1.0/routings?pod_id={pod_id}", headers=headers).json()["routings"]:
                httpx.delete(f"{atoll.url}/v1.0/routings/{routing['id']}", headers=headers)
            for binding in httpx.get(f"{atoll.url}/v1.0/bindings?pod_id={pod_id}", headers=headers).json()[
                "pod_bindings"
            ]:
                httpx.delete(f"{atoll.url}/v1.0/bindings/{binding['id']}", headers=headers)
            httpx.delete(f"{atoll.url}/v1.0/pods/{pod_id}", headers=headers)
        pods.close()
        admin.close()


def _connect(keystone: Any, region: str) -> Any:
    import openstack.connection

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openstack.connection.Connection(
            region_name=region, **keystone.credentials("demo"), compute_api_version="2", identity_api_version="3"
        )


def test_openstacksdk_through_atoll(keystone: Any, gateway_region: tuple[str, ThreadedPods]) -> None:
    region, pods = gateway_region
    conn = _connect(keystone, region)
    try:
        assert sorted(z.name for z in conn.compute.availability_zones()) == ["az1", "az2"]
        endpoint = conn.compute.get_endpoint_data()
        assert str(endpoint.max_microversion) in ("(2, 96)", "2.96")
        made = []
        for az in ("az1", "az2", "az2"):
            server = conn.compute.create_server(
                name=f"sdk-{az}-{uuid.uuid4().hex[:4]}",
                flavor_id="1",
                image_id="img",
                networks="none",
                availability_zone=az,
            )
            server = conn.compute.wait_for_server(server, status="ACTIVE", wait=60)
            assert server.availability_zone == az
            made.append(server)
        assert {s["server"]["name"] for s in pods.novas[0].bodies} == {made[0].name}
        assert {s["server"]["name"] for s in pods.novas[1].bodies} == {made[1].name, made[2].name}
        assert [b["server"].get("availability_zone") for b in pods.novas[1].bodies] == ["inner-1", "inner-1"]
        ours = {s.id for s in made}
        paged = [s.id for s in conn.compute.servers(details=True, limit=1) if s.id in ours]
        newest_first = [s.id for s in sorted(made, key=lambda s: (s.created_at, s.id), reverse=True)]
        assert paged == newest_first
        by_name = [s.id for s in conn.compute.servers(limit=2, sort_key="display_name", sort_dir="asc") if s.id in ours]
        assert by_name == [s.id for s in sorted(made, key=lambda s: s.name)]
        for server in made:
            conn.compute.delete_server(server)
        assert not ours & {s.id for s in conn.compute.servers()}
    finally:
        conn.close()


def test_openstack_cli_through_atoll(keystone: Any, gateway_region: tuple[str, ThreadedPods]) -> None:
    region, pods = gateway_region
    cli = [str(keystone.client_venv / "bin" / "openstack"), "--os-region-name", region]
    creds = keystone.credentials("demo")
    env = keystone.cli_env() | {
        "OS_AUTH_URL": creds["auth_url"],
        "OS_USERNAME": creds["username"],
        "OS_PASSWORD": creds["password"],
        "OS_PROJECT_NAME": creds["project_name"],
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_IDENTITY_API_VERSION": "3",
    }
    env.pop("OS_CLIENT_CONFIG_FILE")

    def run(*args: str) -> Any:
        result = subprocess.run(  # noqa: PLW1510 - the return code is asserted
            [*cli, *args, "-f", "json"], capture_output=True, text=True, env=env, timeout=120
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return json.loads(result.stdout) if result.stdout.strip() else None

    zones = run("availability", "zone", "list", "--compute")
    assert sorted(z["Zone Name"] for z in zones) == ["az1", "az2"]
    server = pods.novas[1].add("cli-made")
    shown = run("server", "show", server["id"])
    assert (shown["id"], shown["name"], shown["OS-EXT-AZ:availability_zone"]) == (server["id"], "cli-made", "az2")
    listed = run("server", "list", "--no-name-lookup")
    assert server["id"] in {s["ID"] for s in listed}
