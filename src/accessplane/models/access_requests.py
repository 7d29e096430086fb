"""Access requests: a consumer asks for products and a plan for one app."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, new_id, utcnow


class AccessRequestStatus(StrEnum):
    """PENDING until exactly one decision: approved, rejected, or cancelled by its requester."""

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


class AccessRequest(SQLModel, table=True):
    """One request; names are copied so the record outlives the people and plan it names."""

    __tablename__ = "access_request"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    access_profile_id: uuid.UUID = Field(
        foreign_key="access_profile.id", ondelete="CASCADE", index=True
    )
    # The access profile (app) was created together with this request.
    created_access_profile: bool = False
    requester_member_id: uuid.UUID | None = Field(
        default=None, foreign_key="member.id", ondelete="SET NULL", index=True
    )
    requester_name: str = Field(default="", max_length=254)
    requester_email: str | None = Field(default=None, max_length=254)
    plan_id: uuid.UUID | None = Field(
        default=None, foreign_key="plan.id", ondelete="SET NULL", index=True
    )
    plan_name: str = Field(default="", max_length=100)
    status: AccessRequestStatus = Field(default=AccessRequestStatus.PENDING, max_length=16)
    # Who decided, as the audit log names an actor: the member, or the API Access key; None
    # when the plan approved by itself.
    decided_by_actor_id: uuid.UUID | None = None
    decided_by_name: str = Field(default="", max_length=254)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class AccessRequestProduct(SQLModel, table=True):
    """A product in a request's cart."""

    __tablename__ = "access_request_product"

    access_request_id: uuid.UUID = Field(
        foreign_key="access_request.id", ondelete="CASCADE", primary_key=True
    )
    product_id: uuid.UUID = Field(
        foreign_key="api_product.id", ondelete="CASCADE", primary_key=True, index=True
    )
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
