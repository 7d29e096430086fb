"""Groups: teams of members; a group's API grants reach all its current members."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, new_id, utcnow


class GroupBase(SQLModel):
    """Fields a client may set."""

    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=1000)


class Group(GroupBase, table=True):
    """A group of one workspace."""

    __tablename__ = "member_group"  # "group" is reserved in SQL
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_group_workspace_name"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class GroupMember(SQLModel, table=True):
    """Membership of a member in a group."""

    __tablename__ = "group_member"

    group_id: uuid.UUID = Field(foreign_key="member_group.id", ondelete="CASCADE", primary_key=True)
    member_id: uuid.UUID = Field(
        foreign_key="member.id", ondelete="CASCADE", primary_key=True, index=True
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
