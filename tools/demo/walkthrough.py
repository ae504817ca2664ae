"""The user's walk-through: the unmodified `openstack` CLI pointed at RegionOne, which is Atoll.

Run by scripts/demo after the pods tour. Every step prints the command a user would
type and what the CLI printed, so the output reads like a terminal session. Nothing
here talks to a pod directly except the comparison at the end, which shows the same
server as its pod knows it (the pod's own AZ name and ids), next to Atoll's view.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

REGION = "RegionOne"
COMPUTE = ("--os-compute-api-version", "2.37")
"""2.37 lets a server boot with no network (`--nic none`) until networks are realized in pods."""


class Cli:
    def __init__(self, state: dict[str, Any], cloud: str = "testbed-demo") -> None:
        self.binary = os.path.join(state["client_venv"], "bin", "openstack")
        self.env = {**os.environ, "OS_CLIENT_CONFIG_FILE": state["clouds_yaml"]}
        self.cloud = cloud

    def run(self, *args: str, region: str = REGION, show: bool = True, check: bool = True) -> str:
        """Run `openstack ARGS` as the user would and print the command and its output."""
        shown = " ".join(shlex.quote(arg) for arg in args)
        if show:
            print(f"\n$ openstack --os-region-name {region} {shown}")
        command = [self.binary, "--os-cloud", self.cloud, "--os-region-name", region, *args]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=600, check=False)
        if show:
            print((done.stdout + done.stderr).rstrip() or "(nothing)")
        if check and done.returncode != 0:
            sys.exit(f"demo: `openstack {shown}` failed: {done.stderr.strip()}")
        return done.stdout

    def value(self, *args: str, region: str = REGION) -> dict[str, Any]:
        """The JSON of a show/create command, run quietly."""
        return dict(json.loads(self.run(*args, "-f", "json", region=region, show=False)))


def wait_status(cli: Cli, server: str, status: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while cli.value(*COMPUTE, "server", "show", server)["status"] != status:
        if time.monotonic() > deadline:
            sys.exit(f"demo: {server} did not become {status} within {seconds:.0f}s")
        time.sleep(1)


@contextmanager
def servers(cli: Cli, names: Sequence[tuple[str, str]], flavor: str, image: str) -> Iterator[list[str]]:
    made: list[str] = []
    try:
        for name, az in names:
            cli.run(*COMPUTE, "server", "create", "--availability-zone", az, "--flavor", flavor,
                    "--image", image, "--nic", "none", "--wait", "-c", "id", "-c", "name", "-c", "status",
                    "-c", "OS-EXT-AZ:availability_zone", name)  # fmt: skip
            made.append(name)
        yield made
    finally:
        for name in made:
            cli.run("server", "delete", "--wait", name, check=False)


def wait_volume(cli: Cli, volume: str, status: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while (now := cli.value("volume", "show", volume)["status"]) != status:
        if now == "error" or time.monotonic() > deadline:
            sys.exit(f"demo: volume {volume} is {now}, not {status}")
        time.sleep(1)


@contextmanager
def network(cli: Cli, name: str, cidr: str) -> Iterator[str]:
    """A network and subnet made in the central Neutron (RegionOne's network endpoint)."""
    cli.run("network", "create", "-c", "id", "-c", "name", "-c", "status", name)
    try:
        cli.run("subnet", "create", "--network", name, "--subnet-range", cidr,
                "-c", "id", "-c", "cidr", "-c", "gateway_ip", f"{name}-subnet")  # fmt: skip
        yield name
    finally:
        cli.run("subnet", "delete", f"{name}-subnet", check=False, show=False)
        cli.run("network", "delete", name, check=False)


def volumes_and_networks(cli: Cli, state: dict[str, Any], suffix: str) -> None:
    """A server on a central network in az2, a volume made in az2 and attached to it."""
    flavor, image = state["flavor"]["name"], state["image"]["name"]
    pod = state["pod_regions"][1]
    net = f"demo-net-{suffix}"
    print("\n== Networks and volumes ==")
    print("Networks live in the central Neutron; Atoll realizes one in a pod when a server there uses it:")
    with network(cli, net, "10.42.0.0/24"):
        server = f"demo-net-vm-{suffix}"
        cli.run("server", "create", "--availability-zone", "az2", "--flavor", flavor, "--image", image,
                "--network", net, "--wait", "-c", "name", "-c", "status", "-c", "addresses", server)  # fmt: skip
        try:
            print("\nThe server's port is the central one (same IP and MAC in the pod):")
            cli.run("port", "list", "--server", server, "-c", "ID", "-c", "Fixed IP Addresses", "-c", "MAC Address")
            print(f"\n{pod} holds a copy of the network, named after the central network's id:")
            top = cli.value("network", "show", net)["id"]
            cli.run("network", "list", "--name", top, "-c", "ID", "-c", "Name", region=pod)
            print("\nA volume in the same availability zone, attached to the server:")
            volume = f"demo-vol-{suffix}"
            cli.run("volume", "create", "--size", "1", "--availability-zone", "az2",
                    "-c", "id", "-c", "availability_zone", "-c", "status", volume)  # fmt: skip
            try:
                wait_volume(cli, volume, "available")
                cli.run("server", "add", "volume", server, volume)
                wait_volume(cli, volume, "in-use")
                cli.run("volume", "list", "--name", volume)
                cli.run("server", "remove", "volume", server, volume)
                wait_volume(cli, volume, "available")
                cli.run("volume", "show", volume, "-c", "name", "-c", "status", "-c", "attachments")
            finally:
                cli.run("volume", "delete", volume, check=False)
        finally:
            cli.run("server", "delete", "--wait", server, check=False)


def walk(state: dict[str, Any]) -> None:
    cli = Cli(state)
    suffix = uuid.uuid4().hex[:4]
    print("\n== The user's view: one region, RegionOne, served by Atoll ==")
    cli.run("catalog", "show", "compute", "-c", "endpoints")
    print("\nAvailability zones are made of pods; users never see the pod names:")
    cli.run("availability", "zone", "list", "--compute")
    cli.run("flavor", "list")
    cli.run("image", "list")
    flavor, image = state["flavor"]["name"], state["image"]["name"]
    print("\nOne server in each availability zone (Atoll schedules each to a pod of that AZ):")
    names = [(f"demo-az1-{suffix}", "az1"), (f"demo-az2-{suffix}", "az2")]
    with servers(cli, names, flavor, image):
        print("\nOne list across both pods, merged and sorted as Nova sorts it:")
        cli.run(*COMPUTE, "server", "list", "--name", f"demo-.*-{suffix}", "--sort-column", "Name")
        cli.run(*COMPUTE, "server", "list", "--name", f"demo-.*-{suffix}", "--limit", "1")
        first = cli.value(*COMPUTE, "server", "show", names[0][0])
        print(f"\nThe same server as its pod knows it (--os-region-name {state['pod_regions'][0]}):")
        cli.run(*COMPUTE, "server", "show", first["id"], "-c", "id", "-c", "OS-EXT-AZ:availability_zone",
                "-c", "status", region=state["pod_regions"][0])  # fmt: skip
        print("\nActions go to the server's pod:")
        cli.run(*COMPUTE, "server", "stop", names[0][0])
        wait_status(cli, names[0][0], "SHUTOFF")
        cli.run(*COMPUTE, "server", "show", names[0][0], "-c", "name", "-c", "status")
    print("\nDeleted through Atoll; nothing is left in either pod:")
    cli.run(*COMPUTE, "server", "list", "--name", f"demo-.*-{suffix}")
    volumes_and_networks(cli, state, suffix)
