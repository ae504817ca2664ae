"""A sync policy on the real test bed (`up --atoll`; the bed's atoll.conf checks policies every 5 s):
a flavor with extra specs kept in every pod. Changed or deleted in Pod2 with Pod2's own Nova, it is
reported drifted or missing and made the same again; while Pod2 is stopped it is unreachable, and
what the policy asked for meanwhile reaches it once it is back. Deleting the policy with
remove_copies deletes the copies in Pod2, never the source's."""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from keystoneauth1 import adapter, session
from keystoneauth1.identity import v3

from tests.realpods.test_sync import Caller

pytestmark = [pytest.mark.realpods]

SOURCE, TARGET = "Pod1", "Pod2"
WAIT = 90.0
SPECS = {"hw:cpu_policy": "shared", "atoll:probe": "one"}
NOVA = {"X-OpenStack-Nova-API-Version": "2.55"}


@pytest.fixture(scope="module")
def admin(atoll: Any) -> Caller:
    return Caller(atoll, "testbed-admin")


@functools.cache
def _session(auth_url: str, username: str, password: str, project_name: str) -> session.Session:
    auth = v3.Password(
        auth_url=auth_url,
        username=username,
        password=password,
        project_name=project_name,
        user_domain_name="Default",
        project_domain_name="Default",
    )
    return session.Session(auth=auth)


def nova(atoll: Any, region: str) -> adapter.Adapter:
    """The pod's own Nova (keystoneauth, the bed's admin credentials), not Atoll."""
    creds = atoll.credentials("admin")
    keystone = _session(creds["auth_url"], creds["username"], creds["password"], creds["project_name"])
    return adapter.Adapter(keystone, service_type="compute", region_name=region, raise_exc=False)


def flavor_of(atoll: Any, region: str, flavor_id: str) -> dict[str, Any] | None:
    compute = nova(atoll, region)
    found = compute.get(f"/flavors/{flavor_id}", headers=NOVA)
    if found.status_code == 404:
        return None
    assert found.status_code == 200, found.text
    flavor: dict[str, Any] = found.json()["flavor"]
    flavor["extra_specs"] = compute.get(f"/flavors/{flavor_id}/os-extra_specs", headers=NOVA).json()["extra_specs"]
    return flavor


def same(one: dict[str, Any] | None, two: dict[str, Any] | None) -> bool:
    keys = ("id", "name", "ram", "vcpus", "disk", "description", "extra_specs", "os-flavor-access:is_public")
    return one is not None and two is not None and all(one[k] == two[k] for k in keys)


@pytest.fixture
def flavors(atoll: Any) -> Iterator[list[str]]:
    """Two flavors made in Pod1 only (with Pod1's own Nova), deleted from every pod afterwards."""
    compute = nova(atoll, SOURCE)
    made = []
    for _ in range(2):
        flavor_id = str(uuid.uuid4())
        body = {"flavor": {"id": flavor_id, "name": f"policy-{flavor_id[:8]}", "ram": 128, "vcpus": 1, "disk": 1}}
        assert compute.post("/flavors", json=body, headers=NOVA).status_code == 200
        specs = compute.post(f"/flavors/{flavor_id}/os-extra_specs", json={"extra_specs": SPECS}, headers=NOVA)
        assert specs.status_code == 200, specs.text
        made.append(flavor_id)
    yield made
    for region in (SOURCE, TARGET):
        for flavor_id in made:
            nova(atoll, region).delete(f"/flavors/{flavor_id}", headers=NOVA)


@pytest.fixture
def policies(admin: Caller) -> Iterator[list[str]]:
    """Ids of the policies a test made; any left are deleted (copies kept) afterwards."""
    made: list[str] = []
    yield made
    for policy_id in made:
        admin.call("DELETE", f"/v1.0/sync-policies/{policy_id}")


