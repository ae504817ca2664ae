"""The reconcile of sync policies against fake Novas on loopback, with the real job worker: drift and
absence found and repaired, one repair per pod at a time, down pods, pods added later, two engines,
failed repairs waiting, and removing the copies (never the source's)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web

from atoll.core.clock import FakeClock
from atoll.db.models import Job, SyncPolicy, SyncPolicyPod
from atoll.engine.service import job_types
from atoll.jobs.declarations import JobTypes
from atoll.jobs.enqueue import enqueue
from atoll.jobs.worker import Worker, WorkerSettings
from atoll.pods.info import PodInfo
from atoll.pods.pool import PodClients
from atoll.sync import policy_jobs
from atoll.sync.calls import PodCalls
from atoll.sync.reconcile import Reconciler
from atoll.types import PodStatus
from tests.unit.jobs.helpers import Sessions
from tests.unit.pods.fakepod import FakePod, serve
from tests.unit.sync.test_handlers import FLAVOR, Nova, Pods, pod_info, token

FAST = WorkerSettings(concurrency=4, poll_interval=0.05, lease_time=30)
SPECS = {"hw:cpu_policy": "shared", "atoll:probe": "one"}
INTERVAL = 60.0


class FullNova(Nova):
    """Nova with the calls a repair of extra specs makes, and a switch to fail flavor creates."""

    def __init__(self, pod: FakePod, flavors: dict[str, dict[str, Any]], specs: dict[str, dict[str, str]]) -> None:
        super().__init__(pod, flavors, specs)
        self.refuse_creates = False
        pod.route("DELETE", "/compute/v2.1/flavors/{fid}/os-extra_specs/{key}", self.delete_spec)

    async def delete_spec(self, r: web.Request) -> web.StreamResponse:
        self.specs[r.match_info["fid"]].pop(r.match_info["key"], None)
        return web.Response(status=200)

    async def create(self, r: web.Request) -> web.StreamResponse:
        if self.refuse_creates:
            return web.json_response({"forbidden": {"message": "Policy doesn't allow it"}}, status=403)
        return await super().create(r)


class Cloud:
    """Four fake pods; Pod1 is every policy's source."""

    def __init__(self) -> None:
        self.fakes = [FakePod() for _ in range(4)]
        self.novas = [
            FullNova(self.fakes[0], {"f-1": FLAVOR}, {"f-1": SPECS}),
            FullNova(self.fakes[1], {}, {}),
            FullNova(self.fakes[2], {"f-1": dict(FLAVOR)}, {"f-1": {**SPECS, "atoll:probe": "two", "x": "y"}}),
            FullNova(self.fakes[3], {}, {}),
        ]
        self.infos: list[PodInfo] = []
        self.pods = Pods()

    def register(self, count: int) -> None:
        self.infos = [pod_info(f"Pod{i + 1}", self.fakes[i].url) for i in range(count)]
        self.pods.pods = tuple(self.infos)

    def status(self, index: int, status: PodStatus) -> None:
        info = self.infos[index]
        self.infos[index] = PodInfo(info.pod_id, info.region_name, info.az_name, "", False, info.endpoints, status)
        self.pods.pods = tuple(self.infos)


@pytest.fixture
async def cloud() -> AsyncIterator[Cloud]:
    made = Cloud()
    async with serve(made.fakes[0]), serve(made.fakes[1]), serve(made.fakes[2]), serve(made.fakes[3]):
        made.register(3)
        yield made


@pytest.fixture
async def calls(cloud: Cloud) -> AsyncIterator[PodCalls]:
    pool = PodClients()
    yield PodCalls(cloud.pods, pool, token)
    await pool.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime.now(dt.UTC))


def reconciler(sessions: Sessions, calls: PodCalls, types: JobTypes, clock: FakeClock) -> Reconciler:
    return Reconciler(sessions, calls, types, clock, interval=INTERVAL)


async def add_policy(sessions: Sessions, clock: FakeClock, **values: Any) -> str:
    row = SyncPolicy(
        **{
            "name": "",
            "project_id": "admin-project",
            "user_id": "admin",
            "resource_type": "flavor",
            "resources": ["small"],
            "source": "Pod1",
            "target": {"all": True},
            "next_check_at": clock.now(),
            "source_error": "",
            "created_at": clock.now(),
            **values,
        }
    )
    async with sessions.begin() as session:
        session.add(row)
    return row.id


async def states(sessions: Sessions, policy_id: str) -> dict[str, SyncPolicyPod]:
    async with sessions() as session:
        rows = await session.scalars(sa.select(SyncPolicyPod).where(SyncPolicyPod.policy_id == policy_id))
        return {r.pod: r for r in rows.all()}


async def jobs(sessions: Sessions) -> list[Job]:
    async with sessions() as session:
        return list((await session.scalars(sa.select(Job).order_by(Job.seq))).all())


