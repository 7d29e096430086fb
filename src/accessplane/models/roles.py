"""Roles: named sets of permissions, per workspace."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, new_id, utcnow


class RoleBase(SQLModel):
    """Fields a client may set."""

    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=1000)
    # [{"name": "createApiAccess", "namePattern": "^ci-"}, {"name": "getApi"}, ...]
    permissions: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    all_apis: bool = False  # reaches every API of the workspace without grants


class Role(RoleBase, table=True):
    """A role of one workspace; built-in roles cannot be edited or deleted."""

    __tablename__ = "role"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_role_workspace_name"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    built_in: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
