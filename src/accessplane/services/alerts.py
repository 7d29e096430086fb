"""Alert rules: their CRUD, and evaluating them over the call log (docs/observability.md).

The worker (``notify/alerts.py``) calls ``evaluate_rule`` for every enabled rule on an
interval, never the decision path. Each rule keeps a watermark (``evaluated_until``): a pass
reads the call log from a little before it (calls reach the log in batches, so the last
window is read again) up to now, in fixed windows of the rule's length. An alert is one row
keyed by (rule, subject, window start) and inserted with ON CONFLICT DO NOTHING, so however
many workers evaluate at once, each condition and window raises one alert, and only the
worker whose insert won runs its actions (mail, the ``alert.raised`` webhook, suspension),
in the same transaction as the alert.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.permissions import Permission
from accessplane.auth.principals import SYSTEM, Principal
from accessplane.db import transaction
from accessplane.errors import UserErrorCode
from accessplane.models import (
    AccessProfile,
    Alert,
    AlertRule,
    AlertRuleKind,
    Call,
    CredentialUsageHour,
    Member,
    MemberKind,
    NotificationKind,
    Plan,
    QuotaPeriod,
    Role,
    User,
    Workspace,
)
from accessplane.models.base import utcnow
from accessplane.notify.links import ConsoleLinks, global_id
from accessplane.services import audit, webhooks
from accessplane.services.calls import ip_text
from accessplane.services.notifications import enqueue, subjects_of
from accessplane.services.pagination import Page, PageArgs, paginate
from accessplane.services.scoping import get_scoped
from accessplane.services.uniqueness import check_unique_name
from accessplane.services.validation import Checks

LABEL = "Alert rule"
MAX_RULES_PER_WORKSPACE = 100
MAX_RECIPIENTS = 20
MAX_THRESHOLD = 1_000_000
MAX_WINDOW_MINUTES = 24 * 60
# Reasons a DENIAL_BURST may count: denials the call log attributes to an app. Calls with an
# unknown credential (and revoked or expired ones) carry no workspace, so no rule sees them.
BURST_REASONS = frozenset(
    {
        "ip_not_allowed",
        "api_not_granted",
        "operation_not_allowed",
        "insufficient_scope",
        "inactive_client",
        "outside_time_window",
        "rate_limited",
        "quota_exceeded",
        "certificate_required",
        "certificate_expired",
        "invalid_token",
    }
)
PRESENTED_REASONS = ("expired", "revoked")
QUOTA_LEVELS = (80, 100)
# Calls reach the log in batches off the request path: each pass reads again from this long
# before its watermark, so a call flushed late still counts in its window.
LATE_CALLS = timedelta(minutes=2)
# A pass never reads further back than this many windows (a rule created, or a worker
# stopped, long ago), which bounds its statements.
MAX_WINDOWS_PER_PASS = 60
# How many (app, network) pairs a NEW_NETWORK pass looks at.
MAX_NETWORKS_PER_PASS = 1000
# NEW_NETWORK alerts are once per app and network, ever: one fixed "window".
_EVER = datetime(1970, 1, 1, tzinfo=UTC)
ACCESS_PROFILE = "ACCESS_PROFILE"


@dataclass(frozen=True, slots=True)
class RuleInput:
    """A rule's settable fields; ``None`` keeps the current value on update."""

    name: str | None = None
    kind: AlertRuleKind | None = None
    enabled: bool | None = None
    reasons: Sequence[str] | None = None
    threshold: int | None = None
    window_minutes: int | None = None
    notify_mail: bool | None = None
    recipients: Sequence[str] | None = None
    notify_webhook: bool | None = None
    suspend: bool | None = None


def _summary(rule: AlertRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "kind": rule.kind,
        "enabled": rule.enabled,
        "reasons": list(rule.reasons),
        "threshold": rule.threshold,
        "windowMinutes": rule.window_minutes,
        "notifyMail": rule.notify_mail,
        "recipients": list(rule.recipients),
        "notifyWebhook": rule.notify_webhook,
        "suspend": rule.suspend,
    }


