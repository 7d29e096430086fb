"""The email outbox, and per-workspace notification settings."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, new_id, utcnow


class NotificationKind(StrEnum):
    """Which template a notification uses."""

    ACCESS_REQUESTED = "access_requested"  # to the deciders: a request is pending
    APPROVE = "approve"
    REJECT = "reject"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    INVITE = "invite"  # to a person added to a workspace: how to sign in
    CERTIFICATE_EXPIRING = "certificate_expiring"  # an MTLS app's client certificate
    CERTIFICATE_EXPIRED = "certificate_expired"
    ALERT = "alert"  # an alert rule fired (and maybe suspended an app)


class NotificationStatus(StrEnum):
    """Where a notification is in the outbox."""

    PENDING = "PENDING"  # waiting for its next attempt
    SENDING = "SENDING"  # claimed by a worker until ``locked_until``
    SENT = "SENT"
    FAILED = "FAILED"  # refused permanently, after ``notification_max_attempts``


class Notification(SQLModel, table=True):
    """An email, rendered when enqueued, in the same transaction as the event it reports."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_due", "status", "next_attempt_at"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    kind: str = Field(max_length=32)
    recipient: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body_text: str
    body_html: str
    status: str = Field(default=NotificationStatus.PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Set while a worker holds the claim; a claim past ``locked_until`` is taken over.
    claim_token: uuid.UUID | None = Field(default=None, index=True)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NotificationSettings(SQLModel, table=True):
    """A workspace's own subjects (Jinja2 templates) per kind; missing kinds use defaults."""

    __tablename__ = "notification_settings"

    workspace_id: uuid.UUID = Field(
        foreign_key="workspace.id", ondelete="CASCADE", primary_key=True
    )
    subjects: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
