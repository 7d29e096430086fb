"""client certificates

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 10:00:00

Client certificates of MTLS apps and certificate-bound tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import accessplane.models.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_mtls_auth_method()
    with op.batch_alter_table("access_profile", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "certificate_bound_tokens", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
    create_certificates()


def add_mtls_auth_method() -> None:
    """PostgreSQL keeps the enum as a type of its own; SQLite stores the names as text (and
    "MTLS" fits the existing length)."""
    if op.get_bind().dialect.name == "postgresql":
        # Allowed in a transaction since PostgreSQL 12; the value is not used in this one.
        op.execute("ALTER TYPE authmethod ADD VALUE IF NOT EXISTS 'MTLS'")


def create_certificates() -> None:
    """Registered client certificates and their expiry reminders."""
    op.create_table(
        "access_profile_certificate",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("access_profile_id", sa.Uuid(), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("issuer", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("serial_number", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("not_before", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("not_after", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["access_profile_id"], ["access_profile.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fingerprint"),
    )
    with op.batch_alter_table("access_profile_certificate", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_profile_certificate_access_profile_id"),
            ["access_profile_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_access_profile_certificate_workspace_id"),
            ["workspace_id"],
            unique=False,
        )

    op.create_table(
        "certificate_reminder",
        sa.Column("certificate_id", sa.Uuid(), nullable=False),
        sa.Column("threshold_days", sa.Integer(), nullable=False),
        sa.Column("sent_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"], ["access_profile_certificate.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("certificate_id", "threshold_days"),
    )


def downgrade() -> None:
    op.drop_table("certificate_reminder")
    with op.batch_alter_table("access_profile_certificate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_profile_certificate_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_access_profile_certificate_access_profile_id"))
    op.drop_table("access_profile_certificate")
    with op.batch_alter_table("access_profile", schema=None) as batch_op:
        batch_op.drop_column("certificate_bound_tokens")
    remove_mtls_auth_method()


# The columns of PostgreSQL's ``authmethod`` type (migration 0004).
_AUTH_METHOD_COLUMNS = ("api_product", "access_profile")


def remove_mtls_auth_method() -> None:
    """PostgreSQL cannot drop one value of an enum type: the type is made again without
    "MTLS". MTLS apps and products cannot be downgraded, so their presence stops it."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in _AUTH_METHOD_COLUMNS:
        used = bind.execute(
            sa.text(f"SELECT count(*) FROM {table} WHERE auth_method = 'MTLS'")
        ).scalar_one()
        if used:
            raise RuntimeError(
                f"Cannot downgrade below 0010: {used} row(s) of {table} use the MTLS "
                "authentication method; delete or change them first."
            )
    op.execute("ALTER TYPE authmethod RENAME TO authmethod_0010")
    op.execute("CREATE TYPE authmethod AS ENUM ('AUTH_TOKEN', 'OAUTH2', 'JWT', 'OIDC')")
    for table in _AUTH_METHOD_COLUMNS:
        op.execute(
            f"ALTER TABLE {table} ALTER COLUMN auth_method TYPE authmethod "
            "USING auth_method::text::authmethod"
        )
    op.execute("DROP TYPE authmethod_0010")
