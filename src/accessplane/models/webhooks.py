"""Webhooks: endpoints a workspace subscribes to events, and the outbox of their deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Index, Text
from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, new_id, utcnow


class WebhookDeliveryStatus(StrEnum):
    """Where a delivery is in the outbox."""

    PENDING = "PENDING"  # waiting for its next attempt (or held by a worker until then)
    DELIVERED = "DELIVERED"  # the endpoint answered 2xx
    FAILED = "FAILED"  # no 2xx after ``webhook_max_attempts`` attempts


class WebhookEndpoint(SQLModel, table=True):
    """A URL that receives the workspace's events of the types it subscribes to, signed with
    its own secret (Standard Webhooks). The secret is stored encrypted, never in plaintext."""

    __tablename__ = "webhook_endpoint"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    url: str = Field(max_length=2000)
    description: str = Field(default="", max_length=1000)
    # Exact types (``api_access.created``), prefixes (``api_access.*``) or ``*``.
    event_types: list[str] = Field(default_factory=list, sa_type=JSON)
    enabled: bool = True
    # Fernet token of the ``whsec_…`` secret, keyed by a key derived from the server secret.
    secret_encrypted: str = Field(sa_type=Text)
    secret_hint: str = Field(max_length=8)
    created_by_principal_id: uuid.UUID | None = None
    created_by_name: str = Field(default="", max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint: the exact payload signed on every attempt, under a message
    id (``msg_…``) that stays the same across retries so receivers can deduplicate."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_endpoint_created", "endpoint_id", "created_at", "id"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    endpoint_id: uuid.UUID = Field(foreign_key="webhook_endpoint.id", ondelete="CASCADE")
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    event_type: str = Field(max_length=100)
    message_id: str = Field(max_length=64, unique=True)
    # The JSON body exactly as sent and signed (text, so every attempt signs the same bytes).
    payload: str = Field(sa_type=Text)
    status: str = Field(default=WebhookDeliveryStatus.PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Set while a worker holds the delivery; ``next_attempt_at`` is then the lease's end.
    claim_token: uuid.UUID | None = Field(default=None, index=True)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
