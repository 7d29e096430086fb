"""Webhook delivery against a real receiver (uvicorn on loopback) that verifies every signature
with ``standardwebhooks``: delivered, retried under the same webhook-id on the schedule (time is
driven explicitly), FAILED after the last attempt, nothing for a rolled-back change, no
redirects followed, private targets refused at delivery, and on PostgreSQL two workers never
send one delivery twice."""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accessplane.db.engine import unit_of_work
from accessplane.models import WebhookDelivery, WebhookDeliveryStatus
from accessplane.notify.outbox import Worker
from accessplane.notify.sender import LogSender
from accessplane.notify.webhooks import WebhookSender, retry_delay
from accessplane.services import plans, webhooks
from accessplane.services.webhooks import WebhookPolicy
from accessplane.settings import Settings
from tests.support.certificates import CertificateAuthority
from tests.support.scenario import Scenario, World
from tests.support.webhook_receiver import (
    ipv6_webhook_receiver,
    tls_webhook_receiver,
    webhook_receiver,
)

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(name="settings")
def webhook_settings(settings: Settings) -> Settings:
    """The receiver listens on loopback: private targets allowed, except where a test turns
    them off again."""
    return settings.model_copy(
        update={
            "webhook_allow_private_targets": True,
            "webhook_max_attempts": 3,
            "webhook_retry_base_seconds": 30.0,
            "webhook_timeout": 5.0,
        }
    )


@pytest.fixture
def sessions(session: AsyncSession) -> async_sessionmaker[AsyncSession]:
    bind = session.bind
    return async_sessionmaker(bind, expire_on_commit=False)


def sender(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> WebhookSender:
    return WebhookSender(sessions, settings, rng=random.Random(7))


async def endpoint_for(
    scenario: Scenario,
    world: World,
    settings: Settings,
    url: str,
    event_types: list[str] | None = None,
) -> webhooks.IssuedWebhookEndpoint:
    return await webhooks.create_endpoint(
        session=scenario.session,
        actor=world.owner.principal,
        policy=WebhookPolicy.from_settings(settings),
        workspace_id=world.workspace.id,
        url=url,
        event_types=event_types or ["audit.createPlan"],
    )


async def a_plan(scenario: Scenario, world: World, name: str = "Gold") -> None:
    await plans.create_plan(
        session=scenario.session,
        actor=world.owner.principal,
        # From the principal: a rollback expires the world's rows.
        workspace_id=next(iter(world.owner.principal.memberships)),
        name=name,
    )


async def deliveries(session: AsyncSession) -> list[WebhookDelivery]:
    session.expire_all()
    rows = await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at))
    return list(rows)


