"""Pods, project bindings and resource routings.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from atoll.db.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "pods",
        sa.Column("pod_id", sa.String(36), nullable=False),
        sa.Column("region_name", sa.String(255), nullable=False),
        sa.Column("az_name", sa.String(255), nullable=False),
        sa.Column("pod_az_name", sa.String(255), nullable=False),
        sa.Column("dc_name", sa.String(255), nullable=False),
        sa.Column("is_top", sa.Boolean(), nullable=True),
        sa.Column("endpoints", sa.JSON(), nullable=False),
        sa.Column("endpoints_updated_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.String(1024), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("pod_id", name=op.f("pk_pods")),
        sa.UniqueConstraint("region_name", name=op.f("uq_pods_region_name")),
        sa.UniqueConstraint("is_top", name=op.f("uq_pods_is_top")),
    )
    op.create_index(op.f("ix_pods_az_name"), "pods", ["az_name"])
    op.create_table(
        "pod_bindings",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(255), nullable=False),
        sa.Column("pod_id", sa.String(36), nullable=False),
        sa.Column("is_binding", sa.Boolean(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(["pod_id"], ["pods.pod_id"], name=op.f("fk_pod_bindings_pod_id_pods")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pod_bindings")),
        sa.UniqueConstraint("tenant_id", "pod_id", name=op.f("uq_pod_bindings_tenant_id_pod_id")),
    )
    op.create_index(op.f("ix_pod_bindings_tenant_id"), "pod_bindings", ["tenant_id"])
    op.create_table(
        "resource_routings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, autoincrement=True),
        sa.Column("top_id", sa.String(127), nullable=False),
        sa.Column("bottom_id", sa.String(127), nullable=True),
        sa.Column("pod_id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.Column("resource_type", sa.String(64), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(["pod_id"], ["pods.pod_id"], name=op.f("fk_resource_routings_pod_id_pods")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_routings")),
        sa.UniqueConstraint(
            "top_id", "pod_id", "resource_type", name=op.f("uq_resource_routings_top_id_pod_id_resource_type")
        ),
    )
    op.create_index(op.f("ix_resource_routings_bottom_id"), "resource_routings", ["bottom_id"])
    op.create_index(op.f("ix_resource_routings_pod_id"), "resource_routings", ["pod_id"])
    op.create_index(op.f("ix_resource_routings_project_id"), "resource_routings", ["project_id"])


def downgrade() -> None:
    op.drop_table("resource_routings")
    op.drop_table("pod_bindings")
    op.drop_table("pods")
