"""Jobs that bring a pod that missed a write to a global resource up to date.

The gateway writes a flavor, keypair, volume type, QoS spec or group type to every up pod at
once; each pod that missed it (down, unreachable, or answering 5xx) gets a job: a copy from the
pod that took the write (`sync_flavor`, `sync_keypair`, `sync_volume_type`, `sync_qos_specs`,
`sync_group_type`, with force), or a delete (`sync_remove_<type>`: the sync policies'
own). The jobs retry while the pod is down, share one ordering key per (resource, pod) so a
delete runs after the copy before it, and are listed in `/v1.0/jobs`.
"""

from __future__ import annotations

import logging

from atoll.gateway.deps import Gateway
from atoll.gateway.http import GatewayRequest
from atoll.jobs.enqueue import NewJob
from atoll.pods.info import PodInfo
from atoll.sync.handlers import child_type_name
from atoll.sync.policy_jobs import remove_type_name

LOG = logging.getLogger(__name__)


async def catch_up(
    gw: Gateway,
    request: GatewayRequest,
    resource_type: str,
    resource: str,
    source: PodInfo,
    missed: list[PodInfo],
    *,
    delete: bool = False,
    user_id: str | None = None,
    project_id: str | None = None,
) -> None:
    if not missed:
        return
    name = remove_type_name(resource_type) if delete else child_type_name(resource_type)
    job_type = gw.jobs.get(name) if gw.jobs is not None else None
    if job_type is None or gw.enqueue is None:
        LOG.warning("%s %s missed pods %s and no job can catch them up", resource_type, resource, missed)
        return
    context = request.context
    for pod in missed:
        body = {
            "resource_type": resource_type,
            "resource": resource,
            "source": source.name,
            "target": pod.name,
            "force": True,
            "user_id": user_id or context.user_id or "",
        }
        job_id = await gw.enqueue(NewJob(job_type, project_id or context.project_id or "", body))
        LOG.info(
            "%s %s: pod %s missed a write; job %s (%s) catches it up", resource_type, resource, pod.name, job_id, name
        )