async def test_a_change_is_delivered_signed_to_its_subscribers(
    scenario: Scenario, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await scenario.workspace()
    async with webhook_receiver() as receiver:
        issued = await endpoint_for(scenario, world, settings, receiver.url)
        receiver.secret = issued.secret
        await a_plan(scenario, world)

        report = await sender(sessions, settings).process_due()

    assert (report.delivered, report.retried, report.failed) == (1, 0, 0)
    [got] = receiver.verified
    assert got.headers["content-type"] == "application/json"
    assert got.headers["host"] == f"localhost:{receiver.port}"
    event = got.event
    assert event["type"] == "audit.createPlan"
    assert event["data"]["action"] == "createPlan"
    assert event["data"]["after"]["name"] == "Gold"
    assert event["data"]["actor"]["name"] == world.owner.user.email
    [row] = await deliveries(scenario.session)
    assert row.status == WebhookDeliveryStatus.DELIVERED
    assert (row.attempts, row.last_status_code, row.last_error) == (1, 204, None)
    assert row.message_id == got.webhook_id
    assert row.message_id.startswith("msg_")
    assert row.payload.encode() == got.body


async def test_failures_are_retried_with_backoff_under_the_same_webhook_id(
    scenario: Scenario, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await scenario.workspace()
    worker = sender(sessions, settings)
    async with webhook_receiver() as receiver:
        receiver.secret = (await endpoint_for(scenario, world, settings, receiver.url)).secret
        receiver.fail_next = 2
        await a_plan(scenario, world)

        first = await worker.process_due(T0)
        [row] = await deliveries(scenario.session)
        wait = row.next_attempt_at - T0
        assert (first.retried, row.status, row.attempts) == (1, "PENDING", 1)
        assert timedelta(seconds=24) <= wait <= timedelta(seconds=36)  # 30 s +/- 20 %
        assert (row.last_status_code, row.last_error) == (500, "The endpoint answered HTTP 500.")

        early = await worker.process_due(row.next_attempt_at - timedelta(seconds=1))
        assert early.claimed == 0

        second_at = row.next_attempt_at
        await worker.process_due(second_at)
        [row] = await deliveries(scenario.session)
        wait = row.next_attempt_at - second_at
        assert timedelta(seconds=96) <= wait <= timedelta(seconds=144)  # 4 x 30 s +/- 20 %

        third = await worker.process_due(row.next_attempt_at)

    assert third.delivered == 1
    [row] = await deliveries(scenario.session)
    assert (row.status, row.attempts, row.last_status_code) == ("DELIVERED", 3, 204)
    assert len(receiver.verified) == 3
    assert {r.webhook_id for r in receiver.verified} == {row.message_id}


def test_the_retry_schedule_grows_by_four_up_to_its_cap() -> None:
    fixed = random.Random(1)
    waits = [
        retry_delay(n, base=30, cap=36000, rng=fixed).total_seconds() / (30 * 4 ** (n - 1))
        for n in range(1, 6)
    ]
    assert all(0.8 <= w <= 1.2 for w in waits)
    capped = retry_delay(9, base=30, cap=36000, rng=fixed).total_seconds()
    assert 0.8 * 36000 <= capped <= 1.2 * 36000


async def test_a_delivery_fails_for_good_after_the_last_attempt(
    scenario: Scenario, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await scenario.workspace()
    worker = sender(sessions, settings)
    async with webhook_receiver() as receiver:
        receiver.secret = (await endpoint_for(scenario, world, settings, receiver.url)).secret
        receiver.fail_next, receiver.fail_status = 100, 503
        await a_plan(scenario, world)
        moment = T0
        for _ in range(settings.webhook_max_attempts):
            await worker.process_due(moment)
            moment += timedelta(days=1)
        after = await worker.process_due(moment + timedelta(days=30))

    assert after.claimed == 0
    [row] = await deliveries(scenario.session)
    assert (row.status, row.attempts, row.last_status_code) == ("FAILED", 3, 503)
    assert len(receiver.received) == 3
    assert await webhooks.delivery_counts(scenario.session) == {
        WebhookDeliveryStatus.PENDING: 0,
        WebhookDeliveryStatus.DELIVERED: 0,
        WebhookDeliveryStatus.FAILED: 1,
    }


async def failing_change(scenario: Scenario, world: World) -> None:
    """A plan created, then its unit of work fails after the audit event was recorded."""
    async with unit_of_work(scenario.session):
        await a_plan(scenario, world, "Inner")
        raise RuntimeError("the change fails after its audit event")


async def test_a_rolled_back_change_sends_nothing(
    scenario: Scenario, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await scenario.workspace()
    async with webhook_receiver() as receiver:
        receiver.secret = (await endpoint_for(scenario, world, settings, receiver.url)).secret
        async with unit_of_work(scenario.session, commit=False):  # a dry run: rolled back
            await a_plan(scenario, world, "Dry")
        with pytest.raises(RuntimeError):
            await failing_change(scenario, world)
        assert await deliveries(scenario.session) == []
        await a_plan(scenario, world, "Kept")
        await sender(sessions, settings).process_due()

    assert [r.event["data"]["after"]["name"] for r in receiver.verified] == ["Kept"]


async def test_a_failing_endpoint_does_not_hold_up_another(
    scenario: Scenario, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await scenario.workspace()
    async with webhook_receiver() as down, webhook_receiver() as up:
        down.secret = (await endpoint_for(scenario, world, settings, down.url)).secret
        up.secret = (await endpoint_for(scenario, world, settings, up.url)).secret
        down.fail_next = 100
        await a_plan(scenario, world)
        report = await sender(sessions, settings).process_due(T0)

    assert (report.delivered, report.retried) == (1, 1)
    assert len(up.verified) == 1
    assert len(down.verified) == 1


async def test_redirects_are_not_followed(
    scenario: Scenario, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await scenario.workspace()
    async with webhook_receiver() as receiver:
        moved = receiver.url.replace("/hooks", "/moved")
        receiver.secret = (await endpoint_for(scenario, world, settings, moved)).secret
        await a_plan(scenario, world)
        report = await sender(sessions, settings).process_due(T0)

    assert report.retried == 1
    assert [r.path for r in receiver.received] == ["/moved"]
    [row] = await deliveries(scenario.session)
    assert (row.status, row.last_status_code) == ("PENDING", 307)


async def test_a_private_target_is_refused_at_delivery_when_not_allowed(
    scenario: Scenario, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """An endpoint made while private targets were allowed (or whose name now resolves to a
    private address) is not contacted once they are not: the worker resolves and checks the
    host on every attempt."""
    world = await scenario.workspace()
    strict = settings.model_copy(update={"webhook_allow_private_targets": False})
    async with webhook_receiver() as receiver:
        receiver.secret = (await endpoint_for(scenario, world, settings, receiver.url)).secret
        await a_plan(scenario, world)
        report = await sender(sessions, strict).process_due(T0)

    assert report.retried == 1
    assert receiver.received == []
    [row] = await deliveries(scenario.session)
    assert (row.status, row.last_status_code) == ("PENDING", None)
    assert "non-public address" in (row.last_error or "")


async def test_a_rotated_secret_signs_every_later_attempt(
    scenario: Scenario, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await scenario.workspace()
    worker = sender(sessions, settings)
    async with webhook_receiver() as receiver:
        issued = await endpoint_for(scenario, world, settings, receiver.url)
        receiver.secret = issued.secret
        receiver.fail_next = 1
        await a_plan(scenario, world)
        await worker.process_due(T0)
        rotated = await webhooks.rotate_secret(
            session=scenario.session,
            actor=world.owner.principal,
            policy=WebhookPolicy.from_settings(settings),
            endpoint_id=issued.endpoint.id,
        )
        await worker.process_due(T0 + timedelta(minutes=5))
        receiver.secret = rotated.secret
        await worker.process_due(T0 + timedelta(hours=1))

    assert [r.verified for r in receiver.received] == [True, False, True]
    assert rotated.secret != issued.secret


async def test_the_worker_loop_sends_webhooks_with_the_mail(
    scenario: Scenario, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await scenario.workspace()
    async with webhook_receiver() as receiver:
        receiver.secret = (await endpoint_for(scenario, world, settings, receiver.url)).secret
        await a_plan(scenario, world)
        await Worker(sessions, LogSender(), settings).run_once()

    assert len(receiver.verified) == 1


async def test_two_workers_never_send_one_delivery_twice(
    scenario: Scenario, settings: Settings, database_url: str
) -> None:
    """PostgreSQL: claims skip rows another worker holds (FOR UPDATE SKIP LOCKED)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent workers need PostgreSQL; SQLite runs one worker")
    world = await scenario.workspace()
    async with webhook_receiver() as receiver:
        receiver.secret = (await endpoint_for(scenario, world, settings, receiver.url)).secret
        for i in range(12):
            await a_plan(scenario, world, f"Plan {i}")
        bind = scenario.session.bind
        narrow = settings.model_copy(update={"webhook_batch_size": 2})
        one = WebhookSender(async_sessionmaker(bind, expire_on_commit=False), narrow)
        two = WebhookSender(async_sessionmaker(bind, expire_on_commit=False), narrow)
        reports = await asyncio.gather(one.process_due(), two.process_due())

    assert sum(r.delivered for r in reports) == 12
    ids = [r.webhook_id for r in receiver.verified]
    assert len(ids) == 12
    assert len(set(ids)) == 12
    delivered = await scenario.session.scalar(
        select(func.count()).where(WebhookDelivery.status == "DELIVERED")  # type: ignore[arg-type]
    )
    assert delivered == 12


def trusting(ca: CertificateAuthority) -> ssl.SSLContext:
    return ssl.create_default_context(cadata=ca.pem)


@pytest.mark.parametrize("server_name", ["localhost", "elsewhere.example"])
async def test_https_keeps_the_host_name_while_connecting_to_the_checked_address(
    scenario: Scenario,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    server_name: str,
) -> None:
    """The worker connects to the address it resolved and checked, yet TLS names the URL's
    host (SNI) and verifies the certificate against it: a certificate for that host is
    accepted, one for another name refused."""
    world = await scenario.workspace()
    ca = CertificateAuthority.create()
    async with tls_webhook_receiver(tmp_path, ca, server_name) as receiver:
        receiver.secret = (await endpoint_for(scenario, world, settings, receiver.url)).secret
        await a_plan(scenario, world)
        report = await WebhookSender(sessions, settings, trust=trusting(ca)).process_due(T0)

    [row] = await deliveries(scenario.session)
    if server_name == "localhost":
        assert report.delivered == 1
        [got] = receiver.verified
        assert got.headers["host"] == f"localhost:{receiver.port}"
    else:
        assert report.retried == 1
        assert receiver.received == []
        assert "certificate" in (row.last_error or "").lower()


async def test_an_ipv6_literal_target_is_reached_at_its_address(
    scenario: Scenario, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The worker rewrites the URL to the address it checked: an IPv6 one must come out in
    brackets, with the Host header as the URL gave it."""
    world = await scenario.workspace()
    async with ipv6_webhook_receiver() as receiver:
        url = f"http://[::1]:{receiver.port}/hooks"
        issued = await endpoint_for(scenario, world, settings, url)
        receiver.secret = issued.secret
        await a_plan(scenario, world)

        report = await sender(sessions, settings).process_due()

    assert (report.delivered, report.retried, report.failed) == (1, 0, 0)
    [got] = receiver.verified
    assert got.headers["host"] == f"[::1]:{receiver.port}"
    [row] = await deliveries(scenario.session)
    assert (row.status, row.last_status_code) == (WebhookDeliveryStatus.DELIVERED, 204)


async def test_an_ipv6_loopback_target_is_refused_at_delivery_when_not_allowed(
    scenario: Scenario, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await scenario.workspace()
    async with ipv6_webhook_receiver() as receiver:
        issued = await endpoint_for(scenario, world, settings, f"http://[::1]:{receiver.port}/h")
        receiver.secret = issued.secret
        await a_plan(scenario, world)
        strict = settings.model_copy(update={"webhook_allow_private_targets": False})

        report = await sender(sessions, strict).process_due()

    assert (report.delivered, report.retried) == (0, 1)
    assert receiver.received == []
    [row] = await deliveries(scenario.session)
    assert row.last_error is not None
    assert "non-public address" in row.last_error


async def test_the_signing_secret_is_never_logged(
    scenario: Scenario,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Creating, rotating, a failed attempt (logged at WARNING) and a delivery (INFO), with
    every logger at DEBUG: neither the secret nor its key bytes appear in any record."""
    caplog.set_level(logging.DEBUG)
    world = await scenario.workspace()
    async with webhook_receiver() as receiver:
        first = await endpoint_for(scenario, world, settings, receiver.url)
        issued = await webhooks.rotate_secret(
            session=scenario.session,
            actor=world.owner.principal,
            policy=WebhookPolicy.from_settings(settings),
            endpoint_id=first.endpoint.id,
        )
        receiver.secret, receiver.fail_next = issued.secret, 1
        await a_plan(scenario, world)
        worker = sender(sessions, settings)
        await worker.process_due(T0)
        [row] = await deliveries(scenario.session)
        await worker.process_due(row.next_attempt_at)

    assert len(receiver.verified) == 2
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "webhook" in logged  # the attempts were logged
    for secret in (first.secret, issued.secret):
        body = secret.removeprefix("whsec_")
        assert body not in logged
        assert base64.b64decode(body).hex() not in logged
