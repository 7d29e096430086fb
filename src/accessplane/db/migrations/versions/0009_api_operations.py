"""api operations

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 10:00:00

API operations (method + path template, scopes) and products bundling chosen operations.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import accessplane.models.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_operation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("api_id", sa.Uuid(), nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["api_id"], ["api.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("api_id", "method", "path", name="uq_api_operation_api_method_path"),
    )
    with op.batch_alter_table("api_operation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_operation_api_id"), ["api_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_api_operation_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "api_product_operation",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("operation_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["operation_id"], ["api_operation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["product_id"], ["api_product.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("product_id", "operation_id"),
    )
    with op.batch_alter_table("api_product_operation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_product_operation_operation_id"), ["operation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_api_product_operation_workspace_id"), ["workspace_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("api_product_operation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_product_operation_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_api_product_operation_operation_id"))
    op.drop_table("api_product_operation")

    with op.batch_alter_table("api_operation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_operation_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_api_operation_api_id"))
    op.drop_table("api_operation")
