"""OpenStack's Tempest against the test bed: through Atoll (RegionOne) and against one pod directly.

`scripts/tempest [--smoke] [--regex R] [--region R ...]` runs the same Tempest API tests
against each region, one after the other, and prints the counts side by side, then every
test whose outcome differs between the regions: a difference is a bug of Atoll until
explained. Tempest (its own cached venv), a workspace per region and its tempest.conf live
under ``<state>/tempest``. The configuration is read off each region, not guessed: its
microversion range from the version documents, its API extensions from the services.

Servers are booted without networks (`[auth] create_isolated_networks = false`) until Atoll
realizes top networks in pods; features the fake drivers do not have are off (see
../shared/reference/openstack-testbed.md, "Tempest against this project's test bed").
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from testbed import venvs
from testbed.layout import Layout
from testbed.util import TestbedError, http, say

FULL = [
    r"tempest\.api\.compute\.flavors",
    r"tempest\.api\.compute\.keypairs",
    r"tempest\.api\.compute\.servers\.test_list_server_filters",
    r"tempest\.api\.compute\.servers\.test_list_servers_negative",
    r"tempest\.api\.compute\.servers\.test_servers\b",
    r"tempest\.api\.compute\.servers\.test_server_actions",
    r"tempest\.api\.compute\.servers\.test_server_metadata",
    r"tempest\.api\.compute\.servers\.test_server_tags",
    r"tempest\.api\.compute\.servers\.test_servers_negative",
    r"tempest\.api\.compute\.volumes",  # attach, and Nova's volume proxy (os-volumes, os-snapshots; before 2.36)
    r"tempest\.api\.compute\.test_versions",
    r"tempest\.api\.compute\.limits",
    r"tempest\.api\.compute\.images",  # createImage, and Nova's image API (before 2.36)
    r"tempest\.api\.compute\.admin\.test_migrations",  # resize, revert, os-migrations
    r"tempest\.api\.volume",
    r"tempest\.api\.image\.v2",
    r"tempest\.api\.network\.test_networks\b",
    r"tempest\.api\.network\.test_ports\b",
    r"tempest\.api\.network\.test_security_groups\b",
]
SMOKE = [
    r"tempest\.api\.compute\.flavors\.test_flavors\b",
    r"tempest\.api\.compute\.keypairs\.test_keypairs\b",
    r"tempest\.api\.compute\.servers\.test_list_servers_negative",
    r"tempest\.api\.compute\.test_versions",
    r"tempest\.api\.volume\.test_versions",
    r"tempest\.api\.volume\.test_volumes_list",
    r"tempest\.api\.image\.v2\.test_versions",
    r"tempest\.api\.network\.test_versions",
]
EXCLUDE = [
    r"web_download",  # Glance's web-download import needs DNS and the internet
    r"test_rebuild_server_with_volume_attached",  # insists on SSH validation
    r"\[.*\bslow\b.*\]",
]
STATUS = {"success": "passed", "fail": "failed", "failure": "failed", "skip": "skipped"}
FLAVORS = (("tempest-1", 128), ("tempest-2", 192))


class Region:
    """What Tempest needs to know of one region, read off its catalog and its services."""

    def __init__(self, tb: Tempest, name: str) -> None:
        self.tb, self.name = tb, name
        self.urls = {
            entry["Type"]: url
            for entry in tb.catalog
            for endpoint in entry["Endpoints"]
            if endpoint["region"] == name and endpoint["interface"] == "public"
            for url in [endpoint["url"]]
        }
        missing = {"compute", "volumev3", "image", "network"} - set(self.urls)
        if missing:
            raise TestbedError(f"{name} has no {', '.join(sorted(missing))} endpoint in the catalog")

    def microversions(self, service: str) -> tuple[str, str]:
        """The (min, max) microversion of the service's version document (`{"version"}` or `{"versions"}`)."""
        url = self.urls[service].replace("%(project_id)s", "").replace("$(project_id)s", "").rstrip("/")
        url = url.removesuffix("/" + self.tb.project_id) + "/"  # the catalog shows Cinder's URL with the project
        response = http("GET", url, token=self.tb.token)
        if response.status not in (200, 300):
            raise TestbedError(f"{self.name}: {url} answered {response.status}")
        document = response.json()
        found = [document["version"]] if "version" in document else document.get("versions", [])
        current = [v for v in found if v.get("status") == "CURRENT"] or found
        if not current:
            raise TestbedError(f"{self.name}: {url} shows no version")
        return current[0].get("min_version") or "", current[0].get("version") or ""

    def extensions(self, service: str, path: str) -> str:
        base = (
            self.urls[service]
            .replace("%(project_id)s", self.tb.project_id)
            .replace("$(project_id)s", self.tb.project_id)
        )
        if service == "volumev3" and not base.rstrip("/").endswith(self.tb.project_id):
            base = base.rstrip("/") + "/" + self.tb.project_id
        response = http("GET", base.rstrip("/") + path, token=self.tb.token)
        if response.status != 200:  # Tempest then skips what needs an extension: the report shows it
            say(f"tempest: {self.name}: {service} extensions answered {response.status}; none assumed")
            return ""
        return ",".join(sorted(e["alias"] for e in response.json()["extensions"]))


