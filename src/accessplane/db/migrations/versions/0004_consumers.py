"""consumers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 07:07:13

Clients (with logos and consumer members), access profiles (apps) with their products and
revoked tokens, API products with their APIs, plans, and access requests with their products.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

import accessplane.models.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_access_profile_revocations()
    create_products_and_clients()
    create_plans()
    create_access_profiles()
    create_product_links_and_logos()
    create_access_requests()
    create_client_members_and_request_products()


def create_access_profile_revocations() -> None:
    """Revoked app tokens, kept until they expire."""
    op.create_table(
        "access_profile_revocation",
        sa.Column("token_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("access_profile_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("revoked_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_digest"),
    )
    with op.batch_alter_table("access_profile_revocation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_profile_revocation_access_profile_id"),
            ["access_profile_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_access_profile_revocation_workspace_id"), ["workspace_id"], unique=False
        )


def create_products_and_clients() -> None:
    """API products and clients."""
    op.create_table(
        "api_product",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column(
            "auth_method",
            sa.Enum("AUTH_TOKEN", "OAUTH2", "JWT", "OIDC", name="authmethod"),
            nullable=False,
        ),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_api_product_workspace_name"),
    )
    with op.batch_alter_table("api_product", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_product_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "client",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("logo_url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("has_logo", sa.Boolean(), nullable=False),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_client_workspace_name"),
    )
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_client_workspace_id"), ["workspace_id"], unique=False)


def create_plans() -> None:
    """Plans: rate limits and quotas."""
    op.create_table(
        "plan",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("rate_limit_requests", sa.Integer(), nullable=True),
        sa.Column(
            "rate_limit_period",
            sa.Enum("SECOND", "MINUTE", "HOUR", name="ratelimitperiod"),
            nullable=True,
        ),
        sa.Column("quota_requests", sa.Integer(), nullable=True),
        sa.Column("quota_period", sa.Enum("DAY", "MONTH", name="quotaperiod"), nullable=True),
        sa.Column("time_window", sa.JSON(), nullable=True),
        sa.Column("auto_approve", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_plan_workspace_name"),
    )
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_workspace_id"), ["workspace_id"], unique=False)


def create_access_profiles() -> None:
    """Apps (access profiles)."""
    op.create_table(
        "access_profile",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        # The type was created with api_product above.
        sa.Column(
            "auth_method",
            postgresql.ENUM(
                "AUTH_TOKEN", "OAUTH2", "JWT", "OIDC", name="authmethod", create_type=False
            ),
            nullable=False,
        ),
        sa.Column("plan_id", sa.Uuid(), nullable=True),
        sa.Column("allowed_ips", sa.JSON(), nullable=False),
        sa.Column("trusted_issuer", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("audience", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("token_client_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("required_scopes", sa.JSON(), nullable=False),
        sa.Column("token_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("token_hint", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_id", "name", name="uq_access_profile_client_name"),
        sa.UniqueConstraint("token_digest"),
    )
    with op.batch_alter_table("access_profile", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_profile_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_access_profile_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_access_profile_workspace_id"), ["workspace_id"], unique=False
        )


def create_product_links_and_logos() -> None:
    """Product APIs, client logos and app products."""
    op.create_table(
        "api_product_api",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("api_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["api_id"], ["api.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["product_id"], ["api_product.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("product_id", "api_id"),
    )
    with op.batch_alter_table("api_product_api", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_product_api_api_id"), ["api_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_api_product_api_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "client_logo",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("client_id"),
    )
    op.create_table(
        "access_profile_product",
        sa.Column("access_profile_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["access_profile_id"], ["access_profile.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["product_id"], ["api_product.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("access_profile_id", "product_id"),
    )
    with op.batch_alter_table("access_profile_product", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_profile_product_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_access_profile_product_workspace_id"), ["workspace_id"], unique=False
        )


def create_access_requests() -> None:
    """Access requests."""
    op.create_table(
        "access_request",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("access_profile_id", sa.Uuid(), nullable=False),
        sa.Column("created_app", sa.Boolean(), nullable=False),
        sa.Column("requester_member_id", sa.Uuid(), nullable=True),
        sa.Column("requester_name", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("requester_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("plan_id", sa.Uuid(), nullable=True),
        sa.Column("plan_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column(
            "status",
            sa.Enum("PENDING", "APPROVED", "REJECTED", "CANCELLED", name="accessrequeststatus"),
            nullable=False,
        ),
        sa.Column("decided_by_id", sa.Uuid(), nullable=True),
        sa.Column("decided_by_name", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("decided_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["access_profile_id"], ["access_profile.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["requester_member_id"], ["member.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_request_access_profile_id"), ["access_profile_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_access_request_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_access_request_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_access_request_requester_member_id"),
            ["requester_member_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_access_request_workspace_id"), ["workspace_id"], unique=False
        )


def create_client_members_and_request_products() -> None:
    """Client members and requested products."""
    op.create_table(
        "client_member",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("client_id", "member_id"),
    )
    with op.batch_alter_table("client_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_client_member_member_id"), ["member_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_client_member_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "access_request_product",
        sa.Column("access_request_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["access_request_id"], ["access_request.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["product_id"], ["api_product.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("access_request_id", "product_id"),
    )
    with op.batch_alter_table("access_request_product", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_request_product_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_access_request_product_workspace_id"), ["workspace_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("access_request_product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_request_product_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_access_request_product_product_id"))

    op.drop_table("access_request_product")
    with op.batch_alter_table("client_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_client_member_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_client_member_member_id"))

    op.drop_table("client_member")
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_request_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_access_request_requester_member_id"))
        batch_op.drop_index(batch_op.f("ix_access_request_plan_id"))
        batch_op.drop_index(batch_op.f("ix_access_request_created_at"))
        batch_op.drop_index(batch_op.f("ix_access_request_access_profile_id"))

    op.drop_table("access_request")
    with op.batch_alter_table("access_profile_product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_profile_product_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_access_profile_product_product_id"))

    op.drop_table("access_profile_product")
    op.drop_table("client_logo")
    with op.batch_alter_table("api_product_api", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_product_api_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_api_product_api_api_id"))

    op.drop_table("api_product_api")
    with op.batch_alter_table("access_profile", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_profile_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_access_profile_plan_id"))
        batch_op.drop_index(batch_op.f("ix_access_profile_client_id"))

    op.drop_table("access_profile")
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_workspace_id"))

    op.drop_table("plan")
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_client_workspace_id"))

    op.drop_table("client")
    with op.batch_alter_table("api_product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_product_workspace_id"))

    op.drop_table("api_product")
    with op.batch_alter_table("access_profile_revocation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_profile_revocation_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_access_profile_revocation_access_profile_id"))

    op.drop_table("access_profile_revocation")
    for name in ("accessrequeststatus", "quotaperiod", "ratelimitperiod", "authmethod"):
        sa.Enum(name=name).drop(op.get_bind(), checkfirst=True)
