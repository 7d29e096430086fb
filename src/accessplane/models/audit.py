"""The audit log: one row per change, written in the change's own transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, new_id, utcnow


class AuditEvent(SQLModel, table=True):
    """One recorded action; actor and target are copied so the event outlives them."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_workspace_at", "workspace_id", "at", "id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE")
    actor_type: str = Field(max_length=16)  # MEMBER, API_ACCESS, SYSTEM
    actor_id: uuid.UUID | None = Field(default=None, index=True)
    actor_name: str = Field(default="", max_length=254)
    action: str = Field(max_length=64, index=True)  # the mutation's name, e.g. grantApiAccess
    target_type: str = Field(max_length=32)
    target_id: uuid.UUID | None = Field(default=None, index=True)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    ip: str | None = Field(default=None, max_length=45)
    request_id: str | None = Field(default=None, max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
