"""Plans: rate limits, quotas, an optional time window, and whether requests are approved at
once. Every principal with ``getProduct`` sees every plan (consumers choose one)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.permissions import Permission
from accessplane.auth.principals import Principal
from accessplane.db import transaction
from accessplane.errors import InputError, UserErrorCode
from accessplane.models import (
    AccessProfile,
    AccessRequest,
    AccessRequestStatus,
    Plan,
    QuotaPeriod,
    RateLimitPeriod,
    Weekday,
)
from accessplane.services.audit import AuditAction, record, record_change
from accessplane.services.pagination import Page, PageArgs, paginate
from accessplane.services.scoping import get_scoped
from accessplane.services.uniqueness import (
    check_unique_name,
    recheck_unique_name,
)
from accessplane.services.validation import Checks

MAX_REQUESTS = 1_000_000_000
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


LABEL = "A plan"  # how userErrors name this kind of object


class Keep(Enum):
    """A field of an update that keeps its value (``None`` clears it)."""

    KEEP = "KEEP"


KEEP = Keep.KEEP


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``requests`` per second, minute or hour."""

    requests: int
    period: RateLimitPeriod


@dataclass(frozen=True, slots=True)
class Quota:
    """At most ``requests`` per calendar day or month (UTC)."""

    requests: int
    period: QuotaPeriod


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Calls are allowed on ``days`` from ``start`` to ``end`` ("HH:MM", local time in
    ``time_zone``); an ``end`` before ``start`` runs past midnight into the next day."""

    days: Sequence[Weekday]
    start: str
    end: str
    time_zone: str

    def stored(self) -> dict[str, Any]:
        order = list(Weekday)
        days = sorted(set(self.days), key=order.index)
        return {
            "days": [d.value for d in days],
            "start": self.start,
            "end": self.end,
            "timeZone": self.time_zone,
        }


def _check_count(checks: Checks, field: str, requests: int, *, label: str) -> None:
    if not 1 <= requests <= MAX_REQUESTS:
        checks.add(field, f"{label} must be between 1 and {MAX_REQUESTS}.", UserErrorCode.INVALID)


def _check_window(checks: Checks, window: TimeWindow) -> dict[str, Any] | None:
    before = len(checks.errors)
    if not window.days:
        checks.add("time_window.days", "Name at least one day.", UserErrorCode.REQUIRED)
    for part, value in (("start", window.start), ("end", window.end)):
        if not _TIME.match(value):
            checks.add(
                f"time_window.{part}",
                f"timeWindow.{part} must be a time HH:MM (00:00 to 23:59).",
                UserErrorCode.INVALID,
            )
    if window.start == window.end and _TIME.match(window.start):
        checks.add(
            "time_window.end",
            "The window is empty: end equals start (leave the window out for all day).",
            UserErrorCode.INVALID,
        )
    try:
        if not window.time_zone or ("/" not in window.time_zone and window.time_zone != "UTC"):
            raise ZoneInfoNotFoundError(window.time_zone)
        ZoneInfo(window.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        checks.add(
            "time_window.time_zone",
            f"'{window.time_zone[:60]}' is not an IANA time zone (e.g. Europe/Berlin, UTC).",
            UserErrorCode.INVALID,
        )
    return window.stored() if len(checks.errors) == before else None


def _summary(plan: Plan) -> dict[str, Any]:
    return {
        "name": plan.name,
        "rateLimit": (
            {"requests": plan.rate_limit_requests, "period": plan.rate_limit_period.value}
            if plan.rate_limit_period is not None
            else None
        ),
        "quota": (
            {"requests": plan.quota_requests, "period": plan.quota_period.value}
            if plan.quota_period is not None
            else None
        ),
        "timeWindow": plan.time_window,
        "autoApprove": plan.auto_approve,
    }


def _apply_limits(
    checks: Checks,
    plan: Plan,
    rate_limit: RateLimit | Keep | None,
    quota: Quota | Keep | None,
    time_window: TimeWindow | Keep | None,
) -> None:
    if rate_limit is None:
        plan.rate_limit_requests, plan.rate_limit_period = None, None
    elif isinstance(rate_limit, RateLimit):
        _check_count(checks, "rate_limit.requests", rate_limit.requests, label="rateLimit.requests")
        plan.rate_limit_requests, plan.rate_limit_period = rate_limit.requests, rate_limit.period
    if quota is None:
        plan.quota_requests, plan.quota_period = None, None
    elif isinstance(quota, Quota):
        _check_count(checks, "quota.requests", quota.requests, label="quota.requests")
        plan.quota_requests, plan.quota_period = quota.requests, quota.period
    if time_window is None:
        plan.time_window = None
    elif isinstance(time_window, TimeWindow):
        plan.time_window = _check_window(checks, time_window)


async def create_plan(
    *,
    session: AsyncSession,
    actor: Principal,
    workspace_id: uuid.UUID,
    name: str,
    description: str = "",
    rate_limit: RateLimit | None = None,
    quota: Quota | None = None,
    time_window: TimeWindow | None = None,
    auto_approve: bool = False,
) -> Plan:
    """Create a plan."""
    actor.require(workspace_id, Permission.MANAGE_PLANS)
    checks = Checks()
    plan = Plan(
        workspace_id=workspace_id,
        name=checks.text("name", name, max_length=100),
        description=checks.text("description", description, max_length=2000, required=False),
        auto_approve=auto_approve,
    )
    _apply_limits(checks, plan, rate_limit, quota, time_window)
    await check_unique_name(checks, session, Plan, workspace_id, plan.name, label=LABEL)
    checks.raise_if_any()
    try:
        async with transaction(session):
            session.add(plan)
            record(
                session,
                actor=actor,
                workspace_id=workspace_id,
                action=AuditAction.CREATE_PLAN,
                target_type="Plan",
                target_id=plan.id,
                after=_summary(plan),
            )
    except IntegrityError:
        # A concurrent create took the name (DUPLICATE), or a row this one refers to went
        # (re-raised: CONFLICT, and a retry says which).
        await recheck_unique_name(session, Plan, workspace_id, plan.name, label=LABEL)
        raise
    return plan


async def update_plan(
    *,
    session: AsyncSession,
    actor: Principal,
    plan_id: uuid.UUID,
    name: str | None = None,
    description: str | None = None,
    rate_limit: RateLimit | Keep | None = KEEP,
    quota: Quota | Keep | None = KEEP,
    time_window: TimeWindow | Keep | None = KEEP,
    auto_approve: bool | None = None,
) -> Plan:
    """Edit a plan; ``None`` clears a limit, ``KEEP`` (the default) keeps it. Apps on the plan
    get the new limits on their next decision."""
    plan = await get_scoped(session, actor, Plan, plan_id, Permission.MANAGE_PLANS, label="Plan")
    workspace_id = plan.workspace_id  # read now: a rollback expires the plan
    before = _summary(plan)
    checks = Checks()
    new_name = plan.name if name is None else checks.text("name", name, max_length=100)
    new_description = (
        plan.description
        if description is None
        else checks.text("description", description, max_length=2000, required=False)
    )
    if name is not None:
        await check_unique_name(
            checks, session, Plan, plan.workspace_id, new_name, plan.id, label=LABEL
        )
    try:
        async with transaction(session):
            plan.name, plan.description = new_name, new_description
            if auto_approve is not None:
                plan.auto_approve = auto_approve
            _apply_limits(checks, plan, rate_limit, quota, time_window)
            checks.raise_if_any()  # inside: the rollback undoes the changed attributes
            session.add(plan)
            record_change(
                session, actor, plan, AuditAction.UPDATE_PLAN, before=before, after=_summary(plan)
            )
    except IntegrityError:
        await recheck_unique_name(session, Plan, workspace_id, new_name, plan_id, label=LABEL)
        raise
    return plan


async def _in_use(session: AsyncSession, plan_id: uuid.UUID) -> bool:
    held = exists().where(col(AccessProfile.plan_id) == plan_id)
    pending = exists().where(
        col(AccessRequest.plan_id) == plan_id,
        col(AccessRequest.status) == AccessRequestStatus.PENDING,
    )
    return bool(await session.scalar(select(or_(held, pending))))


async def delete_plan(*, session: AsyncSession, actor: Principal, plan_id: uuid.UUID) -> Plan:
    """Delete a plan no app is on and no pending request names (``IN_USE``)."""
    plan = await get_scoped(session, actor, Plan, plan_id, Permission.MANAGE_PLANS, label="Plan")
    if await _in_use(session, plan.id):
        raise InputError.one(
            "id",
            "Apps are on this plan or pending requests name it; move them first.",
            UserErrorCode.IN_USE,
        )
    async with transaction(session):
        record(
            session,
            actor=actor,
            workspace_id=plan.workspace_id,
            action=AuditAction.DELETE_PLAN,
            target_type="Plan",
            target_id=plan.id,
            before=_summary(plan),
        )
        await session.delete(plan)
    return plan


async def list_plans(
    *,
    session: AsyncSession,
    actor: Principal,
    workspace_id: uuid.UUID,
    search: str | None,
    args: PageArgs,
) -> Page[Plan]:
    """The workspace's plans, by name."""
    actor.require(workspace_id, Permission.GET_PRODUCT)
    query = select(Plan).where(col(Plan.workspace_id) == workspace_id)
    if search and search.strip():
        term = search.strip().lower()
        query = query.where(func.lower(col(Plan.name)).contains(term, autoescape=True))
    return await paginate(session, query, sort=[col(Plan.name), col(Plan.id)], args=args)
