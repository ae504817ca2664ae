"""The sync job types: a parent `sync` per request, and one child type per resource type.

A child's ordering key is (type, target, resource): two syncs of one resource to one
pod run one after the other, in the order they were asked for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from atoll.jobs.declarations import JobRun, JobType, RetryPolicy
from atoll.jobs.outcomes import Outcome, TemporaryError
from atoll.sync import flavor, group_type, image, keypair, metadefs, qos_specs, secgroup, volume_type
from atoll.sync.calls import PodCalls
from atoll.sync.shared import SharedReads
from atoll.sync.task import SyncTask

PARENT = "sync"
CHILD_RESOURCE = ("resource_type", "resource", "source", "target", "force", "user_id")
Sync = Callable[[PodCalls, SyncTask], Awaitable[Outcome]]
SYNCS: Mapping[str, Sync] = {
    "keypair": keypair.sync,
    "flavor": flavor.sync,
    "security_group": secgroup.sync,
    "image": image.sync,
}
RESOURCE_TYPES = tuple(SYNCS)
CATCH_UPS: Mapping[str, Sync] = {
    "volume_type": volume_type.sync,
    "qos_specs": qos_specs.sync,
    "group_type": group_type.sync,
    "metadef_namespace": metadefs.sync,
}
"""Copies only the gateway asks for (a pod that missed a write), not offered by os-sync."""


def child_type_name(resource_type: str) -> str:
    return f"sync_{resource_type}"


def task_of(run: JobRun, reads: SharedReads | None = None) -> SyncTask:
    r = run.resource
    return SyncTask(
        resource_type=str(r["resource_type"]),
        resource=str(r["resource"]),
        source=str(r["source"]),
        target=str(r["target"]),
        force=bool(r["force"]),
        project_id=str(run.project_id),
        user_id=str(r["user_id"]),
        progress=dict(run.progress),
        checkpoint=run.checkpoint,
        request=run.parent_id,
        attempt=run.attempt,
        reads=reads,
    )


def handler(
    calls: PodCalls | None, sync: Sync, reads: SharedReads | None = None
) -> Callable[[JobRun], Awaitable[Outcome]]:
    async def handle(run: JobRun) -> Outcome:
        if calls is None:
            raise TemporaryError("This process has no [service_auth] credentials to reach the pods.", 60.0)
        return await sync(calls, task_of(run, reads))

    return handle


def job_types(calls: PodCalls | None, retry: RetryPolicy | None = None) -> list[JobType]:
    """The parent type and the child types; `calls` None in a process that only enqueues."""
    parent = JobType(PARENT, ("request",), description="One os-sync request; its status is its parts'.")
    reads = SharedReads()
    children = [
        JobType(
            child_type_name(name),
            CHILD_RESOURCE,
            handler(calls, sync, reads),
            key_template="sync:{resource_type}:{target}:{resource}",
            retry=retry,
            description=f"Copy one {name} from its source pod to one target pod.",
        )
        for name, sync in {**SYNCS, **CATCH_UPS}.items()
    ]
    return [parent, *children]
