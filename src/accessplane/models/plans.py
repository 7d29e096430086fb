"""Plans: the limits and the approval policy an app is granted with."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, new_id, utcnow


class RateLimitPeriod(StrEnum):
    """The window of a rate limit."""

    SECOND = "SECOND"
    MINUTE = "MINUTE"
    HOUR = "HOUR"


class QuotaPeriod(StrEnum):
    """The window of a quota (calendar day or month, in UTC)."""

    DAY = "DAY"
    MONTH = "MONTH"


class Weekday(StrEnum):
    """Days of an allowed time window."""

    MON = "MON"
    TUE = "TUE"
    WED = "WED"
    THU = "THU"
    FRI = "FRI"
    SAT = "SAT"
    SUN = "SUN"


class PlanBase(SQLModel):
    """Fields a client may set."""

    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=2000)
    rate_limit_requests: int | None = None
    rate_limit_period: RateLimitPeriod | None = Field(default=None, max_length=8)
    quota_requests: int | None = None
    quota_period: QuotaPeriod | None = Field(default=None, max_length=8)
    # {"days": ["MON", ...], "start": "09:00", "end": "17:00", "timeZone": "Europe/Berlin"}
    time_window: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    auto_approve: bool = False


class Plan(PlanBase, table=True):
    """A plan of one workspace."""

    __tablename__ = "plan"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_plan_workspace_name"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