def _apply(checks: Checks, rule: AlertRule, given: RuleInput) -> None:
    """Set the given fields on ``rule``, refusing bad values field by field."""
    if given.name is not None:
        rule.name = checks.text("name", given.name, max_length=100)
    if given.kind is not None:
        rule.kind = given.kind.value
    for name in ("enabled", "notify_mail", "notify_webhook", "suspend"):
        if getattr(given, name) is not None:
            setattr(rule, name, bool(getattr(given, name)))
    if given.threshold is not None:
        if not 1 <= given.threshold <= MAX_THRESHOLD:
            checks.add(
                "threshold", f"threshold must be 1 to {MAX_THRESHOLD}.", UserErrorCode.INVALID
            )
        rule.threshold = given.threshold
    if given.window_minutes is not None:
        if not 1 <= given.window_minutes <= MAX_WINDOW_MINUTES:
            checks.add(
                "window_minutes",
                f"windowMinutes must be 1 to {MAX_WINDOW_MINUTES} (a day).",
                UserErrorCode.INVALID,
            )
        rule.window_minutes = given.window_minutes
    if given.recipients is not None:
        rule.recipients = _recipients_of(checks, given.recipients)
    if given.reasons is not None:
        rule.reasons = sorted({r.strip().lower() for r in given.reasons[:100]})
    _check_kind(checks, rule)


def _recipients_of(checks: Checks, given: Sequence[str]) -> list[str]:
    if not checks.at_most("recipients", len(given), MAX_RECIPIENTS, "recipients"):
        return []
    emails = [checks.email(f"recipients.{i}", value) for i, value in enumerate(given)]
    return sorted(set(emails))


def _check_kind(checks: Checks, rule: AlertRule) -> None:
    """What each kind needs: DENIAL_BURST its reasons; the others take none."""
    if rule.kind == AlertRuleKind.DENIAL_BURST:
        unknown = sorted(set(rule.reasons) - BURST_REASONS)
        if not rule.reasons:
            checks.add(
                "reasons", "A DENIAL_BURST rule counts at least one reason.", UserErrorCode.REQUIRED
            )
        elif unknown:
            checks.add(
                "reasons",
                f"Not a reason a rule can count: {', '.join(unknown)[:200]}. Calls with an "
                "unknown, revoked or expired credential belong to no workspace; choose from "
                f"{', '.join(sorted(BURST_REASONS))}.",
                UserErrorCode.INVALID,
            )
    elif rule.reasons:
        checks.add("reasons", f"A {rule.kind} rule takes no reasons.", UserErrorCode.INVALID)
    if rule.suspend and rule.kind == AlertRuleKind.NEW_NETWORK:
        # A new network is often a legitimate move (a new office, a cloud region); suspending
        # on it would take an app down for normal growth.
        checks.add("suspend", "A NEW_NETWORK rule cannot suspend.", UserErrorCode.INVALID)


async def create_rule(
    *,
    session: AsyncSession,
    actor: Principal,
    workspace_id: uuid.UUID,
    given: RuleInput,
) -> AlertRule:
    """Create a rule; it reads the calls from its creation on."""
    actor.require(workspace_id, Permission.MANAGE_ALERTS)
    checks = Checks()
    rule = AlertRule(workspace_id=workspace_id, name="", kind="", evaluated_until=utcnow())
    if given.kind is None:
        checks.add("kind", "kind is required.", UserErrorCode.REQUIRED)
    _apply(checks, rule, given if given.name is not None else replace(given, name=""))
    await check_unique_name(checks, session, AlertRule, workspace_id, rule.name, label=LABEL)
    existing = await session.scalar(
        select(func.count())
        .select_from(AlertRule)
        .where(col(AlertRule.workspace_id) == workspace_id)
    )
    if int(existing or 0) >= MAX_RULES_PER_WORKSPACE:
        checks.add(
            None,
            f"A workspace has at most {MAX_RULES_PER_WORKSPACE} alert rules; delete one first.",
            UserErrorCode.INVALID,
        )
    checks.raise_if_any()
    async with transaction(session):
        session.add(rule)
        audit.record_change(
            session, actor, rule, audit.AuditAction.CREATE_ALERT_RULE, after=_summary(rule)
        )
    return rule


