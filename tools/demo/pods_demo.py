"""The multi-region demo: Atoll in front of the test bed's pods, watching their health.

Run by scripts/demo once `scripts/testbed up --atoll` has started everything.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time
from typing import Any

import httpx
import walkthrough  # tools/demo, next to this script
from keystoneauth1 import session
from keystoneauth1.identity import v3

ROOT = pathlib.Path(__file__).resolve().parents[2]


def token(auth_url: str, creds: dict[str, str]) -> str:
    auth = v3.Password(
        auth_url=auth_url,
        username=creds["username"],
        password=creds["password"],
        project_name=creds["project_name"],
        user_domain_id="default",
        project_domain_id="default",
    )
    return str(session.Session(auth=auth).get_token())


def show(pods: list[dict[str, Any]]) -> None:
    print(f"  {'region':<11} {'az':<5} {'status':<7} {'services':<52} reason")
    for pod in pods:
        services = ",".join(sorted(pod["endpoints"])) or "-"
        az = pod["az_name"] or "(top)"
        print(f"  {pod['region_name']:<11} {az:<5} {pod['status']:<7} {services:<52} {pod['status_reason'][:60]}")


def wait_for(http: httpx.Client, region: str, status: str, seconds: float = 120) -> list[dict[str, Any]]:
    deadline = time.monotonic() + seconds
    while True:
        pods: list[dict[str, Any]] = http.get("/v1.0/pods").json()["pods"]
        if any(p["region_name"] == region and p["status"] == status for p in pods):
            return pods
        if time.monotonic() > deadline:
            sys.exit(f"demo: {region} was not seen {status} within {seconds:.0f}s")
        time.sleep(1)


def main() -> None:
    state_dir = pathlib.Path(os.environ.get("ATOLL_TESTBED_DIR") or ".testbed")
    state_dir = state_dir if state_dir.is_absolute() else ROOT / state_dir
    state = json.loads((state_dir / "testbed.json").read_text())
    admin = token(state["auth_url"], state["credentials"]["admin"])
    with httpx.Client(base_url=state["atoll_url"], headers={"X-Auth-Token": admin}, timeout=30) as http:
        print(f"\nAtoll at {state['atoll_url']} fronts these regions (GET /v1.0/pods):")
        pods = http.get("/v1.0/pods").json()["pods"]
        for pod in pods:
            if pod["status"] != "up":
                pods = wait_for(http, pod["region_name"], "up")
        show(pods)
        victim = state["pod_regions"][-1]
        for action, status, seen in (("stop-pod", "down", "seen down"), ("start-pod", "up", "back up")):
            print(f"\nscripts/testbed {action} {victim} ...")
            subprocess.run([str(ROOT / "scripts" / "testbed"), action, victim], check=True, capture_output=True)
            started = time.monotonic()
            pods = wait_for(http, victim, status)
            print(f"atoll-engine's health probe: {victim} {seen} after {time.monotonic() - started:.1f}s:")
            show(pods)
    walkthrough.walk(state)
    print(
        "\nEverything is still running. Try:\n"
        f"  export OS_CLIENT_CONFIG_FILE={state['clouds_yaml']}\n"
        f"  {state['client_venv']}/bin/openstack --os-cloud testbed-demo --os-region-name RegionOne server list\n"
        f'  curl -s -H "X-Auth-Token: $({state["client_venv"]}/bin/openstack --os-cloud testbed-admin '
        f'token issue -f value -c id)" {state["atoll_url"]}/v1.0/pods\n'
        "Stop it all with: scripts/testbed down"
    )


if __name__ == "__main__":
    main()
