"""The outbox: written with its event, sent by a worker through a real SMTP server, retried
with backoff across an outage, never lost and never sent twice."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from accessplane.app import create_app
from accessplane.cli import app as cli
from accessplane.db import create_engine, transaction
from accessplane.models import Notification, NotificationKind, NotificationStatus
from accessplane.notify.outbox import Outbox, Worker, backoff
from accessplane.notify.sender import LogSender
from accessplane.services.notifications import enqueue
from accessplane.settings import Settings, get_settings
from tests.conftest import SECRET
from tests.notify.conftest import Inbox, SmtpServer, eventually, smtp_sender
from tests.support.scenario import Scenario, World

NOW = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)


async def put(
    session: AsyncSession,
    world: World,
    recipient: str = "dev@example.com",
    name: str = "ci",
    now: datetime = NOW,
) -> Notification:
    async with transaction(session):
        notification = enqueue(
            session,
            workspace_id=world.workspace.id,
            kind=NotificationKind.EXPIRED,
            recipient=recipient,
            context={
                "workspace_name": "Acme",
                "key_name": name,
                "expires_at": "2030-03-01 09:00",
                "console_url": "https://access.example.com/",
            },
            now=now,
        )
    return notification


async def rows(session: AsyncSession) -> list[Notification]:
    result = await session.scalars(
        select(Notification)
        .order_by(Notification.created_at, Notification.recipient)
        .execution_options(populate_existing=True)
    )
    found = list(result.all())
    await session.commit()
    return found


async def test_a_notification_is_sent_once_with_text_and_html(
    session, scenario: Scenario, smtp: SmtpServer, outbox: Outbox
) -> None:
    world = await scenario.workspace()
    await put(session, world, name="ci <deploy>")

    report = await outbox.process_due(NOW)

    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    [mail] = smtp.messages
    assert mail["To"] == "dev@example.com"
    assert mail["From"] == "AccessPlane <noreply@localhost>"
    assert mail["Subject"] == 'API key "ci <deploy>" has expired'
    text = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert '"ci <deploy>"' in text.get_content()
    assert "ci &lt;deploy&gt;" in html.get_content()
    [row] = await rows(session)
    assert (row.status, row.attempts, row.claim_token) == (NotificationStatus.SENT, 1, None)
    assert row.sent_at is not None
    assert (await outbox.process_due(NOW + timedelta(days=1))).claimed == 0
    assert len(smtp.messages) == 1


async def test_the_outbox_row_commits_or_rolls_back_with_its_event(session, scenario) -> None:
    world = await scenario.workspace()

    async def failing_event() -> None:
        async with transaction(session):
            enqueue(
                session,
                workspace_id=world.workspace.id,
                kind=NotificationKind.REJECT,
                recipient="dev@example.com",
                context={"workspace_name": "Acme", "app_name": "App", "products": [], "reason": ""},
            )
            raise RuntimeError("the event failed")

    with pytest.raises(RuntimeError):
        await failing_event()

    assert await rows(session) == []


async def test_an_smtp_outage_loses_nothing_and_sends_nothing_twice(
    session, scenario: Scenario, smtp_server: SmtpServer, outbox: Outbox
) -> None:
    world = await scenario.workspace()
    for i in range(3):
        await put(session, world, recipient=f"dev{i}@example.com")

    down = await outbox.process_due(NOW)
    assert (down.sent, down.retried) == (0, 3)
    stored = await rows(session)
    assert {(r.status, r.attempts) for r in stored} == {(NotificationStatus.PENDING, 1)}
    assert {r.next_attempt_at for r in stored} == {NOW + timedelta(seconds=60)}
    assert all(r.last_error for r in stored)

    assert (await outbox.process_due(NOW + timedelta(seconds=59))).claimed == 0
    still_down = await outbox.process_due(NOW + timedelta(seconds=60))
    assert still_down.retried == 3
    stored = await rows(session)
    second_try = NOW + timedelta(seconds=60 + 120)
    assert {(r.attempts, r.next_attempt_at) for r in stored} == {(2, second_try)}

    smtp_server.start()
    assert (await outbox.process_due(second_try - timedelta(seconds=1))).claimed == 0
    back = await outbox.process_due(second_try)

    assert back.sent == 3
    assert sorted(m["To"] for m in smtp_server.messages) == [
        "dev0@example.com",
        "dev1@example.com",
        "dev2@example.com",
    ]
    assert {(r.status, r.attempts) for r in await rows(session)} == {(NotificationStatus.SENT, 3)}
    assert (await outbox.process_due(second_try + timedelta(days=1))).claimed == 0
    assert len(smtp_server.messages) == 3


def test_backoff_doubles_up_to_its_cap() -> None:
    waits = [backoff(n, base=30, cap=300).total_seconds() for n in range(1, 7)]

    assert waits == [30, 60, 120, 240, 300, 300]


async def test_a_permanent_refusal_gives_up_after_the_maximum_attempts(
    session, scenario: Scenario, smtp: SmtpServer, outbox: Outbox
) -> None:
    world = await scenario.workspace()
    smtp.inbox.refuse.add("gone@example.com")
    await put(session, world, recipient="gone@example.com")
    await put(session, world, recipient="ok@example.com")

    moment = NOW
    outcomes = []
    for _ in range(3):  # notification_max_attempts
        report = await outbox.process_due(moment)
        outcomes.append((report.sent, report.retried, report.failed))
        moment += timedelta(hours=1)

    assert outcomes == [(1, 1, 0), (0, 1, 0), (0, 0, 1)]
    by_recipient = {r.recipient: r for r in await rows(session)}
    failed = by_recipient["gone@example.com"]
    assert (failed.status, failed.attempts) == (NotificationStatus.FAILED, 3)
    assert failed.last_error is not None
    assert "550" in failed.last_error
    assert [m["To"] for m in smtp.messages] == ["ok@example.com"]
    assert (await outbox.process_due(moment + timedelta(days=1))).claimed == 0


async def test_the_claim_of_a_crashed_worker_is_taken_over_after_its_lease(
    session, scenario: Scenario, smtp: SmtpServer, outbox: Outbox, mail_settings: Settings
) -> None:
    world = await scenario.workspace()
    await put(session, world)
    crashed = await outbox.claim(NOW)  # a worker claims it, then dies before sending
    assert len(crashed) == 1

    assert (await outbox.process_due(NOW + timedelta(seconds=10))).claimed == 0
    lease_over = NOW + timedelta(seconds=mail_settings.notification_claim_seconds + 1)
    assert (await outbox.process_due(lease_over)).sent == 1

    assert len(smtp.messages) == 1
    [row] = await rows(session)
    assert (row.status, row.attempts) == (NotificationStatus.SENT, 2)


async def test_several_workers_share_the_outbox_without_sending_twice(
    database_url: str,
    engine: AsyncEngine,
    session,
    scenario: Scenario,
    smtp: SmtpServer,
    mail_settings: Settings,
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite runs a single worker; FOR UPDATE SKIP LOCKED is PostgreSQL's")
    world = await scenario.workspace()
    for i in range(40):
        await put(session, world, recipient=f"dev{i:02}@example.com")
    workers = [
        Outbox(
            async_sessionmaker(engine, expire_on_commit=False),
            smtp_sender(mail_settings),
            mail_settings,
        )
        for _ in range(4)
    ]

    reports = await asyncio.gather(*(w.process_due(NOW) for w in workers))

    assert sum(r.sent for r in reports) == 40
    assert sum(r.claimed for r in reports) == 40
    recipients = [m["To"] for m in smtp.messages]
    assert len(recipients) == 40
    assert len(set(recipients)) == 40
    assert {r.status for r in await rows(session)} == {NotificationStatus.SENT}


async def test_without_smtp_mail_is_written_to_the_log(
    session, scenario: Scenario, sessions, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    world = await scenario.workspace()
    await put(session, world, name="nightly")
    caplog.set_level(logging.INFO, logger="accessplane.notify")

    report = await Outbox(sessions, LogSender(), settings).process_due(NOW)

    assert report.sent == 1
    logged = [r.getMessage() for r in caplog.records if r.name == "accessplane.notify.sender"]
    assert len(logged) == 1
    assert "dev@example.com" in logged[0]
    assert 'API key "nightly" has expired' in logged[0]
    assert "expired on 2030-03-01 09:00 UTC" in logged[0]
    assert {r.status for r in await rows(session)} == {NotificationStatus.SENT}


async def test_the_worker_loop_delivers_once_the_server_comes_back(
    session, scenario: Scenario, smtp_server: SmtpServer, sessions, mail_settings: Settings
) -> None:
    world = await scenario.workspace()
    fast = mail_settings.model_copy(
        update={
            "notification_worker_interval": 0.02,
            "notification_retry_base_seconds": 0.05,
            "notification_retry_max_seconds": 0.2,
        }
    )
    async with transaction(session):
        enqueue(
            session,
            workspace_id=world.workspace.id,
            kind=NotificationKind.EXPIRED,
            recipient="dev@example.com",
            context={
                "workspace_name": "Acme",
                "key_name": "ci",
                "expires_at": "now",
                "console_url": "https://access.example.com/",
            },
        )

    async def retried_after_a_failure() -> bool:
        return any(r.attempts >= 2 for r in await rows(session))

    async def sent() -> bool:
        return [r.status for r in await rows(session)] == [NotificationStatus.SENT]

    async with Worker(sessions, smtp_sender(fast), fast).running():
        await eventually(retried_after_a_failure)
        smtp_server.start()
        await eventually(sent)

    assert len(smtp_server.messages) == 1
    [row] = await rows(session)
    assert row.attempts >= 2  # at least one failed attempt while the server was down
    assert row.last_error is None


def test_the_worker_command_sends_due_mail_once(
    database_url: str, settings: Settings, smtp: SmtpServer
) -> None:
    async def arrange() -> None:
        engine = create_engine(database_url)
        async with AsyncSession(engine, expire_on_commit=False) as session:
            world = await Scenario(session=session, secret=SECRET.encode()).workspace()
            await put(session, world, recipient="cli@example.com", now=datetime.now(UTC))
        await engine.dispose()

    asyncio.run(arrange())
    env = {
        "ACCESSPLANE_ENVIRONMENT": "test",
        "ACCESSPLANE_DATABASE_URL": database_url,
        "ACCESSPLANE_SECRET_KEY": SECRET,
        "ACCESSPLANE_SMTP_HOST": "127.0.0.1",
        "ACCESSPLANE_SMTP_PORT": str(smtp.port),
        "ACCESSPLANE_SMTP_STARTTLS": "false",
    }
    get_settings.cache_clear()
    try:
        first = CliRunner().invoke(cli, ["worker", "--once"], env=env)
        second = CliRunner().invoke(cli, ["worker", "--once"], env=env)
    finally:
        get_settings.cache_clear()

    assert first.exit_code == 0, first.output
    assert "sent 1," in first.output
    assert "sent 0," in second.output
    assert [m["To"] for m in smtp.messages] == ["cli@example.com"]


async def test_the_server_can_run_the_worker_in_process(
    session, scenario: Scenario, smtp: SmtpServer, engine: AsyncEngine, mail_settings: Settings
) -> None:
    world = await scenario.workspace()
    await put(session, world, recipient="inprocess@example.com", now=datetime.now(UTC))
    in_process = mail_settings.model_copy(
        update={"notification_worker_in_process": True, "notification_worker_interval": 0.02}
    )
    server = create_app(in_process, engine=engine)

    async def delivered() -> bool:
        return [r.status for r in await rows(session)] == [NotificationStatus.SENT]

    async with server.router.lifespan_context(server):
        await eventually(delivered)

    assert [m["To"] for m in smtp.messages] == ["inprocess@example.com"]


class AnswersLateOnce(Inbox):
    """Receives every message but answers the first one with a 451, as a server that stored
    the mail and then failed to acknowledge it: the sender must try again."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await super().handle_DATA(server, session, envelope)
        if len(self.messages) == 1:
            return "451 4.3.0 Try again later"
        return "250 Message accepted"


async def test_every_attempt_of_a_notification_carries_the_same_message_id(
    session, scenario: Scenario, smtp_server: SmtpServer, outbox: Outbox
) -> None:
    world = await scenario.workspace()
    notification = await put(session, world)
    smtp_server.inbox = AnswersLateOnce()
    smtp_server.start()

    first = await outbox.process_due(NOW)
    second = await outbox.process_due(NOW + timedelta(hours=1))

    assert (first.retried, second.sent) == (1, 1)
    [row] = await rows(session)
    assert (row.status, row.attempts) == (NotificationStatus.SENT, 2)
    first_id, second_id = (m["Message-ID"] for m in smtp_server.messages)
    assert first_id == second_id == f"<{notification.id.hex}@localhost>"
