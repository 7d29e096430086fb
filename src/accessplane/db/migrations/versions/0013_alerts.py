"""alerts

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 10:00:00

Alert rules and the alerts they raised; an app's suspension (``suspended_at``,
``suspended_reason``); the built-in Owner and Admin roles of existing workspaces gain
``manageAlerts``, as new workspaces' do.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import accessplane.models.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERMISSION = "manageAlerts"
ROLES = ("Owner", "Admin")
_STR = sqlmodel.sql.sqltypes.AutoString
_TIME = accessplane.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "alert_rule",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("name", _STR(length=100), nullable=False),
        sa.Column("kind", _STR(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("window_minutes", sa.Integer(), nullable=False),
        sa.Column("notify_mail", sa.Boolean(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("notify_webhook", sa.Boolean(), nullable=False),
        sa.Column("suspend", sa.Boolean(), nullable=False),
        sa.Column("evaluated_until", _TIME(timezone=True), nullable=True),
        sa.Column("created_at", _TIME(timezone=True), nullable=False),
        sa.Column("updated_at", _TIME(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_alert_rule_name"),
    )
    with op.batch_alter_table("alert_rule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_rule_workspace_id"), ["workspace_id"], unique=False
        )
    op.create_table(
        "alert",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("kind", _STR(length=32), nullable=False),
        sa.Column("subject", _STR(length=200), nullable=False),
        sa.Column("access_profile_id", sa.Uuid(), nullable=True),
        sa.Column("window_start", _TIME(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("summary", _STR(length=500), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("raised_at", _TIME(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["rule_id"], ["alert_rule.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rule_id", "subject", "window_start", name="uq_alert_once"),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_rule_id"), ["rule_id"], unique=False)
        batch_op.create_index(
            "ix_alert_workspace_raised", ["workspace_id", "raised_at", "id"], unique=False
        )
    with op.batch_alter_table("access_profile", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suspended_at", _TIME(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("suspended_reason", _STR(length=500), nullable=False, server_default="")
        )
    _set_permission(add=True)


def downgrade() -> None:
    _set_permission(add=False)
    with op.batch_alter_table("access_profile", schema=None) as batch_op:
        batch_op.drop_column("suspended_reason")
        batch_op.drop_column("suspended_at")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_workspace_raised")
        batch_op.drop_index(batch_op.f("ix_alert_rule_id"))
    op.drop_table("alert")
    with op.batch_alter_table("alert_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_rule_workspace_id"))
    op.drop_table("alert_rule")


def _set_permission(*, add: bool) -> None:
    """Give (or take back) ``manageAlerts`` to the built-in roles that hold it by default."""
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
