"""The delete of a global resource (flavor, keypair) in one pod that missed it: the pod was down
or failed when the delete came through the gateway. Already gone (404) is done."""

from __future__ import annotations

from atoll.jobs.outcomes import Done, Fail, Outcome
from atoll.sync.calls import PodCalls, brief, compute_headers, segment
from atoll.sync.task import SyncTask


async def flavor(calls: PodCalls, task: SyncTask) -> Outcome:
    gone = await calls.call(task.target, "compute", "DELETE", f"/flavors/{segment(task.resource)}")
    if gone.status in (202, 204, 404):
        return Done()
    return Fail(f"Deleting flavor {task.resource} in {task.target}: {gone.status} {brief(gone)}")


async def keypair(calls: PodCalls, task: SyncTask) -> Outcome:
    path = f"/os-keypairs/{segment(task.resource)}"
    params = [("user_id", task.user_id)]
    gone = await calls.call(task.target, "compute", "DELETE", path, params=params, headers=compute_headers("2.10"))
    if gone.status in (202, 204, 404):
        return Done()
    return Fail(f"Deleting keypair {task.resource} in {task.target}: {gone.status} {brief(gone)}")