async def run_jobs(sessions: Sessions, types: JobTypes, clock: FakeClock) -> None:
    worker = Worker(sessions, types, clock, settings=FAST)
    for _ in range(20):
        if not await worker.step():
            break
        await worker.drain()


async def test_a_missing_and_a_drifted_flavor_are_repaired_then_in_sync(
    sessions: Sessions, calls: PodCalls, cloud: Cloud, clock: FakeClock
) -> None:
    types = job_types(calls)
    policy_id = await add_policy(sessions, clock)
    assert await reconciler(sessions, calls, types, clock).run_once() == 1
    found = await states(sessions, policy_id)
    assert {n: r.state for n, r in found.items()} == {"Pod2": "syncing", "Pod3": "syncing"}
    assert found["Pod2"].resources["small"]["state"] == "missing"
    drifted = found["Pod3"].resources["small"]
    assert drifted["state"] == "drifted"
    assert "extra_specs: " in drifted["differences"][0]
    parents = [j for j in await jobs(sessions) if j.parent_id is None]
    assert sorted((j.type, j.resource["target"], j.resource["action"]) for j in parents) == [
        ("sync_policy", "Pod2", "repair"),
        ("sync_policy", "Pod3", "repair"),
    ]
    children = [j for j in await jobs(sessions) if j.parent_id]
    assert {(j.type, j.resource["force"], j.resource["resource"]) for j in children} == {("sync_flavor", True, "small")}

    await run_jobs(sessions, types, clock)
    assert cloud.novas[1].specs["f-1"] == SPECS
    assert cloud.novas[2].specs["f-1"] == SPECS
    assert cloud.novas[0].specs["f-1"] == SPECS  # the source is never changed

    clock.advance(INTERVAL)
    assert await reconciler(sessions, calls, types, clock).run_once() == 1
    found = await states(sessions, policy_id)
    assert {n: (r.state, r.resources["small"]["state"]) for n, r in found.items()} == {
        "Pod2": ("in_sync", "in_sync"),
        "Pod3": ("in_sync", "in_sync"),
    }
    assert len([j for j in await jobs(sessions) if j.parent_id is None]) == 2


async def test_a_policy_is_checked_once_per_interval_and_never_twice_at_once(
    sessions: Sessions, calls: PodCalls, clock: FakeClock
) -> None:
    types = job_types(calls)
    await add_policy(sessions, clock)
    one, two = reconciler(sessions, calls, types, clock), reconciler(sessions, calls, types, clock)
    taken = await asyncio.gather(one.run_once(), two.run_once())
    assert sorted(taken) == [0, 1]
    assert await one.run_once() == 0  # not due again before the interval
    clock.advance(INTERVAL)
    assert await one.run_once() == 1
    # the repairs of the first check are still queued: no second repair job for either pod
    assert len([j for j in await jobs(sessions) if j.parent_id is None]) == 2


async def test_a_down_pod_is_unreachable_since_it_was_seen_down_and_is_filled_when_back(
    sessions: Sessions, calls: PodCalls, cloud: Cloud, clock: FakeClock
) -> None:
    types = job_types(calls)
    cloud.status(1, PodStatus.DOWN)
    policy_id = await add_policy(sessions, clock, target={"pods": ["Pod2"]})
    first_seen = clock.now()
    await reconciler(sessions, calls, types, clock).run_once()
    clock.advance(INTERVAL)
    await reconciler(sessions, calls, types, clock).run_once()
    found = (await states(sessions, policy_id))["Pod2"]
    assert found.state == "unreachable"
    assert found.unreachable_since is not None
    assert abs(found.unreachable_since - first_seen) < dt.timedelta(seconds=1)  # the first check's, kept
    assert "down" in found.reason
    assert await jobs(sessions) == []

    cloud.status(1, PodStatus.UP)
    clock.advance(INTERVAL)
    await reconciler(sessions, calls, types, clock).run_once()
    assert (await states(sessions, policy_id))["Pod2"].state == "syncing"
    assert (await states(sessions, policy_id))["Pod2"].unreachable_since is None
    await run_jobs(sessions, types, clock)
    assert cloud.novas[1].specs["f-1"] == SPECS


async def test_a_pod_that_does_not_answer_is_unreachable_too(
    sessions: Sessions, calls: PodCalls, cloud: Cloud, clock: FakeClock
) -> None:
    await cloud.fakes[1].server.close()  # type: ignore[union-attr]
    policy_id = await add_policy(sessions, clock, target={"pods": ["Pod2"]})
    await reconciler(sessions, calls, job_types(calls), clock).run_once()
    found = (await states(sessions, policy_id))["Pod2"]
    assert found.state == "unreachable"
    assert "did not answer" in found.reason


