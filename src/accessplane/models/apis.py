"""APIs: what a workspace exposes and guards."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, new_id, utcnow


class ApiBase(SQLModel):
    """Fields a client may set."""

    name: str = Field(max_length=100)
    identifier: str = Field(max_length=63)  # slug used by gateways to name the API
    base_url: str = Field(default="", max_length=2000)
    description: str = Field(default="", max_length=2000)


class Api(ApiBase, table=True):
    """An API of one workspace."""

    __tablename__ = "api"
    __table_args__ = (
        UniqueConstraint("workspace_id", "identifier", name="uq_api_workspace_identifier"),
        UniqueConstraint("workspace_id", "name", name="uq_api_workspace_name"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
