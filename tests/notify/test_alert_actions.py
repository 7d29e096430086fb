"""Alerts end to end: denials recorded through /v1/check, the worker's evaluation raising one
alert (however often it runs, and with several workers at once on PostgreSQL), its mail through
a real SMTP server, its ``alert.raised`` webhook delivery, the app suspended (``/v1/check``
answers ``suspended``) and resumed by an admin (allowed again)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import col

from accessplane.models import (
    AccessProfile,
    Alert,
    AlertRuleKind,
    AuditEvent,
    Notification,
    WebhookDelivery,
    WebhookEndpoint,
)
from accessplane.models.base import utcnow
from accessplane.notify.alerts import evaluate_alert_rules
from accessplane.notify.links import ConsoleLinks
from accessplane.notify.outbox import Worker
from accessplane.services import alerts
from accessplane.services.alerts import RuleInput
from accessplane.settings import Settings
from tests.conftest import SECRET
from tests.notify.conftest import SmtpServer
from tests.support.gateway import PEER, Gate, Shop, make_shop
from tests.support.scenario import Scenario

LINKS = ConsoleLinks("https://access.example.com")
OUTSIDE = "192.0.2.50"  # not in the app's allowed network
INSIDE = "198.51.100.9"


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The test client plays the gateway, so its X-Forwarded-For is believed.
    return Settings(
        environment="test",
        database_url=database_url,
        secret_key=SECRET,  # type: ignore[arg-type]
        trusted_proxies=[PEER],
    )


@pytest.fixture
def gate(http: httpx.AsyncClient) -> Gate:
    return Gate(http)


async def guarded_shop(scenario: Scenario, session: AsyncSession) -> Shop:
    """A shop whose app may call from 198.51.100.0/24 only, with a webhook endpoint
    subscribed to alerts."""
    shop = await make_shop(scenario)
    app = await session.get(AccessProfile, shop.app.id)
    assert app is not None
    app.allowed_ips = ["198.51.100.0/24"]
    session.add(app)
    session.add(
        WebhookEndpoint(
            workspace_id=shop.world.workspace.id,
            url="https://hooks.example.com/alerts",
            event_types=["alert.*"],
            secret_encrypted="sealed",
            secret_hint="abcd",
        )
    )
    await session.commit()
    return shop


async def burst_rule(scenario: Scenario, shop: Shop, *, suspend: bool = True) -> None:
    await alerts.create_rule(
        session=scenario.session,
        actor=shop.world.owner.principal,
        workspace_id=shop.world.workspace.id,
        # A day's window: the 20 calls of a test never straddle two windows (but at midnight).
        given=RuleInput(
            name="Calls from elsewhere",
            kind=AlertRuleKind.DENIAL_BURST,
            reasons=["ip_not_allowed"],
            threshold=20,
            window_minutes=1440,
            suspend=suspend,
        ),
    )


async def count(session: AsyncSession, model: type, *where) -> int:  # type: ignore[no-untyped-def,type-arg]
    value = await session.scalar(select(func.count()).select_from(model).where(*where))
    await session.commit()
    return int(value or 0)


async def test_a_burst_of_denials_raises_one_alert_mails_posts_suspends_and_resume_undoes_it(
    app,  # type: ignore[no-untyped-def]
    gate: Gate,
    scenario: Scenario,
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    smtp: SmtpServer,
    worker: Worker,
) -> None:
    shop = await guarded_shop(scenario, session)
    await burst_rule(scenario, shop)
    assert (await gate.check(shop.token, ip=INSIDE))["reason"] == "ok"
    for _ in range(20):
        assert (await gate.check(shop.token, ip=OUTSIDE))["reason"] == "ip_not_allowed"
    assert await app.state.call_log.flush() == 21

    assert await evaluate_alert_rules(sessions, links=LINKS, now=utcnow()) == 1
    assert await evaluate_alert_rules(sessions, links=LINKS, now=utcnow()) == 0  # raised once

    ws = shop.world.workspace.id
    alert = (await session.scalars(select(Alert))).one()
    assert (alert.access_profile_id, alert.count, alert.suspended) == (shop.app.id, 20, True)
    assert (
        await count(session, WebhookDelivery, col(WebhookDelivery.event_type) == "alert.raised")
        == 1
    )
    assert (await gate.check(shop.token, ip=INSIDE))["reason"] == "suspended"
    refused = await gate.authorize(shop.token, ip=INSIDE)
    assert refused.status_code == 403
    delivery = (await session.scalars(select(WebhookDelivery))).one()
    data = json.loads(delivery.payload)["data"]
    assert (data["rule"]["name"], data["count"], data["suspended"]) == (
        "Calls from elsewhere",
        20,
        True,
    )
    suspended = await count(
        session,
        AuditEvent,
        col(AuditEvent.action) == "suspendAccessProfile",
        col(AuditEvent.workspace_id) == ws,
    )
    assert suspended == 1

    await worker.outbox.process_due()
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["To"] == shop.world.owner.user.email
    assert "Calls from elsewhere" in message["Subject"]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "20 calls (ip_not_allowed)" in text
    assert "resumeAccessProfile" in text

    await session.refresh(shop.app)  # the worker suspended it in a session of its own
    await alerts.resume_access_profile(
        session=scenario.session, actor=shop.world.owner.principal, access_profile_id=shop.app.id
    )
    assert (await gate.check(shop.token, ip=INSIDE))["reason"] == "ok"
    resumed = await count(session, AuditEvent, col(AuditEvent.action) == "resumeAccessProfile")
    assert resumed == 1


async def test_fewer_denials_than_the_threshold_raise_nothing_and_the_app_keeps_working(
    app,
    gate: Gate,
    scenario: Scenario,
    session: AsyncSession,
    sessions,  # type: ignore[no-untyped-def]
) -> None:
    shop = await guarded_shop(scenario, session)
    await burst_rule(scenario, shop)
    for _ in range(19):
        await gate.check(shop.token, ip=OUTSIDE)
    await gate.check(shop.token, api="billing", ip=INSIDE)  # another reason: not counted
    await app.state.call_log.flush()
    assert await evaluate_alert_rules(sessions, links=LINKS, now=utcnow()) == 0
    assert await count(session, Alert) == 0
    assert (await gate.check(shop.token, ip=INSIDE))["reason"] == "ok"


async def test_several_workers_racing_raise_and_act_once(
    database_url: str,
    app,
    gate: Gate,
    engine: AsyncEngine,
    scenario: Scenario,
    session,  # type: ignore[no-untyped-def]
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite runs a single worker; concurrent evaluations are PostgreSQL's case")
    shop = await guarded_shop(scenario, session)
    await burst_rule(scenario, shop)
    for _ in range(20):
        await gate.check(shop.token, ip=OUTSIDE)
    await app.state.call_log.flush()
    workers = [async_sessionmaker(engine, expire_on_commit=False) for _ in range(4)]
    now = utcnow()
    raised = await asyncio.gather(*(evaluate_alert_rules(w, links=LINKS, now=now) for w in workers))
    assert sum(raised) == 1
    assert await count(session, Alert) == 1
    assert await count(session, WebhookDelivery) == 1
    assert await count(session, Notification, col(Notification.kind) == "alert") == 1
    assert await count(session, AuditEvent, col(AuditEvent.action) == "suspendAccessProfile") == 1
    assert (await gate.check(shop.token, ip=INSIDE))["reason"] == "suspended"


async def test_the_worker_evaluates_the_rules_and_mails_the_alert_in_the_same_pass(
    app,  # type: ignore[no-untyped-def]
    gate: Gate,
    scenario: Scenario,
    session: AsyncSession,
    smtp: SmtpServer,
    worker: Worker,
) -> None:
    shop = await guarded_shop(scenario, session)
    await burst_rule(scenario, shop, suspend=False)
    for _ in range(20):
        await gate.check(shop.token, ip=OUTSIDE)
    await app.state.call_log.flush()
    await worker.run_once()
    assert await count(session, Alert) == 1
    assert len(smtp.messages) == 1
    assert (await gate.check(shop.token, ip=INSIDE))["reason"] == "ok"  # no suspension asked
