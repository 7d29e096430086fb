"""Service accounts: an OIDC client (client-credentials tokens) acting as a SERVICE member."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, utcnow


class ServiceAccount(SQLModel, table=True):
    """Links (issuer, client id) to a SERVICE member of one workspace; deleted with it."""

    __tablename__ = "service_account"
    __table_args__ = (
        UniqueConstraint(
            "workspace_id", "issuer", "client_id", name="uq_service_account_workspace_client"
        ),
        Index("ix_service_account_issuer_client", "issuer", "client_id"),
    )

    member_id: uuid.UUID = Field(foreign_key="member.id", ondelete="CASCADE", primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE")
    issuer: str = Field(max_length=500)
    client_id: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
