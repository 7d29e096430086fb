"""credential usage

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:00:00

Per-credential decision counts by reason, written in batches by the decision endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import accessplane.models.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credential_usage",
        sa.Column("principal_type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("principal_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("last_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("principal_type", "principal_id", "reason"),
    )
    with op.batch_alter_table("credential_usage", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credential_usage_workspace_id"), ["workspace_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("credential_usage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credential_usage_workspace_id"))

    op.drop_table("credential_usage")