async def test_a_pod_registered_later_receives_what_the_policy_keeps(
    sessions: Sessions, calls: PodCalls, cloud: Cloud, clock: FakeClock
) -> None:
    types = job_types(calls)
    policy_id = await add_policy(sessions, clock)
    await reconciler(sessions, calls, types, clock).run_once()
    await run_jobs(sessions, types, clock)
    cloud.register(4)
    clock.advance(INTERVAL)
    await reconciler(sessions, calls, types, clock).run_once()
    assert (await states(sessions, policy_id))["Pod4"].resources["small"]["state"] == "missing"
    await run_jobs(sessions, types, clock)
    assert cloud.novas[3].flavors["f-1"]["ram"] == FLAVOR["ram"]
    assert cloud.novas[3].specs["f-1"] == SPECS


async def test_a_source_without_the_resource_is_reported_and_nothing_is_enqueued(
    sessions: Sessions, calls: PodCalls, clock: FakeClock
) -> None:
    policy_id = await add_policy(sessions, clock, resources=["nope"], target={"pods": ["Pod2"]})
    await reconciler(sessions, calls, job_types(calls), clock).run_once()
    found = (await states(sessions, policy_id))["Pod2"]
    assert found.state == "error"
    assert "does not exist in Pod1" in found.resources["nope"]["reason"]
    assert await jobs(sessions) == []


async def test_a_failed_repair_is_tried_again_only_after_its_delay(
    sessions: Sessions, calls: PodCalls, cloud: Cloud, clock: FakeClock
) -> None:
    types = job_types(calls)
    cloud.novas[1].refuse_creates = True
    policy_id = await add_policy(sessions, clock, target={"pods": ["Pod2"]})
    check = reconciler(sessions, calls, types, clock)
    await check.run_once()
    await run_jobs(sessions, types, clock)
    clock.advance(INTERVAL)
    await check.run_once()
    found = (await states(sessions, policy_id))["Pod2"]
    assert found.state == "missing"
    assert "The last repair" in found.reason
    assert "403" in found.reason
    assert len([j for j in await jobs(sessions) if j.parent_id is None]) == 1
    clock.advance(INTERVAL)  # the delay after one failure (two intervals) has passed
    cloud.novas[1].refuse_creates = False
    await check.run_once()
    assert (await states(sessions, policy_id))["Pod2"].state == "syncing"
    await run_jobs(sessions, types, clock)
    assert cloud.novas[1].specs["f-1"] == SPECS


async def test_removing_the_copies_deletes_them_in_the_targets_only(
    sessions: Sessions, calls: PodCalls, cloud: Cloud, clock: FakeClock
) -> None:
    types = job_types(calls)
    policy_id = await add_policy(sessions, clock)
    await reconciler(sessions, calls, types, clock).run_once()
    await run_jobs(sessions, types, clock)
    async with sessions.begin() as session:
        row = await session.get(SyncPolicy, policy_id)
        assert row is not None
        removal = policy_jobs.removal(types, row, ["Pod1", "Pod2", "Pod3"], row.resources)
        assert removal is not None
        await enqueue(session, removal, now=clock.now())
    await run_jobs(sessions, types, clock)
    assert "f-1" in cloud.novas[0].flavors
    assert cloud.novas[1].flavors == {}
    assert cloud.novas[2].flavors == {}
    assert {j.status for j in await jobs(sessions)} == {"SUCCESS"}


async def test_two_checks_of_one_policy_at_once_enqueue_one_repair_per_pod(
    sessions: Sessions, calls: PodCalls, clock: FakeClock
) -> None:
    types = job_types(calls)
    policy_id = await add_policy(sessions, clock)
    one, two = reconciler(sessions, calls, types, clock), reconciler(sessions, calls, types, clock)
    # Past the claim (as two engines that both believe they lead): the pod rows' job ids decide.
    results = await asyncio.gather(one.check(policy_id), two.check(policy_id), return_exceptions=True)
    assert len([r for r in results if isinstance(r, Exception)]) <= 1, results  # SQLite: one writer may give up
    parents = [j for j in await jobs(sessions) if j.parent_id is None]
    assert sorted(j.resource["target"] for j in parents) == ["Pod2", "Pod3"]
    found = await states(sessions, policy_id)
    assert {found[j.resource["target"]].job_id for j in parents} == {j.id for j in parents}


async def test_a_policy_under_repair_is_checked_again_soon(
    sessions: Sessions, calls: PodCalls, cloud: Cloud, clock: FakeClock
) -> None:
    types = job_types(calls)
    policy_id = await add_policy(sessions, clock, target={"pods": ["Pod2"]})
    check = reconciler(sessions, calls, types, clock)
    await check.run_once()
    await run_jobs(sessions, types, clock)
    clock.advance(5)
    assert await check.run_once() == 1
    assert (await states(sessions, policy_id))["Pod2"].state == "in_sync"
    clock.advance(5)
    assert await check.run_once() == 0  # in sync: the next check is a whole interval later