async def get_rule(session: AsyncSession, actor: Principal, rule_id: uuid.UUID) -> AlertRule:
    """A rule the actor may manage, or NOT_FOUND / FORBIDDEN."""
    return await get_scoped(
        session, actor, AlertRule, rule_id, Permission.MANAGE_ALERTS, label=LABEL
    )


async def update_rule(
    *, session: AsyncSession, actor: Principal, rule_id: uuid.UUID, given: RuleInput
) -> AlertRule:
    """Edit a rule; fields left out keep their value."""
    rule = await get_rule(session, actor, rule_id)
    before = _summary(rule)
    checks = Checks()
    _apply(checks, rule, given)
    await check_unique_name(
        checks, session, AlertRule, rule.workspace_id, rule.name, rule.id, label=LABEL
    )
    if checks.errors:
        await session.rollback()  # forget the refused values set on the loaded row
        checks.raise_if_any()
    async with transaction(session):
        rule.updated_at = utcnow()
        session.add(rule)
        audit.record_change(
            session,
            actor,
            rule,
            audit.AuditAction.UPDATE_ALERT_RULE,
            before=before,
            after=_summary(rule),
        )
    return rule


async def delete_rule(*, session: AsyncSession, actor: Principal, rule_id: uuid.UUID) -> AlertRule:
    """Delete a rule with its alerts."""
    rule = await get_rule(session, actor, rule_id)
    async with transaction(session):
        audit.record_change(
            session, actor, rule, audit.AuditAction.DELETE_ALERT_RULE, before=_summary(rule)
        )
        await session.delete(rule)
    return rule


async def list_rules(
    *, session: AsyncSession, actor: Principal, workspace_id: uuid.UUID, args: PageArgs
) -> Page[AlertRule]:
    """The workspace's rules, oldest first."""
    actor.require(workspace_id, Permission.MANAGE_ALERTS)
    query = select(AlertRule).where(col(AlertRule.workspace_id) == workspace_id)
    return await paginate(
        session, query, sort=[col(AlertRule.created_at), col(AlertRule.id)], args=args
    )


async def list_alerts(
    *, session: AsyncSession, actor: Principal, workspace_id: uuid.UUID, args: PageArgs
) -> Page[Alert]:
    """The workspace's alerts, newest first (keyset on raised_at, id)."""
    actor.require(workspace_id, Permission.GET_AUDIT_LOG)
    query = select(Alert).where(col(Alert.workspace_id) == workspace_id)
    return await paginate(
        session,
        query,
        sort=[col(Alert.raised_at), col(Alert.id)],
        args=args,
        descending=True,
    )


async def resume_access_profile(
    *, session: AsyncSession, actor: Principal, access_profile_id: uuid.UUID
) -> AccessProfile:
    """Lift an app's suspension: its calls are decided as before, at once (change tags)."""
    app = await get_scoped(
        session, actor, AccessProfile, access_profile_id, Permission.MANAGE_CLIENTS, label="App"
    )
    if app.suspended_at is None:
        checks = Checks()
        checks.add("id", "The app is not suspended.", UserErrorCode.INVALID)
        checks.raise_if_any()
    before = {"suspendedAt": app.suspended_at.isoformat() if app.suspended_at else None}
    async with transaction(session):
        app.suspended_at, app.suspended_reason = None, ""
        app.version += 1
        app.updated_at = utcnow()
        session.add(app)
        audit.record_change(
            session,
            actor,
            app,
            audit.AuditAction.RESUME_ACCESS_PROFILE,
            before=before,
            after={"suspendedAt": None},
        )
    return app


# -- evaluation ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """A condition met: what it is about and in which window."""

    subject: str
    access_profile_id: uuid.UUID | None
    window_start: datetime
    count: int
    summary: str


