"""Plans: rate limits, quotas, time windows and approval."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from accessplane import models
from accessplane.models import QuotaPeriod, RateLimitPeriod, Weekday
from accessplane.schema.base import UserError

RateLimitPeriodEnum = strawberry.enum(RateLimitPeriod, name="RateLimitPeriod")
QuotaPeriodEnum = strawberry.enum(QuotaPeriod, name="QuotaPeriod")
WeekdayEnum = strawberry.enum(Weekday, name="Weekday")


@strawberry.type
class RateLimit:
    """At most ``requests`` per ``period``."""

    requests: int
    period: RateLimitPeriodEnum  # type: ignore[valid-type]


@strawberry.type
class Quota:
    """At most ``requests`` per calendar day or month (UTC)."""

    requests: int
    period: QuotaPeriodEnum  # type: ignore[valid-type]


@strawberry.type
class TimeWindow:
    """Calls are allowed on ``days`` from ``start`` to ``end`` (HH:MM) in ``timeZone``; an end
    before the start runs past midnight."""

    days: list[WeekdayEnum]  # type: ignore[valid-type]
    start: str
    end: str
    time_zone: str

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> TimeWindow:
        return cls(
            days=[Weekday(d) for d in stored["days"]],
            start=stored["start"],
            end=stored["end"],
            time_zone=stored["timeZone"],
        )


@strawberry.type
class Plan(relay.Node):
    """A policy an app is granted with: limits and whether requests are approved at once."""

    id: relay.NodeID[str]
    name: str
    description: str
    rate_limit: RateLimit | None
    quota: Quota | None
    time_window: TimeWindow | None
    auto_approve: bool
    created_at: datetime
    pk: strawberry.Private[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, plan: models.Plan) -> Plan:
        return cls(
            id=str(plan.id),
            name=plan.name,
            description=plan.description,
            rate_limit=RateLimit(requests=plan.rate_limit_requests, period=plan.rate_limit_period)
            if plan.rate_limit_period is not None and plan.rate_limit_requests is not None
            else None,
            quota=Quota(requests=plan.quota_requests, period=plan.quota_period)
            if plan.quota_period is not None and plan.quota_requests is not None
            else None,
            time_window=TimeWindow.from_stored(plan.time_window) if plan.time_window else None,
            auto_approve=plan.auto_approve,
            created_at=plan.created_at,
            pk=plan.id,
            workspace_id=plan.workspace_id,
        )


@strawberry.input
class RateLimitInput:
    requests: int
    period: RateLimitPeriodEnum  # type: ignore[valid-type]


@strawberry.input
class QuotaInput:
    requests: int
    period: QuotaPeriodEnum  # type: ignore[valid-type]


@strawberry.input
class TimeWindowInput:
    days: list[WeekdayEnum]  # type: ignore[valid-type]
    start: str = strawberry.field(description="HH:MM, 00:00 to 23:59.")
    end: str = strawberry.field(description="HH:MM; before start: runs past midnight.")
    time_zone: str = strawberry.field(description="An IANA time zone, e.g. Europe/Berlin.")


@strawberry.input
class CreatePlanInput:
    workspace_id: relay.GlobalID
    name: str
    description: str = ""
    rate_limit: RateLimitInput | None = None
    quota: QuotaInput | None = None
    time_window: TimeWindowInput | None = None
    auto_approve: bool = False


@strawberry.input(description="Fields left out keep their value; null clears a limit.")
class UpdatePlanInput:
    id: relay.GlobalID
    name: str | None = None
    description: str | None = None
    rate_limit: RateLimitInput | None = strawberry.UNSET
    quota: QuotaInput | None = strawberry.UNSET
    time_window: TimeWindowInput | None = strawberry.UNSET
    auto_approve: bool | None = None


@strawberry.input
class DeletePlanInput:
    id: relay.GlobalID


@strawberry.type
class PlanPayload:
    plan: Plan | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeletePlanPayload:
    deleted_plan_id: relay.GlobalID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
