"""Evaluating alert rules over the call log: fixed windows read again a little before the
watermark (late calls count), each alert once per (rule, subject, window), new networks per
/24 and /64 against the app's retained history, quota levels from the usage hours, revoked or
expired credentials, and who is mailed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.models import (
    AccessProfile,
    Alert,
    AlertRule,
    AlertRuleKind,
    CredentialUsageHour,
    Notification,
    QuotaPeriod,
)
from accessplane.notify.links import ConsoleLinks
from accessplane.services import alerts, plans
from accessplane.services.alerts import RuleInput, evaluate_rule, network_of, window_floor
from accessplane.services.calls import ip_bytes
from tests.support.calls import START, add_calls
from tests.support.scenario import Scenario, World

LINKS = ConsoleLinks("https://access.example.com")


async def app_of(scenario: Scenario, world: World) -> AccessProfile:
    client = await scenario.client(world)
    return (await scenario.app(world, client)).access_profile


async def rule_of(
    scenario: Scenario, world: World, since: datetime = START, **fields: object
) -> AlertRule:
    given = RuleInput(**{"name": "Rule", "notify_webhook": False, **fields})  # type: ignore[arg-type]
    rule = await alerts.create_rule(
        session=scenario.session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        given=given,
    )
    rule.evaluated_until = since  # as if created then
    await scenario.session.commit()
    return rule


async def evaluate(session: AsyncSession, rule: AlertRule, now: datetime) -> int:
    raised = await evaluate_rule(session, rule, LINKS, now)
    await session.commit()
    return raised


async def denials(session: AsyncSession, world: World, app: AccessProfile, count: int, **kw):  # type: ignore[no-untyped-def]
    return await add_calls(
        session,
        world.workspace.id,
        count,
        principal_type="ACCESS_PROFILE",
        principal_id=app.id,
        reason=kw.pop("reason", "ip_not_allowed"),
        allowed=False,
        **kw,
    )


def test_windows_are_fixed_from_the_epoch() -> None:
    moment = datetime(2026, 3, 1, 12, 7, 30, tzinfo=UTC)
    assert window_floor(moment, 5) == datetime(2026, 3, 1, 12, 5, tzinfo=UTC)
    assert window_floor(moment, 1440) == datetime(2026, 3, 1, tzinfo=UTC)


def test_networks_are_the_24_or_64_holding_an_address() -> None:
    four = network_of(ip_bytes("198.51.100.77") or b"")
    assert four is not None
    assert four[0] == "198.51.100.0/24"
    assert four[1] == ip_bytes("198.51.100.0")
    assert four[2] == ip_bytes("198.51.100.255")
    six = network_of(ip_bytes("2001:db8:1:2::9") or b"")
    assert six is not None
    assert six[0] == "2001:db8:1:2::/64"


async def test_a_burst_raises_once_per_window_and_a_late_call_still_counts(
    scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    app = await app_of(scenario, world)
    rule = await rule_of(
        scenario,
        world,
        kind=AlertRuleKind.DENIAL_BURST,
        reasons=["ip_not_allowed"],
        threshold=3,
        window_minutes=5,
    )
    await denials(session, world, app, 2)  # 12:00:00, 12:00:01
    assert await evaluate(session, rule, START + timedelta(minutes=1)) == 0
    # A third call of the same window, flushed after the pass moved the watermark on.
    await denials(session, world, app, 1, start=START + timedelta(seconds=30))
    assert await evaluate(session, rule, START + timedelta(minutes=2)) == 1
    assert await evaluate(session, rule, START + timedelta(minutes=3)) == 0  # once
    # The next window: a burst again is a new alert.
    await denials(session, world, app, 3, start=START + timedelta(minutes=5))
    assert await evaluate(session, rule, START + timedelta(minutes=6)) == 1
    raised = (await session.scalars(select(Alert).order_by(col(Alert.window_start)))).all()
    assert [(a.window_start, a.count) for a in raised] == [
        (START, 3),
        (START + timedelta(minutes=5), 3),
    ]
    assert {a.access_profile_id for a in raised} == {app.id}


async def test_other_reasons_and_other_workspaces_do_not_count(
    scenario: Scenario, session: AsyncSession
) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    app = await app_of(scenario, world)
    rule = await rule_of(
        scenario, world, kind=AlertRuleKind.DENIAL_BURST, reasons=["ip_not_allowed"], threshold=3
    )
    await denials(session, world, app, 2, reason="api_not_granted")
    await add_calls(
        session,
        other.workspace.id,
        5,
        principal_type="ACCESS_PROFILE",
        principal_id=app.id,
        reason="ip_not_allowed",
        allowed=False,
    )
    await denials(session, world, app, 2)
    assert await evaluate(session, rule, START + timedelta(minutes=1)) == 0


async def test_a_new_network_is_raised_once_and_a_known_one_never(
    scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    app = await app_of(scenario, world)
    await add_calls(
        session, world.workspace.id, 1, principal_type="ACCESS_PROFILE", principal_id=app.id,
        ip="198.51.100.4", start=START - timedelta(days=3),
    )  # fmt: skip
    rule = await rule_of(scenario, world, kind=AlertRuleKind.NEW_NETWORK)
    for ip in ("198.51.100.200", "203.0.113.9", "203.0.113.10", "2001:db8::1"):
        await add_calls(
            session, world.workspace.id, 1, principal_type="ACCESS_PROFILE", principal_id=app.id,
            ip=ip,
        )  # fmt: skip
    assert await evaluate(session, rule, START + timedelta(minutes=1)) == 2
    subjects = sorted((await session.scalars(select(col(Alert.subject)))).all())
    assert subjects == [
        f"access_profile:{app.id} network:2001:db8::/64",
        f"access_profile:{app.id} network:203.0.113.0/24",
    ]
    await add_calls(
        session, world.workspace.id, 1, principal_type="ACCESS_PROFILE", principal_id=app.id,
        ip="203.0.113.50", start=START + timedelta(minutes=2),
    )  # fmt: skip
    assert await evaluate(session, rule, START + timedelta(minutes=3)) == 0


async def test_quota_levels_80_and_100_percent_each_once_per_period(
    scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    plan = await plans.create_plan(
        session=scenario.session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        name="Metered",
        quota=plans.Quota(100, QuotaPeriod.DAY),
    )
    app = await app_of(scenario, world)
    row = await session.get(AccessProfile, app.id)
    assert row is not None
    row.plan_id = plan.id
    await session.commit()
    rule = await rule_of(scenario, world, kind=AlertRuleKind.QUOTA_THRESHOLD)

    async def used(count: int, hour: datetime) -> None:
        session.add(
            CredentialUsageHour(
                principal_type="ACCESS_PROFILE",
                principal_id=app.id,
                hour=hour,
                reason="ok",
                workspace_id=world.workspace.id,
                count=count,
            )
        )
        await session.commit()

    await used(500, START - timedelta(days=1))  # yesterday's period: not counted
    await used(79, START.replace(hour=1))
    assert await evaluate(session, rule, START) == 0
    await used(1, START.replace(hour=2))
    assert await evaluate(session, rule, START + timedelta(minutes=1)) == 1
    await used(20, START.replace(hour=3))
    assert await evaluate(session, rule, START + timedelta(minutes=2)) == 1
    assert await evaluate(session, rule, START + timedelta(minutes=3)) == 0
    subjects = sorted((await session.scalars(select(col(Alert.subject)))).all())
    assert subjects == [f"access_profile:{app.id} quota:100", f"access_profile:{app.id} quota:80"]


async def test_revoked_or_expired_credentials_presented_raise_and_mail_the_admins(
    scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    developer = await scenario.member(world, "Developer")
    app = await app_of(scenario, world)
    rule = await rule_of(
        scenario, world, kind=AlertRuleKind.REVOKED_CREDENTIAL_PRESENTED, threshold=1
    )
    await denials(session, world, app, 1, reason="revoked")
    assert await evaluate(session, rule, START + timedelta(minutes=1)) == 1
    recipients = (
        await session.scalars(
            select(col(Notification.recipient)).where(col(Notification.kind) == "alert")
        )
    ).all()
    # Owners and Admins hold manageAlerts; a Developer does not.
    assert list(recipients) == [world.owner.user.email]
    assert developer.user.email not in recipients


async def test_listed_recipients_replace_the_admins(
    scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    app = await app_of(scenario, world)
    rule = await rule_of(
        scenario,
        world,
        kind=AlertRuleKind.DENIAL_BURST,
        reasons=["ip_not_allowed"],
        threshold=1,
        recipients=["soc@example.com", "oncall@example.com"],
    )
    await denials(session, world, app, 1)
    assert await evaluate(session, rule, START + timedelta(minutes=1)) == 1
    recipients = sorted(
        (
            await session.scalars(
                select(col(Notification.recipient)).where(col(Notification.kind) == "alert")
            )
        ).all()
    )
    assert recipients == ["oncall@example.com", "soc@example.com"]
    count = await session.scalar(select(func.count()).select_from(Alert))
    assert count == 1