def wait_for(admin: Caller, policy_id: str, done: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """Poll the policy until `done(Pod2's state)`; every Pod2 state seen on the way."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + WAIT
    while True:
        shown = admin.call("GET", f"/v1.0/sync-policies/{policy_id}")
        assert shown.status_code == 200, shown.text
        pod = next(p for p in shown.json()["sync_policy"]["pods"] if p["pod"] == TARGET)
        seen.append(pod)
        if done(pod):
            return seen
        assert time.monotonic() < deadline, f"Pod2 never reached the state wanted; seen: {seen[-3:]}"
        time.sleep(0.5)


def in_sync(pod: dict[str, Any]) -> bool:
    return bool(pod["state"] == "in_sync")


def test_a_flavor_kept_in_every_pod_is_repaired_and_reaches_a_pod_that_was_down(
    atoll: Any,
    admin: Caller,
    flavors: list[str],
    policies: list[str],
) -> None:
    first, second = flavors
    body = {"resource_type": "flavor", "resources": [first], "source": SOURCE, "target": {"all": True}}
    made = admin.call("POST", "/v1.0/sync-policies", {"sync_policy": {"name": "keep-flavor", **body}})
    assert made.status_code == 200, made.text
    policy_id = made.json()["sync_policy"]["id"]
    policies.append(policy_id)
    filled_by = wait_for(admin, policy_id, in_sync)[-1]["job_id"]
    assert filled_by
    assert same(flavor_of(atoll, TARGET, first), flavor_of(atoll, SOURCE, first))

    # An extra spec changed behind Atoll's back, in Pod2 itself: found drifted, made the same again.
    changed = nova(atoll, TARGET).post(
        f"/flavors/{first}/os-extra_specs", json={"extra_specs": {"atoll:probe": "two"}}, headers=NOVA
    )
    assert changed.status_code == 200, changed.text
    seen = wait_for(admin, policy_id, lambda p: in_sync(p) and p["job_id"] != filled_by)
    drifted = [r for p in seen for r in p["resources"] if r["state"] == "drifted"]
    assert drifted, seen
    assert any("atoll:probe" in d for d in drifted[0]["differences"]), drifted[0]
    assert same(flavor_of(atoll, TARGET, first), flavor_of(atoll, SOURCE, first))

    # Deleted in Pod2: found missing, made again under the same id.
    repaired_by = seen[-1]["job_id"]
    assert nova(atoll, TARGET).delete(f"/flavors/{first}", headers=NOVA).status_code == 202
    seen = wait_for(admin, policy_id, lambda p: in_sync(p) and p["job_id"] != repaired_by)
    assert any(r["state"] == "missing" for p in seen for r in p["resources"]), seen
    assert same(flavor_of(atoll, TARGET, first), flavor_of(atoll, SOURCE, first))

    # Pod2 stopped: unreachable since then; the flavor added to the policy meanwhile reaches it once back.
    atoll.stop_pod(TARGET)
    try:
        down = wait_for(admin, policy_id, lambda p: p["state"] == "unreachable")[-1]
        assert down["unreachable_since"]
        more = admin.call("PUT", f"/v1.0/sync-policies/{policy_id}", {"sync_policy": {"resources": [first, second]}})
        assert more.status_code == 200, more.text
        time.sleep(6)  # a check or more while it is down
        still = wait_for(admin, policy_id, lambda p: p["state"] == "unreachable")[-1]
        assert still["unreachable_since"] == down["unreachable_since"]
    finally:
        atoll.start_pod(TARGET)
    wait_for(admin, policy_id, lambda p: in_sync(p) and [r["state"] for r in p["resources"]] == ["in_sync"] * 2)
    assert same(flavor_of(atoll, TARGET, second), flavor_of(atoll, SOURCE, second))

    # Deleted with remove_copies: the copies in Pod2 go, Pod1's flavors stay.
    removed = admin.call("DELETE", f"/v1.0/sync-policies/{policy_id}?remove_copies=true")
    assert removed.status_code == 200, removed.text
    job_id = removed.json()["job_id"]
    deadline = time.monotonic() + WAIT
    while (job := admin.call("GET", f"/v1.0/jobs/{job_id}").json()["job"])["status"] not in ("SUCCESS", "FAIL"):
        assert time.monotonic() < deadline, job
        time.sleep(0.5)
    assert job["status"] == "SUCCESS", job
    assert flavor_of(atoll, TARGET, first) is None
    assert flavor_of(atoll, TARGET, second) is None
    assert flavor_of(atoll, SOURCE, first) is not None
    assert flavor_of(atoll, SOURCE, second) is not None
    assert admin.call("GET", f"/v1.0/sync-policies/{policy_id}").status_code == 404
