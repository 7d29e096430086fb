"""Credential usage: how often each credential was decided on, by reason."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime


class CredentialUsage(SQLModel, table=True):
    """The decisions on one principal (an app or a member) with one reason, added up by
    ``DecisionUsage`` in batches (never a write per request)."""

    __tablename__ = "credential_usage"

    # A ``GatewayCallerKind`` and a ``Reason`` stored as text: a new reason needs no migration.
    principal_type: str = Field(max_length=16, primary_key=True)
    # No foreign key: a usage row may outlive a deleted app or member.
    principal_id: uuid.UUID = Field(primary_key=True)
    reason: str = Field(max_length=32, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    # 64 bits: a busy app passes 2**31 decisions in weeks.
    count: int = Field(default=0, sa_type=BigInteger)
    last_at: datetime = Field(sa_type=UTCDateTime)


class CredentialUsageHour(SQLModel, table=True):
    """The decisions on one principal with one reason within one UTC hour: the series behind
    usage charts, written by the same batched flush as ``CredentialUsage`` and pruned after
    ``decision_usage_hour_retention_days`` (ACCESSPLANE_DECISION_USAGE_HOUR_RETENTION_DAYS)."""

    __tablename__ = "credential_usage_hour"

    principal_type: str = Field(max_length=16, primary_key=True)
    principal_id: uuid.UUID = Field(primary_key=True)
    # Before the reason in the key, so that a principal's range of hours is one index range.
    hour: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    reason: str = Field(max_length=32, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    count: int = Field(default=0, sa_type=BigInteger)

    # Pruning deletes the oldest hours of every principal at once.
    __table_args__ = (Index("ix_credential_usage_hour_hour", "hour"),)
