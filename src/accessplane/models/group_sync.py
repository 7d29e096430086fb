"""Group sync: which value of an issuer's groups claim puts a member into which group."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, new_id, utcnow


class GroupClaimMapping(SQLModel, table=True):
    """A member whose token from ``issuer`` lists ``claim_value`` belongs to the group."""

    __tablename__ = "group_claim_mapping"
    __table_args__ = (
        UniqueConstraint("group_id", "issuer", "claim_value", name="uq_group_claim_mapping"),
        Index("ix_group_claim_mapping_workspace_issuer", "workspace_id", "issuer"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE")
    group_id: uuid.UUID = Field(foreign_key="member_group.id", ondelete="CASCADE", index=True)
    issuer: str = Field(max_length=500)
    claim_value: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
