"""Alert rules of a workspace and the alerts the worker raised from its call log."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, new_id, utcnow


class AlertRuleKind(StrEnum):
    """What a rule watches for in the call log."""

    DENIAL_BURST = "DENIAL_BURST"  # N denials of the chosen reasons within M minutes
    NEW_NETWORK = "NEW_NETWORK"  # an app called from a /24 (IPv4) or /64 (IPv6) never seen
    QUOTA_THRESHOLD = "QUOTA_THRESHOLD"  # an app reached 80 % / 100 % of its plan's quota
    REVOKED_CREDENTIAL_PRESENTED = "REVOKED_CREDENTIAL_PRESENTED"  # expired/revoked in use


class AlertRule(SQLModel, table=True):
    """A rule: its kind and parameters, and what to do when it fires."""

    __tablename__ = "alert_rule"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_alert_rule_name"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=32)
    enabled: bool = True
    # DENIAL_BURST: the reasons counted, how many within how many minutes.
    reasons: list[str] = Field(default_factory=list, sa_type=JSON)
    threshold: int = 1
    window_minutes: int = 5
    # Actions: mail (to ``recipients``, or the workspace's Owners and Admins when empty),
    # the ``alert.raised`` webhook event, and suspending the app at once.
    notify_mail: bool = True
    recipients: list[str] = Field(default_factory=list, sa_type=JSON)
    notify_webhook: bool = True
    suspend: bool = False
    # The call log is read from here on (exclusive); advanced by each evaluation.
    evaluated_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Alert(SQLModel, table=True):
    """One raised alert. (rule, subject, window start) is unique, so two workers evaluating
    the same calls raise it once: the second insert does nothing."""

    __tablename__ = "alert"
    __table_args__ = (
        UniqueConstraint("rule_id", "subject", "window_start", name="uq_alert_once"),
        Index("ix_alert_workspace_raised", "workspace_id", "raised_at", "id"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE")
    rule_id: uuid.UUID = Field(foreign_key="alert_rule.id", ondelete="CASCADE", index=True)
    kind: str = Field(max_length=32)
    # What the alert is about: ``access_profile:<id>`` (plus a network or threshold).
    subject: str = Field(max_length=200)
    access_profile_id: uuid.UUID | None = Field(default=None)
    window_start: datetime = Field(sa_type=UTCDateTime)
    count: int = 0
    summary: str = Field(default="", max_length=500)
    suspended: bool = False
    raised_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
