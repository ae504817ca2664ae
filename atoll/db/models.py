"""Database models. Wire formats live in `atoll.api.schemas`, not here."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """Stores naive UTC (portable across SQLite, PostgreSQL and MySQL), returns aware UTC."""

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_uuid() -> str:
    return str(uuid.uuid4())


NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), onupdate=utcnow)


class Pod(TimestampMixin, Base):
    """A region Atoll fronts. The one pod without an AZ is the top region (Atoll's own)."""

    __tablename__ = "pods"

    pod_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    region_name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    az_name: Mapped[str] = mapped_column(sa.String(255), default="", index=True)
    pod_az_name: Mapped[str] = mapped_column(sa.String(255), default="")
    dc_name: Mapped[str] = mapped_column(sa.String(255), default="")
    # True for the top pod, NULL otherwise: a unique column that holds at most one
    # True is "exactly one top pod" in a form SQLite, PostgreSQL and MySQL all enforce.
    is_top: Mapped[bool | None] = mapped_column(sa.Boolean(), unique=True)
    endpoints: Mapped[dict[str, str]] = mapped_column(sa.JSON(), default=dict)
    endpoints_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(sa.String(16), default="unknown")
    status_reason: Mapped[str] = mapped_column(sa.String(1024), default="")
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # One more whenever region_name or endpoints change. Discovery and probes write
    # what they found only if the pod is still at the generation they read: a pod
    # renamed or rediscovered meanwhile keeps its newer state.
    generation: Mapped[int] = mapped_column(sa.Integer(), default=0, server_default="0")


class PodBinding(TimestampMixin, Base):
    """A project bound to a pod: the project's resources are placed there."""

    __tablename__ = "pod_bindings"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "pod_id"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    tenant_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    pod_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("pods.pod_id"))
    is_binding: Mapped[bool] = mapped_column(sa.Boolean(), default=True)


class ResourceRouting(TimestampMixin, Base):
    """Where a top resource lives in a pod. A NULL bottom_id is a reservation:
    the bottom resource is being created and nobody else may create it."""

    __tablename__ = "resource_routings"
    __table_args__ = (sa.UniqueConstraint("top_id", "pod_id", "resource_type"),)

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    top_id: Mapped[str] = mapped_column(sa.String(127))
    bottom_id: Mapped[str | None] = mapped_column(sa.String(127), index=True)
    pod_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("pods.pod_id"), index=True)
    project_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    resource_type: Mapped[str] = mapped_column(sa.String(64))


class Job(TimestampMixin, Base):
    """A unit of background work (see `atoll.jobs`). `seq` orders jobs by creation;
    `id` is what the API shows. `run_at` is when a worker may take the job next: a NEW
    job once it is due (created, or its backoff is over), a RUNNING job once its lease
    has expired (its worker is gone)."""

    __tablename__ = "jobs"
    __table_args__ = (sa.Index("ix_jobs_status_run_at", "status", "run_at"),)

    seq: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    id: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    type: Mapped[str] = mapped_column(sa.String(64), index=True)
    project_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    parent_id: Mapped[str | None] = mapped_column(
        sa.String(36), sa.ForeignKey("jobs.id", ondelete="CASCADE"), index=True
    )
    ordering_key: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    # The ordering key while the job runs, NULL otherwise: unique, so the database itself
    # refuses a second running job of one key, whatever two workers believed.
    running_key: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    resource: Mapped[dict[str, Any]] = mapped_column(sa.JSON())
    progress: Mapped[dict[str, Any]] = mapped_column(sa.JSON())
    reason: Mapped[str] = mapped_column(sa.String(2048), default="")
    attempts: Mapped[int] = mapped_column(sa.Integer(), default=0)
    run_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(sa.String(255))


class SyncPolicy(TimestampMixin, Base):
    """Keep `resources` of `resource_type` from the `source` pod present and identical in the
    pods of `target` ({"pods": [names]}, {"az": name} or {"all": true}); see `atoll.sync.policy`.
    `next_check_at` is when an engine checks it next: now when it is created or changed."""

    __tablename__ = "sync_policies"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    project_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    user_id: Mapped[str] = mapped_column(sa.String(255))
    resource_type: Mapped[str] = mapped_column(sa.String(32))
    resources: Mapped[list[str]] = mapped_column(sa.JSON())
    source: Mapped[str] = mapped_column(sa.String(255))
    target: Mapped[dict[str, Any]] = mapped_column(sa.JSON())
    next_check_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    source_error: Mapped[str] = mapped_column(sa.String(1024), default="")


class SyncPolicyPod(Base):
    """What the last check of a policy found in one target pod, and its repair job."""

    __tablename__ = "sync_policy_pods"

    policy_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("sync_policies.id", ondelete="CASCADE"), primary_key=True
    )
    pod: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    state: Mapped[str] = mapped_column(sa.String(16))
    resources: Mapped[dict[str, Any]] = mapped_column(sa.JSON())
    reason: Mapped[str] = mapped_column(sa.String(2048), default="")
    unreachable_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    checked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    job_id: Mapped[str | None] = mapped_column(sa.String(36))
    failures: Mapped[int] = mapped_column(sa.Integer(), default=0)
