"""api access lifecycle: usage, revocations, expiry reminders, notification outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import accessplane.models.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_api_access_lifecycle()
    create_notifications()


def add_api_access_lifecycle() -> None:
    """API Access authorship, usage and version columns; revocations and expiry reminders."""
    with op.batch_alter_table("api_access", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("author_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "last_used_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("usage_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))

    op.create_table(
        "api_access_revocation",
        sa.Column("token_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("api_access_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("revoked_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_digest"),
    )
    with op.batch_alter_table("api_access_revocation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_access_revocation_api_access_id"), ["api_access_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_api_access_revocation_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "api_access_reminder",
        sa.Column("api_access_id", sa.Uuid(), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("expires_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("notification_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["api_access_id"], ["api_access.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("api_access_id", "days_before", "expires_at"),
    )


def create_notifications() -> None:
    """The notification outbox and per-workspace subjects."""
    op.create_table(
        "notification",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("body_text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("body_html", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("claim_token", sa.Uuid(), nullable=True),
        sa.Column(
            "locked_until", accessplane.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("sent_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_notification_claim_token"), ["claim_token"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_notification_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "notification_settings",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("subjects", sa.JSON(), nullable=False),
        sa.Column("updated_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("workspace_id"),
    )


def downgrade() -> None:
    op.drop_table("notification_settings")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_notification_claim_token"))
        batch_op.drop_index("ix_notification_due")
    op.drop_table("notification")
    op.drop_table("api_access_reminder")
    with op.batch_alter_table("api_access_revocation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_access_revocation_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_api_access_revocation_api_access_id"))
    op.drop_table("api_access_revocation")
    with op.batch_alter_table("api_access", schema=None) as batch_op:
        batch_op.drop_column("version")
        batch_op.drop_column("usage_count")
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("author_email")