class Tempest:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        saved = layout.saved()
        self.state = saved
        if not saved.get("auth_url"):
            raise TestbedError("the test bed is not up: scripts/testbed up --atoll")
        self.root = layout.state / "tempest"
        self.client = layout.state / "venvs" / "client" / "bin" / "openstack"
        self.env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(layout.state / "clouds.yaml")}
        admin = saved["credentials"]["admin"]
        self.admin = admin
        issued = json.loads(self.openstack("token", "issue", "-f", "json"))
        self.token, self.project_id = issued["id"], issued["project_id"]
        self.catalog: list[dict[str, Any]] = json.loads(self.openstack("catalog", "list", "-f", "json"))

    def openstack(self, *args: str, region: str | None = None, check: bool = True) -> str:
        command = [str(self.client), "--os-cloud", self.admin["cloud"]]
        if region:
            command += ["--os-region-name", region]
        done = subprocess.run([*command, *args], env=self.env, capture_output=True, text=True, check=False)
        if check and done.returncode != 0:
            raise TestbedError(f"openstack {' '.join(args)}: {done.stderr.strip()[-500:]}")
        return done.stdout

    def flavors(self, region: str) -> list[str]:
        """Two small flavors Tempest boots with (`flavor_ref_alt` must differ), made if the region has not."""
        for name, ram in FLAVORS:
            if self.openstack("flavor", "show", name, region=region, check=False):
                continue
            self.openstack(
                "flavor", "create", "--id", name, "--ram", str(ram), "--disk", "1", "--vcpus", "1", name, region=region
            )
        return [name for name, _ in FLAVORS]

    def conf(self, region: Region, image: str, flavors: Sequence[str]) -> str:
        compute_min, compute_max = region.microversions("compute")
        volume_min, volume_max = region.microversions("volumev3")
        a = self.admin
        return f"""[DEFAULT]
log_file = tempest.log

[auth]
admin_username = {a["username"]}
admin_password = {a["password"]}
admin_project_name = {a["project_name"]}
admin_domain_name = Default
use_dynamic_credentials = true
create_isolated_networks = false

[identity]
uri_v3 = {self.state["auth_url"].rstrip("/").removesuffix("/v3")}/v3
auth_version = v3
region = {region.name}

[identity-feature-enabled]
api_v2 = false

[service_available]
nova = true
cinder = true
glance = true
neutron = true
swift = false
horizon = false

[compute]
image_ref = {image}
image_ref_alt = {image}
flavor_ref = {flavors[0]}
flavor_ref_alt = {flavors[1]}
min_microversion = {compute_min}
max_microversion = {compute_max}
build_timeout = 180

[compute-feature-enabled]
snapshot = true
console_output = false
resize = true
cold_migration = false
live_migration = false
volume_multiattach = false
vnc_console = false
spice_console = false
serial_console = false
rescue = true
shelve = true
change_password = true
attach_encrypted_volume = false
interface_attach = false

[volume]
disk_format = raw
# What the pods' Cinder backend (Cinder's fake driver) reports: a volume type with these extra specs
# is one the scheduler can place.
storage_protocol = fake
vendor_name = Open Source
min_microversion = {volume_min}
max_microversion = {volume_max}
build_timeout = 180

[volume-feature-enabled]
backup = false
api_extensions = {region.extensions("volumev3", "/extensions")}

[network]
public_network_id =

[network-feature-enabled]
api_extensions = {region.extensions("network", "/v2.0/extensions")}

[image-feature-enabled]
import_image = false

[validation]
run_validation = false
"""

    def run(self, region_name: str, include: Sequence[str], concurrency: int) -> dict[str, str]:
        """Every test's outcome (success, fail, skip) in that region."""
        tempest = venvs.build("tempest", self.layout.logdir / "venv-tempest.log") / "bin"
        region = Region(self, region_name)
        work = self.root / region_name
        if not (work / "etc").exists():
            work.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(work, ignore_errors=True)
            subprocess.run(
                [str(tempest / "tempest"), "init", "--workspace-path", str(self.root / "workspace.yaml"), str(work)],
                check=True,
                capture_output=True,
            )
        conf = self.conf(region, self.state["image"]["id"], self.flavors(region_name))
        (work / "etc" / "tempest.conf").write_text(conf)
        say(f"tempest: {region_name}: running ({work})")
        with open(work / "run.log", "w") as log:
            subprocess.run(
                [
                    str(tempest / "tempest"),
                    "run",
                    "--regex",
                    "|".join(f"({r})" for r in include),
                    "--exclude-regex",
                    "|".join(f"({r})" for r in EXCLUDE),
                    "--concurrency",
                    str(concurrency),
                ],
                cwd=work,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
            )
        stream = subprocess.run(
            [str(tempest / "stestr"), "last", "--subunit"], cwd=work, capture_output=True, check=False
        ).stdout
        converted = subprocess.run([str(tempest / "subunit2csv")], input=stream, capture_output=True, check=False)
        if converted.returncode != 0 and not converted.stdout:
            raise TestbedError(f"{region_name}: no results from Tempest; see {work / 'run.log'}")
        rows = converted.stdout.decode()
        outcomes: dict[str, str] = {}
        for row in csv.DictReader(io.StringIO(rows)):
            test = row["test"].split("[", 1)[0].strip()
            if test.startswith("setUpClass (") or test.startswith("tearDownClass ("):  # a whole class
                fixture, _, cls = test.partition(" (")
                test = f"{cls.rstrip(')')}.{fixture}"
            if test.startswith("tempest."):
                outcomes[test] = STATUS.get(row["status"], row["status"])
        (work / "outcomes.json").write_text(json.dumps(outcomes, indent=1, sort_keys=True))
        return outcomes

    def failures(self, region_name: str, limit: int = 20000) -> str:
        """The last run's failures in that region with their tracebacks (`stestr failing`), for a
        report: a class whose setup failed shows only as tests that did not run."""
        tempest = venvs.build("tempest", self.layout.logdir / "venv-tempest.log") / "bin"
        shown = subprocess.run(
            [str(tempest / "stestr"), "failing"], cwd=self.root / region_name, capture_output=True, check=False
        )
        return (shown.stdout + shown.stderr).decode(errors="replace")[-limit:]


