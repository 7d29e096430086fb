"""credential usage by hour

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 09:00:00

Decision counts per principal, reason and UTC hour, written by the same batched flush as
``credential_usage`` and pruned by the worker after ``decision_usage_hour_retention_days``
(ACCESSPLANE_DECISION_USAGE_HOUR_RETENTION_DAYS). Nothing is back-filled: the series starts
with the first flush after the upgrade.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import accessplane.models.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credential_usage_hour",
        sa.Column("principal_type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("principal_id", sa.Uuid(), nullable=False),
        sa.Column("hour", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("principal_type", "principal_id", "hour", "reason"),
    )
    with op.batch_alter_table("credential_usage_hour", schema=None) as batch_op:
        batch_op.create_index("ix_credential_usage_hour_hour", ["hour"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_credential_usage_hour_workspace_id"), ["workspace_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("credential_usage_hour", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credential_usage_hour_workspace_id"))
        batch_op.drop_index("ix_credential_usage_hour_hour")

    op.drop_table("credential_usage_hour")
