"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 06:22:26.753256
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import accessplane.models.base

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_users_and_workspaces()
    create_apis_and_audit()
    create_groups_and_roles()
    create_api_access()
    create_members()
    create_grants()


def create_users_and_workspaces() -> None:
    """People and workspaces: the roots every other table hangs from."""
    op.create_table(
        "user_account",
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issuer", "subject", name="uq_user_issuer_subject"),
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_account_email"), ["email"], unique=True)

    op.create_table(
        "workspace",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=63), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workspace_slug"), ["slug"], unique=True)


def create_apis_and_audit() -> None:
    """APIs and the audit log."""
    op.create_table(
        "api",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("identifier", sqlmodel.sql.sqltypes.AutoString(length=63), nullable=False),
        sa.Column("base_url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "identifier", name="uq_api_workspace_identifier"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_api_workspace_name"),
    )
    with op.batch_alter_table("api", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_workspace_id"), ["workspace_id"], unique=False)

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("actor_type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("target_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("ip", sqlmodel.sql.sqltypes.AutoString(length=45), nullable=True),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_target_id"), ["target_id"], unique=False)
        batch_op.create_index(
            "ix_audit_event_workspace_at", ["workspace_id", "at", "id"], unique=False
        )


def create_groups_and_roles() -> None:
    """Member groups and roles."""
    op.create_table(
        "member_group",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_group_workspace_name"),
    )
    with op.batch_alter_table("member_group", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_member_group_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "role",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("all_apis", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("built_in", sa.Boolean(), nullable=False),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_role_workspace_name"),
    )
    with op.batch_alter_table("role", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_role_workspace_id"), ["workspace_id"], unique=False)


def create_api_access() -> None:
    """API Access keys."""
    op.create_table(
        "api_access",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.Enum("API_KEY", name="apiaccesstype"), nullable=False),
        sa.Column("role_id", sa.Uuid(), nullable=False),
        sa.Column("token_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("token_hint", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("expires_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_name", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["role_id"], ["role.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_digest"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_api_access_workspace_name"),
    )
    with op.batch_alter_table("api_access", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_access_role_id"), ["role_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_api_access_workspace_id"), ["workspace_id"], unique=False
        )


def create_members() -> None:
    """Workspace memberships."""
    op.create_table(
        "member",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Enum("HUMAN", "SERVICE", name="memberkind"), nullable=False),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["role_id"], ["role.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "user_id", name="uq_member_workspace_user"),
    )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_role_id"), ["role_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_member_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_member_workspace_id"), ["workspace_id"], unique=False)


def create_grants() -> None:
    """API grants (to a member or a group) and group membership."""
    op.create_table(
        "api_grant",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("api_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("group_id", sa.Uuid(), nullable=True),
        sa.Column("granted_by_id", sa.Uuid(), nullable=True),
        sa.Column("granted_by_name", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(member_id IS NULL) != (group_id IS NULL)", name="ck_api_grant_one_grantee"
        ),
        sa.ForeignKeyConstraint(["api_id"], ["api.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["group_id"], ["member_group.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("api_id", "group_id", name="uq_api_grant_group"),
        sa.UniqueConstraint("api_id", "member_id", name="uq_api_grant_member"),
    )
    with op.batch_alter_table("api_grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_grant_api_id"), ["api_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_grant_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_grant_member_id"), ["member_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_api_grant_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "group_member",
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", accessplane.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["member_group.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("group_id", "member_id"),
    )
    with op.batch_alter_table("group_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_group_member_member_id"), ["member_id"], unique=False)

    # ### end Alembic commands ###


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("group_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_member_member_id"))

    op.drop_table("group_member")
    with op.batch_alter_table("api_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_grant_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_api_grant_member_id"))
        batch_op.drop_index(batch_op.f("ix_api_grant_group_id"))
        batch_op.drop_index(batch_op.f("ix_api_grant_api_id"))

    op.drop_table("api_grant")
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_member_user_id"))
        batch_op.drop_index(batch_op.f("ix_member_role_id"))

    op.drop_table("member")
    with op.batch_alter_table("api_access", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_access_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_api_access_role_id"))

    op.drop_table("api_access")
    with op.batch_alter_table("role", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_role_workspace_id"))

    op.drop_table("role")
    with op.batch_alter_table("member_group", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_group_workspace_id"))

    op.drop_table("member_group")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_workspace_at")
        batch_op.drop_index(batch_op.f("ix_audit_event_target_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_actor_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_action"))

    op.drop_table("audit_event")
    with op.batch_alter_table("api", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_workspace_id"))

    op.drop_table("api")
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workspace_slug"))

    op.drop_table("workspace")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_account_email"))

    op.drop_table("user_account")
    # ### end Alembic commands ###
    # PostgreSQL keeps an enum's type after its table is dropped; without this, upgrading
    # again fails on "type already exists". SQLite has no such types (checkfirst skips it).
    for name in ("apiaccesstype", "memberkind"):
        sa.Enum(name=name).drop(op.get_bind(), checkfirst=True)