def window_floor(moment: datetime, minutes: int) -> datetime:
    """The start of the fixed window of ``minutes`` holding ``moment`` (from the epoch)."""
    size = minutes * 60
    seconds = int((moment - _EVER).total_seconds())
    return _EVER + timedelta(seconds=seconds - seconds % size)


def _windows(rule: AlertRule, now: datetime) -> list[datetime]:
    """The starts of the windows a pass reads, oldest first."""
    size = timedelta(minutes=rule.window_minutes)
    since = (rule.evaluated_until or now) - LATE_CALLS
    start = max(
        window_floor(since, rule.window_minutes),
        window_floor(now, rule.window_minutes) - size * (MAX_WINDOWS_PER_PASS - 1),
    )
    starts = []
    while start <= now:
        starts.append(start)
        start += size
    return starts


async def _reason_counts(
    session: AsyncSession, rule: AlertRule, reasons: Sequence[str], now: datetime
) -> list[Finding]:
    """Per app and window: how many calls had one of ``reasons``, where at least the rule's
    threshold."""
    size = timedelta(minutes=rule.window_minutes)
    found: list[Finding] = []
    for start in _windows(rule, now):
        rows = (
            await session.execute(
                select(col(Call.principal_id), func.count())
                .where(
                    col(Call.workspace_id) == rule.workspace_id,
                    col(Call.at) >= start,
                    col(Call.at) < start + size,
                    col(Call.reason).in_(list(reasons)),
                    col(Call.principal_type) == ACCESS_PROFILE,
                )
                .group_by(col(Call.principal_id))
                .having(func.count() >= rule.threshold)
            )
        ).all()
        found.extend(
            Finding(
                f"access_profile:{app_id}",
                app_id,
                start,
                int(count),
                f"{count} calls ({', '.join(reasons)}) within {rule.window_minutes} min",
            )
            for app_id, count in rows
        )
    return found


def network_of(stored: bytes) -> tuple[str, bytes, bytes] | None:
    """The /24 (IPv4) or /64 (IPv6) holding a stored address: its text and byte range."""
    text = ip_text(stored)
    if text is None:
        return None
    address = ipaddress.ip_address(text)
    prefix = 24 if address.version == 4 else 64
    network = ipaddress.ip_network(f"{text}/{prefix}", strict=False)
    low = stored[: 12 if address.version == 4 else 0] + network.network_address.packed
    high = stored[: 12 if address.version == 4 else 0] + network.broadcast_address.packed
    return str(network), low, high


async def _new_networks(session: AsyncSession, rule: AlertRule, now: datetime) -> list[Finding]:
    """Apps called from a network none of their calls before the pass came from (within the
    call log's retention: an older visit is forgotten with its calls)."""
    since = (rule.evaluated_until or now) - LATE_CALLS
    rows = (
        await session.execute(
            select(col(Call.principal_id), col(Call.ip), func.min(col(Call.at)))
            .where(
                col(Call.workspace_id) == rule.workspace_id,
                col(Call.at) >= since,
                col(Call.at) <= now,
                col(Call.principal_type) == ACCESS_PROFILE,
                col(Call.ip).is_not(None),
            )
            .group_by(col(Call.principal_id), col(Call.ip))
            .limit(MAX_NETWORKS_PER_PASS)
        )
    ).all()
    first_seen: dict[tuple[uuid.UUID, str], tuple[bytes, bytes, datetime]] = {}
    for app_id, stored, at in rows:
        network = network_of(stored) if stored is not None else None
        if app_id is None or network is None:
            continue
        key = (app_id, network[0])
        if key not in first_seen or at < first_seen[key][2]:
            first_seen[key] = (network[1], network[2], at)
    found: list[Finding] = []
    for (app_id, cidr), (low, high, at) in first_seen.items():
        seen_before = await session.scalar(
            select(col(Call.id))
            .where(
                col(Call.workspace_id) == rule.workspace_id,
                col(Call.principal_type) == ACCESS_PROFILE,
                col(Call.principal_id) == app_id,
                col(Call.ip) >= low,
                col(Call.ip) <= high,
                col(Call.at) < at,
            )
            .limit(1)
        )
        if seen_before is None:
            found.append(
                Finding(
                    f"access_profile:{app_id} network:{cidr}",
                    app_id,
                    _EVER,
                    1,
                    f"first call from {cidr}",
                )
            )
    return found


