"""Members: a user (or a service) in a workspace, with one role."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, new_id, utcnow


class MemberKind(StrEnum):
    """A person, or a machine client acting by itself (OIDC client credentials)."""

    HUMAN = "HUMAN"
    SERVICE = "SERVICE"


class Member(SQLModel, table=True):
    """Membership of a user in a workspace."""

    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id", name="uq_member_workspace_user"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    role_id: uuid.UUID = Field(foreign_key="role.id", ondelete="RESTRICT", index=True)
    kind: MemberKind = Field(default=MemberKind.HUMAN, max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
