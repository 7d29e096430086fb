"""REVOKED_CREDENTIAL_PRESENTED end to end: an app's old ``apt_`` token (refreshed, or its app
deleted) presented through ``/v1/check`` is logged with the app and its workspace, so the rule
raises for that app; another workspace's rule does not see it."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.tokens import TokenKind, issue_token
from accessplane.decision.policies import global_id
from accessplane.models import Alert, AlertRule, AlertRuleKind, Call
from accessplane.models.base import utcnow
from accessplane.notify.links import ConsoleLinks
from accessplane.services import access_profiles, alerts
from accessplane.services.alerts import RuleInput, evaluate_rule
from tests.support.gateway import Gate, Shop, make_shop
from tests.support.scenario import Scenario, World

LINKS = ConsoleLinks("https://access.example.com")


@pytest.fixture
def gate(http: httpx.AsyncClient) -> Gate:
    return Gate(http)


@pytest.fixture
async def shop(scenario: Scenario) -> Shop:
    return await make_shop(scenario)


async def revoked_rule(scenario: Scenario, world: World) -> AlertRule:
    return await alerts.create_rule(
        session=scenario.session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        given=RuleInput(
            name="Old tokens",
            kind=AlertRuleKind.REVOKED_CREDENTIAL_PRESENTED,
            threshold=2,
            # A day's window: the calls of a test never straddle two windows (but at midnight).
            window_minutes=1440,
            notify_webhook=False,
        ),
    )


async def logged(app, session: AsyncSession) -> list[Call]:  # type: ignore[no-untyped-def]
    await app.state.call_log.flush()
    rows = (await session.scalars(select(Call).execution_options(populate_existing=True))).all()
    await session.commit()
    return list(rows)


async def raised(session: AsyncSession, rule: AlertRule) -> list[Alert]:
    count = await evaluate_rule(session, rule, LINKS, utcnow())
    await session.commit()
    alerts_of_rule = (
        await session.scalars(select(Alert).where(col(Alert.rule_id) == rule.id))
    ).all()
    assert count == len(alerts_of_rule)
    return list(alerts_of_rule)


async def test_a_refreshed_token_is_logged_with_its_app_and_raises_the_rule(
    app,  # type: ignore[no-untyped-def]
    gate: Gate,
    shop: Shop,
    scenario: Scenario,
    session: AsyncSession,
) -> None:
    rule = await revoked_rule(scenario, shop.world)
    elsewhere = await make_shop(scenario)
    their_rule = await revoked_rule(scenario, elsewhere.world)
    await access_profiles.refresh_access_profile_token(
        session=scenario.session,
        actor=shop.world.owner.principal,
        secret=scenario.secret,
        access_profile_id=shop.app.id,
    )

    answered = await gate.check(shop.token)
    assert answered["reason"] == "revoked"
    assert answered["principal"]["id"] == global_id("AccessProfile", shop.app.id)
    assert answered["principal"]["name"] == "web"
    assert answered["principal"]["workspaceId"] == global_id("Workspace", shop.world.workspace.id)
    assert (await gate.authorize(shop.token)).status_code == 401

    calls = await logged(app, session)
    assert [(c.reason, c.allowed) for c in calls] == [("revoked", False)] * 2
    for call in calls:
        assert call.workspace_id == shop.world.workspace.id
        assert (call.principal_type, call.principal_id) == ("ACCESS_PROFILE", shop.app.id)
        assert call.api_id == shop.api.id

    (alert,) = await raised(session, rule)
    assert (alert.kind, alert.access_profile_id, alert.count) == (
        AlertRuleKind.REVOKED_CREDENTIAL_PRESENTED,
        shop.app.id,
        2,
    )
    assert alert.subject == f"access_profile:{shop.app.id}"
    assert await raised(session, their_rule) == []


async def test_a_deleted_app_s_token_is_logged_with_the_app_it_was_and_raises(
    app,  # type: ignore[no-untyped-def]
    gate: Gate,
    shop: Shop,
    scenario: Scenario,
    session: AsyncSession,
) -> None:
    assert (await gate.check(shop.token))["reason"] == "ok"  # cached as a policy first
    rule = await revoked_rule(scenario, shop.world)
    await access_profiles.delete_access_profile(
        session=scenario.session, actor=shop.world.owner.principal, access_profile_id=shop.app.id
    )

    answered = await gate.check(shop.token)
    assert answered["reason"] == "revoked"
    # The app is gone: its id and workspace remain, its name does not.
    assert answered["principal"]["id"] == global_id("AccessProfile", shop.app.id)
    assert answered["principal"]["name"] == ""
    assert (await gate.authorize(shop.token)).status_code == 401

    revoked = [c for c in await logged(app, session) if c.reason == "revoked"]
    assert [(c.workspace_id, c.principal_id) for c in revoked] == [
        (shop.world.workspace.id, shop.app.id)
    ] * 2

    (alert,) = await raised(session, rule)
    assert (alert.access_profile_id, alert.count) == (shop.app.id, 2)


async def test_a_token_never_issued_stays_anonymous(
    app,  # type: ignore[no-untyped-def]
    gate: Gate,
    shop: Shop,
    scenario: Scenario,
    session: AsyncSession,
) -> None:
    rule = await revoked_rule(scenario, shop.world)
    # A well-formed token (prefix, checksum) that was never issued: looked up, not found.
    invented = issue_token(TokenKind.ACCESS_PROFILE, b"another secret").plaintext
    answered = await gate.check(invented)
    assert (answered["reason"], answered["principal"]) == ("unknown_credential", None)
    calls = await logged(app, session)
    assert [(c.workspace_id, c.principal_id) for c in calls] == [(None, None)]
    assert await raised(session, rule) == []