def quota_period_start(period: str, now: datetime) -> datetime:
    """The start of the current quota period (calendar day or month, UTC)."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day.replace(day=1) if period == QuotaPeriod.MONTH else day


async def _quota_levels(session: AsyncSession, rule: AlertRule, now: datetime) -> list[Finding]:
    """Apps whose allowed calls this quota period (``credential_usage_hour``, reason ok)
    reached 80 % or 100 % of their plan's quota."""
    rows = (
        await session.execute(
            select(col(AccessProfile.id), col(Plan.quota_requests), col(Plan.quota_period))
            .join(Plan, col(Plan.id) == col(AccessProfile.plan_id))
            .where(
                col(AccessProfile.workspace_id) == rule.workspace_id,
                col(Plan.quota_requests).is_not(None),
                col(Plan.quota_period).is_not(None),
            )
        )
    ).all()
    found = []
    for app_id, quota, period in rows:
        if quota is None or period is None:
            continue
        start = quota_period_start(period, now)
        used = await session.scalar(
            select(func.coalesce(func.sum(col(CredentialUsageHour.count)), 0)).where(
                col(CredentialUsageHour.principal_type) == ACCESS_PROFILE,
                col(CredentialUsageHour.principal_id) == app_id,
                col(CredentialUsageHour.hour) >= start,
                col(CredentialUsageHour.reason) == "ok",
            )
        )
        for level in QUOTA_LEVELS:
            if int(used or 0) * 100 >= quota * level:
                found.append(
                    Finding(
                        f"access_profile:{app_id} quota:{level}",
                        app_id,
                        start,
                        int(used or 0),
                        f"{used} of {quota} calls this {str(period).lower()} ({level} %)",
                    )
                )
    return found


async def findings(session: AsyncSession, rule: AlertRule, now: datetime) -> list[Finding]:
    """The conditions the rule meets in the calls since its watermark."""
    if rule.kind == AlertRuleKind.DENIAL_BURST:
        return await _reason_counts(session, rule, sorted(rule.reasons), now)
    if rule.kind == AlertRuleKind.REVOKED_CREDENTIAL_PRESENTED:
        return await _reason_counts(session, rule, PRESENTED_REASONS, now)
    if rule.kind == AlertRuleKind.NEW_NETWORK:
        return await _new_networks(session, rule, now)
    return await _quota_levels(session, rule, now)


def _insert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql_insert if dialect == "postgresql" else sqlite_insert


async def raise_alert(
    session: AsyncSession, rule: AlertRule, finding: Finding, now: datetime
) -> Alert | None:
    """Insert the alert unless (rule, subject, window) exists; None if it did (another pass
    or worker raised it), so only the winner acts."""
    alert_id = await session.scalar(
        _insert(session)(Alert)
        .values(
            id=uuid.uuid4(),
            workspace_id=rule.workspace_id,
            rule_id=rule.id,
            kind=rule.kind,
            subject=finding.subject[:200],
            access_profile_id=finding.access_profile_id,
            window_start=finding.window_start,
            count=finding.count,
            summary=finding.summary[:500],
            suspended=False,
            raised_at=now,
        )
        .on_conflict_do_nothing()
        .returning(col(Alert.id))
    )
    return None if alert_id is None else await session.get(Alert, alert_id)


async def admin_emails(session: AsyncSession, workspace_id: uuid.UUID) -> list[str]:
    """The workspace's people who manage alerts (Owners and Admins by default)."""
    rows = (
        await session.execute(
            select(col(User.email), col(Role.permissions))
            .join(Member, col(Member.user_id) == col(User.id))
            .join(Role, col(Role.id) == col(Member.role_id))
            .where(col(Member.workspace_id) == workspace_id, col(Member.kind) == MemberKind.HUMAN)
            .order_by(col(User.email))
        )
    ).all()
    wanted = Permission.MANAGE_ALERTS.value
    return [
        email for email, permissions in rows if any(p.get("name") == wanted for p in permissions)
    ]


