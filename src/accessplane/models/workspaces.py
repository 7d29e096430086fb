"""Workspaces: the tenants; everything else belongs to exactly one."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, new_id, utcnow


class WorkspaceBase(SQLModel):
    """Fields a client may set."""

    name: str = Field(max_length=100)
    slug: str = Field(max_length=63, unique=True, index=True)


class Workspace(WorkspaceBase, table=True):
    """A tenant."""

    __tablename__ = "workspace"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
