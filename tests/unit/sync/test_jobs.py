"""A sync request run by the real job worker against fake pods: each target's own result, and the
request's status derived from all of them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from atoll.core.clock import SystemClock
from atoll.db.models import utcnow
from atoll.engine.service import job_types
from atoll.jobs.enqueue import enqueue
from atoll.jobs.worker import Worker, WorkerSettings
from atoll.pods.pool import PodClients
from atoll.sync import request
from atoll.sync.calls import PodCalls
from tests.unit.jobs.helpers import Sessions, row, rows
from tests.unit.pods.fakepod import FakePod, serve
from tests.unit.sync.test_handlers import FLAVOR, Nova, Pods, pod_info, token

FAST = WorkerSettings(concurrency=4, poll_interval=0.05, lease_time=30)


@pytest.fixture
async def clients() -> AsyncIterator[PodClients]:
    pool = PodClients()
    yield pool
    await pool.close()


async def test_one_target_failing_never_hides_another_s_success(sessions: Sessions, clients: PodClients) -> None:
    one, two, three = FakePod(), FakePod(), FakePod()
    Nova(one, {"f-1": FLAVOR}, {"f-1": {"hw:cpu_policy": "shared"}})
    fresh = Nova(two, {}, {})
    differing = Nova(three, {"f-1": {**FLAVOR, "vcpus": 4}}, {"f-1": {}})
    async with serve(one), serve(two), serve(three):
        pods = Pods(pod_info("Pod1", one.url), pod_info("Pod2", two.url), pod_info("Pod3", three.url))
        types = job_types(PodCalls(pods, clients, token))
        item = request.SyncItem("flavor", ["small"], ["Pod1"], ["Pod2", "Pod3"])
        async with sessions.begin() as session:
            parent = await enqueue(
                session, request.build(types, "project-a", "admin", [item], {"Pod1", "Pod2", "Pod3"}), now=utcnow()
            )
        worker = Worker(sessions, types, SystemClock(), settings=FAST)
        for _ in range(20):
            await worker.step()
            await worker.drain()
            if (await row(sessions, parent)).status in ("SUCCESS", "FAIL"):
                break
    children = {r.resource["target"]: r for r in await rows(sessions) if r.parent_id == parent}
    assert children["Pod2"].status == "SUCCESS"
    assert children["Pod3"].status == "FAIL"
    assert "vcpus: 4 != 1" in children["Pod3"].reason
    assert (await row(sessions, parent)).status == "FAIL"
    assert fresh.flavors["f-1"]["vcpus"] == 1
    assert fresh.specs["f-1"] == {"hw:cpu_policy": "shared"}
    assert differing.flavors["f-1"]["vcpus"] == 4
