"""Wire format of /v1.0/jobs (Tricircle's job body, plus what Atoll's jobs also know)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from atoll.api.schemas.common import Link, Name, Reply, Strict, Timestamp
from atoll.db.models import Job as JobRow
from atoll.types import JobStatus

TypeName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
ResourceKey = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
ResourceValue = Annotated[
    str,
    StringConstraints(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"),
]


class JobCreate(Strict):
    type: TypeName = Field(description="A job type of GET /v1.0/jobs/schemas that admins may create.")
    project_id: Name = Field(description="The project the job works for.")
    resource: dict[ResourceKey, ResourceValue] = Field(
        max_length=32, description="Exactly the resource keys of the job type, each with an id."
    )


class JobCreateRequest(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "job": {
                        "type": "port_delete",
                        "project_id": "d01246bc5792477d9062a76332b7514a",
                        "resource": {"pod_id": "0eb59465-5132-4f57-af01-a9e306158b86", "port_id": "8498b903"},
                    }
                }
            ]
        }
    )

    job: JobCreate


class JobRedoRequest(Strict):
    """PUT /v1.0/jobs/{id} takes no body (Tricircle's clients send none) or an empty object."""


class Job(Reply):
    id: str
    project_id: str
    type: str
    timestamp: Timestamp = Field(description="When the job was created.")
    status: JobStatus
    resource: dict[str, Any]
    parent_id: str | None = Field(description="The job this one is part of; its status derives from its parts'.")
    reason: str = Field(description="Why the job failed (FAIL), or why its last attempt did (NEW).")
    attempts: int = Field(description="Attempts made since the job was created or last redone.")
    progress: dict[str, Any] = Field(description="The job's last checkpoint; a parent counts its parts by status.")
    next_run_at: Timestamp | None = Field(description="When a NEW job is due; null otherwise.")
    created_at: Timestamp
    updated_at: Timestamp | None


def job_view(row: JobRow) -> Job:
    return Job(
        id=row.id,
        project_id=row.project_id,
        type=row.type,
        timestamp=row.created_at,
        status=JobStatus(row.status),
        resource=dict(row.resource),
        parent_id=row.parent_id,
        reason=row.reason,
        attempts=row.attempts,
        progress=dict(row.progress or {}),
        next_run_at=row.run_at if row.status == JobStatus.NEW else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class JobReply(Reply):
    job: Job


class JobsReply(Reply):
    jobs: list[Job]
    jobs_links: list[Link] = Field(default_factory=list, description="A `next` link while more jobs follow.")


class JobSchema(Reply):
    type: str
    resource: list[str]


class JobSchemasReply(Reply):
    schemas: list[JobSchema]
