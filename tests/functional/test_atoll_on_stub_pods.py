"""Today's Atoll against 10 stub pods: real atoll-api and atoll-engine processes, the stub cloud in a
third process. Every pod registered through the admin API has its endpoints discovered from the stub
Keystone's catalog and is seen up by the health probe; a pod taken down is seen down, then up again."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest
from stubpods import StubProcess
from stubpods.atoll import AtollOnStubs
from stubpods.identity import SERVICE

pytestmark = pytest.mark.stubpods


@pytest.fixture(scope="module")
def stubs() -> Iterator[StubProcess]:
    with StubProcess(["--pods", "10", "--latency-ms", "5", "--servers-per-pod", "2"]) as process:
        yield process


@pytest.fixture(scope="module")
def atoll(stubs: StubProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AtollOnStubs]:
    workdir: pathlib.Path = tmp_path_factory.mktemp("atoll-on-stubs")
    with AtollOnStubs(workdir, stubs.info, engine={"health_interval": 1, "discovery_interval": 1}) as processes:
        yield processes


def test_every_stub_pod_is_discovered_and_up(stubs: StubProcess, atoll: AtollOnStubs) -> None:
    created = atoll.register_pods()
    assert [p["region_name"] for p in created] == ["RegionOne", *stubs.info["pod_regions"]]
    assert [p["az_name"] for p in created[1:]] == ["az1", "az2"] * 5
    pods = {p["region_name"]: p for p in atoll.wait_pods("up")}
    for name, stub in stubs.info["pods"].items():
        expected = {t: url.replace("%(project_id)s", SERVICE.id) for t, url in stub["endpoints"].items()}
        expected["identity"] = stubs.info["auth_url"]
        assert pods[name]["endpoints"] == expected, name
        assert (pods[name]["status"], pods[name]["status_reason"]) == ("up", "")
    assert pods["RegionOne"]["endpoints"] == {"identity": stubs.info["auth_url"]}


def test_a_stub_pod_going_down_is_seen_down_then_up(stubs: StubProcess, atoll: AtollOnStubs) -> None:
    if not atoll.pods():
        atoll.register_pods()
    atoll.wait_pods("up")
    stubs.set_failure("Pod3", "down")
    try:
        pods = {p["region_name"]: p for p in atoll.wait_pods("down", ["Pod3"])}
        assert "compute: unreachable" in pods["Pod3"]["status_reason"]
        assert pods["Pod4"]["status"] == "up"
    finally:
        stubs.set_failure("Pod3", None)
    atoll.wait_pods("up", ["Pod3"])
