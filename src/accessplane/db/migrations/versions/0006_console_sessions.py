"""console sessions

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:00:00

Live console sessions (OIDC logins and API-key sign-ins), keyed by a hash of the cookie's
session id, so that logout, a deleted user or a deleted key ends them on the server.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import accessplane.models.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_session",
        sa.Column("id_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("issuer", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("api_access_id", sa.Uuid(), nullable=True),
        sa.Column("api_access_version", sa.Integer(), nullable=True),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(user_id IS NULL) <> (api_access_id IS NULL)", name="ck_console_session_principal"
        ),
        sa.ForeignKeyConstraint(["api_access_id"], ["api_access.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id_digest"),
    )
    with op.batch_alter_table("console_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_console_session_api_access_id"), ["api_access_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_console_session_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_console_session_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("console_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_session_user_id"))
        batch_op.drop_index(batch_op.f("ix_console_session_expires_at"))
        batch_op.drop_index(batch_op.f("ix_console_session_api_access_id"))

    op.drop_table("console_session")
