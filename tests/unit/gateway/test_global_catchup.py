"""Flavors and keypairs written through the gateway while a pod is down: that pod gets a job
(a copy from the pod that took the write, or a delete) that runs once it is back."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from atoll.db.models import Job
from atoll.types import PodStatus
from tests.conftest import ADMIN, MEMBER
from tests.unit.gateway.conftest import Bed
from tests.unit.gateway.fakecinder import FakeCloud
from tests.unit.gateway.test_volumes import clouds  # noqa: F401  (a fixture)


async def jobs(bed: Bed) -> list[tuple[str, dict[str, Any]]]:
    async with bed.sessions() as session:
        rows = (await session.scalars(sa.select(Job).order_by(Job.created_at))).all()
    return [(j.type, dict(j.resource)) for j in rows]


async def test_a_flavor_made_while_a_pod_is_down_reaches_it_by_a_job(bed: Bed) -> None:
    await bed.set_status("Pod2", PodStatus.DOWN)
    made = await bed.http.post("/compute/v2.1/flavors", json={"flavor": {"name": "f", "id": "9"}}, headers=ADMIN)
    assert made.status_code == 200, made.text
    assert "9" in bed.pods["Pod1"].flavors
    assert "9" not in bed.pods["Pod2"].flavors
    [(kind, resource)] = await jobs(bed)
    assert kind == "sync_flavor"
    assert (resource["resource"], resource["source"], resource["target"], resource["force"]) == (
        "9",
        "Pod1",
        "Pod2",
        True,
    )


async def test_nothing_is_enqueued_when_every_pod_took_the_write(bed: Bed) -> None:
    made = await bed.http.post("/compute/v2.1/flavors", json={"flavor": {"name": "f", "id": "9"}}, headers=ADMIN)
    assert made.status_code == 200
    assert await jobs(bed) == []


async def test_a_flavor_deleted_while_a_pod_is_down_is_deleted_there_by_a_job(bed: Bed) -> None:
    made = await bed.http.post("/compute/v2.1/flavors", json={"flavor": {"name": "f", "id": "9"}}, headers=ADMIN)
    assert made.status_code == 200
    await bed.set_status("Pod2", PodStatus.DOWN)
    gone = await bed.http.delete("/compute/v2.1/flavors/9", headers=ADMIN)
    assert gone.status_code == 202
    assert "9" not in bed.pods["Pod1"].flavors
    assert [(k, r["target"], r["resource"]) for k, r in await jobs(bed)] == [("sync_remove_flavor", "Pod2", "9")]


async def test_a_keypair_made_while_a_pod_is_down_reaches_it_by_a_job(bed: Bed) -> None:
    await bed.set_status("Pod2", PodStatus.DOWN)
    made = await bed.http.post("/compute/v2.1/os-keypairs", json={"keypair": {"name": "k1"}}, headers=MEMBER)
    assert made.status_code == 200, made.text
    [(kind, resource)] = await jobs(bed)
    assert kind == "sync_keypair"
    assert (resource["resource"], resource["target"], resource["user_id"]) == ("k1", "Pod2", "user-a")


async def test_a_volume_type_made_and_deleted_while_a_pod_is_down_reaches_it_by_jobs(clouds: Bed) -> None:  # noqa: F811
    await clouds.set_status("Pod2", PodStatus.DOWN)
    made = await clouds.http.post("/volume/v3/types", json={"volume_type": {"name": "gold"}}, headers=ADMIN)
    assert made.status_code == 200, made.text
    gold = made.json()["volume_type"]["id"]
    specs = await clouds.http.post(
        f"/volume/v3/types/{gold}/extra_specs", json={"extra_specs": {"k": "v"}}, headers=ADMIN
    )
    assert specs.status_code == 200
    gone = await clouds.http.delete(f"/volume/v3/types/{gold}", headers=ADMIN)
    assert gone.status_code == 202
    assert sorted((k, r["target"], r["resource"]) for k, r in await jobs(clouds)) == [
        ("sync_remove_volume_type", "Pod2", "gold"),
        ("sync_volume_type", "Pod2", "gold"),
        ("sync_volume_type", "Pod2", "gold"),
    ]  # one ordering key: run in the order written


async def test_a_volume_type_missing_in_an_up_pod_is_copied_there_by_a_job(clouds: Bed) -> None:  # noqa: F811
    made = await clouds.http.post("/volume/v3/types", json={"volume_type": {"name": "gold"}}, headers=ADMIN)
    gold = made.json()["volume_type"]["id"]
    two = clouds.pods["Pod2"]
    assert isinstance(two, FakeCloud)
    found = two.type_named("gold")
    assert found is not None
    two.types.pop(found["id"])  # deleted behind Atoll's back
    specs = await clouds.http.post(
        f"/volume/v3/types/{gold}/extra_specs", json={"extra_specs": {"k": "v"}}, headers=ADMIN
    )
    assert specs.status_code == 200
    assert [(k, r["target"]) for k, r in await jobs(clouds)] == [("sync_volume_type", "Pod2")]


async def test_a_qos_spec_and_a_group_type_made_while_a_pod_is_down_reach_it_by_jobs(clouds: Bed) -> None:  # noqa: F811
    await clouds.set_status("Pod2", PodStatus.DOWN)
    qos = await clouds.http.post("/volume/v3/qos-specs", json={"qos_specs": {"name": "fast"}}, headers=ADMIN)
    assert qos.status_code == 200, qos.text
    version = {"OpenStack-API-Version": "volume 3.11", **ADMIN}
    group = await clouds.http.post("/volume/v3/group_types", json={"group_type": {"name": "cg"}}, headers=version)
    assert group.status_code in (200, 202), group.text
    assert sorted((k, r["target"], r["resource"]) for k, r in await jobs(clouds)) == [
        ("sync_group_type", "Pod2", "cg"),
        ("sync_qos_specs", "Pod2", "fast"),
    ]
