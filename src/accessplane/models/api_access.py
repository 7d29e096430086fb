"""API Access: platform API keys that act on AccessPlane itself with an assigned role."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, new_id, utcnow


class ApiAccessType(StrEnum):
    """The kind of credential; only API keys for now."""

    API_KEY = "API_KEY"


class ApiAccessBase(SQLModel):
    """Fields a client may set."""

    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=1000)
    tags: list[str] = Field(default_factory=list, sa_type=JSON)


class ApiAccess(ApiAccessBase, table=True):
    """A platform API key; only the keyed hash of its token is stored."""

    __tablename__ = "api_access"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name", name="uq_api_access_workspace_name"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    type: ApiAccessType = Field(default=ApiAccessType.API_KEY, max_length=16)
    role_id: uuid.UUID = Field(foreign_key="role.id", ondelete="RESTRICT", index=True)
    token_digest: str = Field(max_length=64, unique=True)
    token_hint: str = Field(max_length=8)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by_id: uuid.UUID | None = None  # the member who created it; None for `init`
    created_by_name: str = Field(default="", max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