def counts(outcomes: dict[str, str]) -> dict[str, int]:
    return {kind: sum(s == kind for s in outcomes.values()) for kind in ("passed", "failed", "skipped")}


def report(results: dict[str, dict[str, str]]) -> list[str]:
    """Print the counts side by side and every test whose outcome differs; return the differing tests."""
    names = list(results)
    print(f"\n{'':<9}" + "".join(f"{n:>12}" for n in names))
    for kind in ("passed", "failed", "skipped"):
        print(f"{kind:<9}" + "".join(f"{counts(results[n])[kind]:>12}" for n in names))
    tests = sorted(set().union(*results.values()))
    differing = [t for t in tests if len({results[n].get(t, "-") for n in names}) > 1]
    if differing:
        print("\nOutcomes that differ:")
        for test in differing:
            print("  " + "  ".join(f"{n}={results[n].get(test, '-')}" for n in names) + f"  {test}")
    return differing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/tempest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="the small set CI runs")
    parser.add_argument("--regex", action="append", help="tests to run instead of the default set (repeatable)")
    parser.add_argument(
        "--region", action="append", help="regions to run against (default: RegionOne, i.e. Atoll, then Pod1)"
    )
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args(argv)
    include = args.regex or (SMOKE if args.smoke else FULL)
    try:
        tb = Tempest(Layout.load())
        results = {region: tb.run(region, include, args.concurrency) for region in args.region or ["RegionOne", "Pod1"]}
    except TestbedError as error:
        say(f"ERROR: {error}")
        return 1
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
