"""API grants: a member or a group may reach an API."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, new_id, utcnow


class ApiGrant(SQLModel, table=True):
    """A direct grant (member_id set) or a group grant (group_id set), never both."""

    __tablename__ = "api_grant"
    __table_args__ = (
        CheckConstraint(
            "(member_id IS NULL) != (group_id IS NULL)", name="ck_api_grant_one_grantee"
        ),
        UniqueConstraint("api_id", "member_id", name="uq_api_grant_member"),
        UniqueConstraint("api_id", "group_id", name="uq_api_grant_group"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    api_id: uuid.UUID = Field(foreign_key="api.id", ondelete="CASCADE", index=True)
    member_id: uuid.UUID | None = Field(
        default=None, foreign_key="member.id", ondelete="CASCADE", index=True
    )
    group_id: uuid.UUID | None = Field(
        default=None, foreign_key="member_group.id", ondelete="CASCADE", index=True
    )
    # The principal that granted it (a user's id, or an API Access key's); a plain id, so the
    # grant outlives its granter.
    granted_by_principal_id: uuid.UUID | None = None
    granted_by_name: str = Field(default="", max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
