"""call log

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 10:00:00

The call log: one row per decision, written in batches by the decision endpoint. On
PostgreSQL the table is partitioned by day (RANGE on ``at``); the partitions live in the
schema ``call_log_partitions`` and are created ahead by the writer and the worker, and pruning
drops whole days (docs/observability.md). On SQLite it is a plain table. The built-in roles of
existing workspaces that hold ``getAuditLog`` gain ``getCallLog``, as new workspaces' do.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import accessplane.models.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTITION_SCHEMA = "call_log_partitions"
PERMISSION = "getCallLog"
ALONGSIDE = "getAuditLog"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(f"CREATE SCHEMA IF NOT EXISTS {PARTITION_SCHEMA}")
    op.create_table(
        "call_log",
        sa.Column("at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=True),
        sa.Column("principal_type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("principal_id", sa.Uuid(), nullable=True),
        sa.Column("api_identifier", sqlmodel.sql.sqltypes.AutoString(length=63), nullable=False),
        sa.Column("api_id", sa.Uuid(), nullable=True),
        sa.Column("operation_id", sa.Uuid(), nullable=True),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column("ip", sa.LargeBinary(length=16), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("latency_us", sa.Integer(), nullable=False),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.PrimaryKeyConstraint("at", "id"),
        postgresql_partition_by="RANGE (at)",
    )
    op.create_index("ix_call_log_workspace_at", "call_log", ["workspace_id", "at", "id"])
    _set_permission(add=True)


def downgrade() -> None:
    _set_permission(add=False)
    op.drop_index("ix_call_log_workspace_at", table_name="call_log")
    # Dropping a partitioned table drops its partitions with it.
    op.drop_table("call_log")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP SCHEMA IF EXISTS {PARTITION_SCHEMA} CASCADE")


def _set_permission(*, add: bool) -> None:
    """Give (or take back) ``getCallLog`` to the built-in roles holding ``getAuditLog``."""
    role = sa.table(
        "role",
        sa.column("id", sa.Uuid()),
        sa.column("built_in", sa.Boolean()),
        sa.column("permissions", sa.JSON()),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(role.c.id, role.c.permissions).where(role.c.built_in.is_(True)))
    for role_id, stored in rows.all():
        permissions = json.loads(stored) if isinstance(stored, str) else list(stored or [])
        names = {p.get("name") for p in permissions}
        kept = [p for p in permissions if p.get("name") != PERMISSION]
        if add and ALONGSIDE in names:
            kept = sorted([*kept, {"name": PERMISSION}], key=lambda p: str(p.get("name")))
        if kept != permissions:
            bind.execute(sa.update(role).where(role.c.id == role_id).values(permissions=kept))
