"""webhooks

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 10:00:00

Webhook endpoints and their deliveries; the built-in Owner and Admin roles of existing
workspaces gain ``manageWebhooks``, as new workspaces' do.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import accessplane.models.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERMISSION = "manageWebhooks"
ROLES = ("Owner", "Admin")


def upgrade() -> None:
    op.create_table(
        "webhook_endpoint",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("secret_hint", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("created_by_principal_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_name", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("webhook_endpoint", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_endpoint_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("claim_token", sa.Uuid(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "delivered_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(["endpoint_id"], ["webhook_endpoint.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_delivery_claim_token"), ["claim_token"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_webhook_delivery_workspace_id"), ["workspace_id"], unique=False
        )
        batch_op.create_index(
            "ix_webhook_delivery_due", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            "ix_webhook_delivery_endpoint_created",
            ["endpoint_id", "created_at", "id"],
            unique=False,
        )
    _set_permission(add=True)


def downgrade() -> None:
    _set_permission(add=False)
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_delivery_endpoint_created")
        batch_op.drop_index("ix_webhook_delivery_due")
        batch_op.drop_index(batch_op.f("ix_webhook_delivery_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_webhook_delivery_claim_token"))
    op.drop_table("webhook_delivery")
    with op.batch_alter_table("webhook_endpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_endpoint_workspace_id"))
    op.drop_table("webhook_endpoint")


def _set_permission(*, add: bool) -> None:
    """Give (or take back) ``manageWebhooks`` to the built-in roles that hold it by default."""
    role = sa.table(
        "role",
        sa.column("id", sa.Uuid()),
        sa.column("name", sa.String()),
        sa.column("built_in", sa.Boolean()),
        sa.column("permissions", sa.JSON()),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(role.c.id, role.c.permissions).where(
            role.c.built_in.is_(True), role.c.name.in_(ROLES)
        )
    ).all()
    for role_id, stored in rows:
        permissions = json.loads(stored) if isinstance(stored, str) else list(stored or [])
        kept = [p for p in permissions if p.get("name") != PERMISSION]
        if add:
            kept = sorted([*kept, {"name": PERMISSION}], key=lambda p: str(p.get("name")))
        if kept != permissions:
            bind.execute(sa.update(role).where(role.c.id == role_id).values(permissions=kept))
