"""oidc: service accounts and group claim mappings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 06:35:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import accessplane.models.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_account",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("member_id"),
        sa.UniqueConstraint(
            "workspace_id", "issuer", "client_id", name="uq_service_account_workspace_client"
        ),
    )
    with op.batch_alter_table("service_account", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_account_issuer_client", ["issuer", "client_id"], unique=False
        )

    op.create_table(
        "group_claim_mapping",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("claim_value", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["member_group.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("group_id", "issuer", "claim_value", name="uq_group_claim_mapping"),
    )
    with op.batch_alter_table("group_claim_mapping", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_group_claim_mapping_group_id"), ["group_id"], unique=False
        )
        batch_op.create_index(
            "ix_group_claim_mapping_workspace_issuer", ["workspace_id", "issuer"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("group_claim_mapping", schema=None) as batch_op:
        batch_op.drop_index("ix_group_claim_mapping_workspace_issuer")
        batch_op.drop_index(batch_op.f("ix_group_claim_mapping_group_id"))
    op.drop_table("group_claim_mapping")
    with op.batch_alter_table("service_account", schema=None) as batch_op:
        batch_op.drop_index("ix_service_account_issuer_client")
    op.drop_table("service_account")
