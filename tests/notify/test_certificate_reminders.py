"""Client certificate expiry reminders: 30, 7 and 1 days before a certificate's notAfter and once
it has passed, each once per certificate and threshold (also with several workers), to the
client's members or, for a client without members, to the people who manage clients."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import col

from accessplane.models import (
    AccessProfileCertificate,
    CertificateReminder,
    Client,
    Notification,
    NotificationKind,
)
from accessplane.notify.certificate_reminders import scan_expiring_certificates
from accessplane.notify.links import ConsoleLinks, global_id
from accessplane.notify.outbox import Worker
from accessplane.notify.rendering import render
from accessplane.services import certificates, notifications
from tests.notify.conftest import SmtpServer
from tests.support.certificates import CertificateAuthority, IssuedCertificate, mtls_app
from tests.support.scenario import Scenario, World

NOW = datetime(2030, 6, 1, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)
LINKS = ConsoleLinks("https://access.example.com")


async def mails(session: AsyncSession) -> list[Notification]:
    result = await session.scalars(
        select(Notification)
        .where(col(Notification.kind).in_(["certificate_expiring", "certificate_expired"]))
        .order_by(Notification.created_at, Notification.recipient)
        .execution_options(populate_existing=True)
    )
    found = list(result.all())
    await session.commit()
    return found


def issue(ca: CertificateAuthority, expires: datetime, name: str = "orders") -> IssuedCertificate:
    return ca.issue(name, NOW - DAY, expires)


async def registered(
    scenario: Scenario,
    world: World,
    issued: IssuedCertificate,
    *,
    app_name: str,
    client: Client | None = None,
) -> AccessProfileCertificate:
    app = await mtls_app(scenario, world, client, app_name)
    return await certificates.add_access_profile_certificate(
        session=scenario.session,
        actor=world.owner.principal,
        access_profile_id=app.id,
        pem=issued.pem,
        now=NOW,
    )


async def test_reminders_go_to_the_clients_members_at_30_7_1_days_and_on_expiry_each_once(
    session, scenario: Scenario, sessions, smtp: SmtpServer, worker: Worker
) -> None:
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")
    alice = await scenario.consumer(world, client)
    bob = await scenario.consumer(world, client)
    expires = NOW + 40 * DAY
    issued = issue(CertificateAuthority.create(), expires)
    await registered(scenario, world, issued, app_name="Orders", client=client)
    moments = [
        NOW,
        expires - 30 * DAY,
        expires - 30 * DAY + timedelta(hours=1),
        expires - 7 * DAY,
        expires - 7 * DAY,
        expires - DAY,
        expires,
        expires + DAY,
    ]

    handled = [
        await scan_expiring_certificates(sessions, links=LINKS, now=moment) for moment in moments
    ]

    assert handled == [0, 1, 0, 1, 0, 1, 1, 0]
    sent = await mails(session)
    subjects = [
        'Client certificate of "Orders" expires in 30 days',
        'Client certificate of "Orders" expires in 7 days',
        'Client certificate of "Orders" expires in 1 day',
        'Client certificate of "Orders" has expired',
    ]
    assert [m.subject for m in sent] == [s for s in subjects for _ in range(2)]
    assert {m.recipient for m in sent} == {alice.user.email, bob.user.email}
    assert [m.kind for m in sent][-2:] == ["certificate_expired"] * 2
    portal = f"https://access.example.com/workspaces/{global_id('Workspace', world.workspace.id)}"
    assert f"{portal}/portal/apps" in sent[0].body_text
    assert issued.fingerprint in sent[0].body_text
    assert "CN=orders" in sent[0].body_text

    # The worker delivers them through SMTP.
    report = await worker.outbox.process_due(expires + DAY)
    assert report.sent == 8
    assert sorted(m["Subject"] for m in smtp.messages) == sorted(m.subject for m in sent)


async def test_the_worker_scans_certificates(
    session, scenario: Scenario, smtp: SmtpServer, worker: Worker
) -> None:
    world = await scenario.workspace()
    client = await scenario.client(world)
    consumer = await scenario.consumer(world, client)
    issued = issue(CertificateAuthority.create(), NOW + 3 * DAY)
    await registered(scenario, world, issued, app_name="Billing", client=client)

    await worker.run_once(NOW)

    assert [(m["To"], m["Subject"]) for m in smtp.messages] == [
        (consumer.user.email, 'Client certificate of "Billing" expires in 3 days')
    ]


async def test_a_client_without_members_has_its_managers_mailed_with_the_clients_page(
    session, scenario: Scenario, sessions
) -> None:
    world = await scenario.workspace()
    viewer = await scenario.member(world, "Viewer")  # sees clients, manages none
    admin = await scenario.member(world, "Admin")
    client = await scenario.client(world)
    issued = issue(CertificateAuthority.create(), NOW + 2 * DAY)
    await registered(scenario, world, issued, app_name="Batch", client=client)

    assert await scan_expiring_certificates(sessions, links=LINKS, now=NOW) == 1

    sent = await mails(session)
    recipients = {m.recipient for m in sent}
    assert recipients == {world.owner.user.email, admin.user.email}
    assert viewer.user.email not in recipients
    page = f"/clients/{global_id('Client', client.id)}"
    assert all(page in m.body_text for m in sent)


async def test_a_certificate_close_to_expiry_gets_only_the_nearest_reminder(
    session, scenario: Scenario, sessions
) -> None:
    world = await scenario.workspace()
    client = await scenario.client(world)
    await scenario.consumer(world, client)
    expires = NOW + 5 * DAY
    await registered(
        scenario,
        world,
        issue(CertificateAuthority.create(), expires),
        app_name="Short",
        client=client,
    )

    assert await scan_expiring_certificates(sessions, links=LINKS, now=NOW) == 1
    assert await scan_expiring_certificates(sessions, links=LINKS, now=NOW + DAY) == 0
    assert await scan_expiring_certificates(sessions, links=LINKS, now=expires - DAY) == 1

    assert [m.subject for m in await mails(session)] == [
        'Client certificate of "Short" expires in 5 days',
        'Client certificate of "Short" expires in 1 day',
    ]
    recorded = (
        await session.scalars(
            select(CertificateReminder.threshold_days).order_by(CertificateReminder.threshold_days)
        )
    ).all()
    assert list(recorded) == [1, 7, 30]


async def test_a_removed_certificate_is_not_reminded_of(
    session, scenario: Scenario, sessions
) -> None:
    world = await scenario.workspace()
    client = await scenario.client(world)
    await scenario.consumer(world, client)
    issued = issue(CertificateAuthority.create(), NOW + 20 * DAY)
    certificate = await registered(scenario, world, issued, app_name="Old", client=client)
    assert await scan_expiring_certificates(sessions, links=LINKS, now=NOW) == 1

    await certificates.remove_access_profile_certificate(
        session=session, actor=world.owner.principal, certificate_id=certificate.id
    )

    assert await scan_expiring_certificates(sessions, links=LINKS, now=NOW + 14 * DAY) == 0
    assert len(await mails(session)) == 1
    assert await session.scalar(select(func.count()).select_from(CertificateReminder)) == 0


async def test_a_certificate_long_expired_gets_no_mail(
    session, scenario: Scenario, sessions
) -> None:
    world = await scenario.workspace()
    client = await scenario.client(world)
    await scenario.consumer(world, client)
    issued = issue(CertificateAuthority.create(), NOW + 2 * DAY)
    await registered(scenario, world, issued, app_name="Gone", client=client)

    # First scanned a month after it expired (say the worker was never run).
    assert await scan_expiring_certificates(sessions, links=LINKS, now=NOW + 40 * DAY) == 0
    assert await mails(session) == []


async def test_the_workspaces_own_subjects_are_used(session, scenario: Scenario, sessions) -> None:
    world = await scenario.workspace()
    await notifications.update_notification_settings(
        session=session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        subjects={
            NotificationKind.CERTIFICATE_EXPIRING: "[{{ client_name }}] {{ app_name }}: "
            "{{ days_left }}d"
        },
    )
    client = await scenario.client(world, "Acme Partner")
    await scenario.consumer(world, client)
    issued = issue(CertificateAuthority.create(), NOW + 3 * DAY)
    await registered(scenario, world, issued, app_name="ci", client=client)

    await scan_expiring_certificates(sessions, links=LINKS, now=NOW)

    [mail] = await mails(session)
    assert mail.subject == "[Acme Partner] ci: 3d"


async def test_several_workers_send_each_threshold_once(
    database_url: str, engine: AsyncEngine, session, scenario: Scenario
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite runs a single worker; concurrent scans are PostgreSQL's case")
    world = await scenario.workspace()
    client = await scenario.client(world)
    await scenario.consumer(world, client)
    ca = CertificateAuthority.create()
    for i in range(6):
        issued = issue(ca, NOW + (i % 3 + 1) * DAY, f"app-{i}")
        await registered(scenario, world, issued, app_name=f"app-{i}", client=client)
    workers = [async_sessionmaker(engine, expire_on_commit=False) for _ in range(4)]

    handled = []
    for moment in (NOW, NOW + 2 * DAY, NOW + 3 * DAY):
        results = await asyncio.gather(
            *(scan_expiring_certificates(w, links=LINKS, now=moment) for w in workers)
        )
        handled.append(sum(results))

    # 2 certificates expire in 1 day, 2 in 2 days, 2 in 3 days.
    assert handled == [6, 6, 2]
    per_app: dict[str, list[str]] = {}
    for mail in await mails(session):
        per_app.setdefault(mail.subject.split('"')[1], []).append(mail.kind)
    assert {name: len(kinds) for name, kinds in per_app.items()} == {
        f"app-{i}": 3 if i % 3 == 2 else 2 for i in range(6)
    }
    rows = await session.scalar(select(func.count()).select_from(CertificateReminder))
    assert rows == 6 * 4  # 30, 7, 1 and 0 days: each recorded once per certificate


def test_the_templates_name_the_certificate_and_escape_html() -> None:
    context = {
        "workspace_name": "Acme",
        "app_name": "<script>alert(1)</script>",
        "client_name": "Partner & Co",
        "certificate_subject": "CN=<b>orders</b>",
        "fingerprint": "ab" * 32,
        "expires_at": "2030-07-11 08:00",
        "days_left": 1,
        "console_url": "https://access.example.com/w/portal/apps",
    }

    expiring = render(NotificationKind.CERTIFICATE_EXPIRING, context)
    expired = render(NotificationKind.CERTIFICATE_EXPIRED, context)

    assert expiring.subject == 'Client certificate of "<script>alert(1)</script>" expires in 1 day'
    assert "expires on 2030-07-11 08:00 UTC, in 1 day." in expiring.text
    assert "ab" * 32 in expiring.text
    assert "&lt;script&gt;" in expiring.html
    assert "CN=&lt;b&gt;orders&lt;/b&gt;" in expiring.html
    assert "Partner &amp; Co" in expired.html
    assert "expired on 2030-07-11 08:00 UTC" in expired.text
