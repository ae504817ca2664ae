"""`python -m stubpods serve` in a subprocess: the endpoints document, failures from the command line,
the control API, and a clean stop."""

from __future__ import annotations

import json
import pathlib

import httpx
import pytest
from stubpods import StubProcess
from stubpods.atoll import token

pytestmark = pytest.mark.stubpods


def test_serve_runs_the_pods_it_was_asked_for_until_stopped(tmp_path: pathlib.Path) -> None:
    endpoints_file = tmp_path / "stubs.json"
    args = ["--pods", "3", "--servers-per-pod", "2", "--latency-ms", "1", "--fail", "Pod2=down"]
    with StubProcess([*args, "--endpoints-file", str(endpoints_file)]) as stubs:
        info = stubs.info
        assert json.loads(endpoints_file.read_text()) == info
        assert info["pod_regions"] == ["Pod1", "Pod2", "Pod3"]
        assert info["pods"]["Pod2"]["failure"] == "down"
        headers = {"X-Auth-Token": token(info["auth_url"], info["credentials"]["demo"])}
        compute = {name: pod["endpoints"]["compute"] for name, pod in info["pods"].items()}
        servers = httpx.get(compute["Pod1"] + "/servers", headers=headers).json()["servers"]
        assert [s["name"] for s in servers] == ["vm-0001-pod1", "vm-0000-pod1"]
        with pytest.raises(httpx.ConnectError):
            httpx.get(compute["Pod2"] + "/servers", headers=headers)

        assert stubs.set_failure("Pod2", None)["failure"] is None
        assert httpx.get(compute["Pod2"] + "/servers", headers=headers).status_code == 200
        assert stubs.set_failure("Pod3", "error:503@compute")["failure"] == "error:503@compute"
        assert httpx.get(compute["Pod3"] + "/servers", headers=headers).status_code == 503
        refused = httpx.put(f"{info['control_url']}/pods/Pod3", json={"failure": "sideways"})
        assert refused.status_code == 400
    with pytest.raises(httpx.ConnectError):
        httpx.get(info["auth_url"])
