"""Sync policies and what their last check found in each target pod.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from atoll.db.models import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_policies",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("resource_type", sa.String(32), nullable=False),
        sa.Column("resources", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("target", sa.JSON(), nullable=False),
        sa.Column("next_check_at", UTCDateTime(), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=True),
        sa.Column("source_error", sa.String(1024), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_policies")),
    )
    op.create_index(op.f("ix_sync_policies_project_id"), "sync_policies", ["project_id"])
    op.create_index(op.f("ix_sync_policies_next_check_at"), "sync_policies", ["next_check_at"])
    op.create_table(
        "sync_policy_pods",
        sa.Column("policy_id", sa.String(36), nullable=False),
        sa.Column("pod", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("resources", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(2048), nullable=False),
        sa.Column("unreachable_since", UTCDateTime(), nullable=True),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.Column("job_id", sa.String(36), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["sync_policies.id"],
            name=op.f("fk_sync_policy_pods_policy_id_sync_policies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("policy_id", "pod", name=op.f("pk_sync_policy_pods")),
    )


def downgrade() -> None:
    op.drop_table("sync_policy_pods")
    op.drop_table("sync_policies")