async def _suspend(
    session: AsyncSession, alert: Alert, rule: AlertRule, now: datetime
) -> AccessProfile | None:
    """Suspend the alert's app (unless it already is), audited as the system."""
    if alert.access_profile_id is None:
        return None
    app = await session.get(AccessProfile, alert.access_profile_id)
    if app is None or app.workspace_id != rule.workspace_id or app.suspended_at is not None:
        return None
    app.suspended_at = now
    app.suspended_reason = f"Alert rule {rule.name!r}: {alert.summary}"[:500]
    app.version += 1
    app.updated_at = now
    session.add(app)
    alert.suspended = True
    session.add(alert)
    audit.record_change(
        session,
        SYSTEM,
        app,
        audit.AuditAction.SUSPEND_ACCESS_PROFILE,
        before={"suspendedAt": None},
        after={
            "suspendedAt": now.isoformat(),
            "reason": app.suspended_reason,
            "alertRule": rule.name,
        },
    )
    return app


async def act(
    session: AsyncSession, rule: AlertRule, alert: Alert, links: ConsoleLinks, now: datetime
) -> None:
    """The rule's actions for a newly raised alert, in its transaction."""
    app = await _suspend(session, alert, rule, now) if rule.suspend else None
    named = (
        await session.get(AccessProfile, alert.access_profile_id)
        if alert.access_profile_id
        else None
    )
    if rule.notify_webhook:
        await webhooks.enqueue_event(
            session=session,
            workspace_id=rule.workspace_id,
            event_type="alert.raised",
            payload={
                "alertId": global_id("Alert", alert.id),
                "rule": {
                    "id": global_id("AlertRule", rule.id),
                    "name": rule.name,
                    "kind": rule.kind,
                },
                "subject": alert.subject,
                "accessProfileId": global_id("AccessProfile", named.id) if named else None,
                "windowStart": alert.window_start.isoformat(),
                "count": alert.count,
                "summary": alert.summary,
                "suspended": alert.suspended,
            },
        )
    if not rule.notify_mail:
        return
    workspace = await session.get(Workspace, rule.workspace_id)
    base = f"{links.base_url}/workspaces/{global_id('Workspace', rule.workspace_id)}"
    context = {
        "workspace_name": workspace.name if workspace else "",
        "rule_name": rule.name,
        "kind": rule.kind,
        "app_name": named.name if named else "",
        "summary": alert.summary,
        "window_start": alert.window_start.strftime("%Y-%m-%d %H:%M"),
        "suspended": app is not None,
        "console_url": f"{base}/alerts",
        "app_url": f"{base}/clients/{global_id('Client', named.client_id)}" if named else "",
    }
    subjects = await subjects_of(session, rule.workspace_id)
    for recipient in list(rule.recipients) or await admin_emails(session, rule.workspace_id):
        enqueue(
            session,
            workspace_id=rule.workspace_id,
            kind=NotificationKind.ALERT,
            recipient=recipient,
            context=context,
            subjects=subjects,
            now=now,
        )


async def evaluate_rule(
    session: AsyncSession, rule: AlertRule, links: ConsoleLinks, now: datetime
) -> int:
    """One pass of one rule in the caller's transaction: raise and act on what it finds,
    then advance its watermark; returns how many alerts this pass raised."""
    raised = 0
    # One order for every worker, so two passes racing lock alert keys alike (no deadlock).
    found = sorted(await findings(session, rule, now), key=lambda f: (f.window_start, f.subject))
    for finding in found:
        alert = await raise_alert(session, rule, finding, now)
        if alert is not None:
            await act(session, rule, alert, links, now)
            raised += 1
    if rule.evaluated_until is None or rule.evaluated_until < now:
        rule.evaluated_until = now
        session.add(rule)
    return raised
