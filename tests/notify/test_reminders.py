"""Expiry reminders 30, 7 and 1 days before and upon expiry: each once per key and expiry, even
with several workers; the templates they and access-request decisions use."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from jinja2 import UndefinedError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from accessplane.models import ApiAccessReminder, Notification, NotificationKind
from accessplane.notify.links import ConsoleLinks
from accessplane.notify.outbox import Worker
from accessplane.notify.reminders import due_threshold, scan_expiring
from accessplane.notify.rendering import render
from accessplane.services import api_access, notifications
from accessplane.services.api_access import ApiAccessPolicy
from tests.conftest import SECRET
from tests.notify.conftest import SmtpServer
from tests.support.scenario import Scenario

NOW = datetime(2030, 6, 1, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)
LINKS = ConsoleLinks("https://access.example.com")


async def mails(session: AsyncSession) -> list[Notification]:
    result = await session.scalars(
        select(Notification)
        .order_by(Notification.created_at, Notification.id)
        .execution_options(populate_existing=True)
    )
    found = list(result.all())
    await session.commit()
    return found


def test_the_due_threshold_is_the_nearest_one_reached() -> None:
    expires = NOW + 40 * DAY

    assert due_threshold(expires, NOW) is None
    assert due_threshold(expires, expires - 30 * DAY) == 30
    assert due_threshold(expires, expires - 8 * DAY) == 30
    assert due_threshold(expires, expires - 7 * DAY) == 7
    assert due_threshold(expires, expires - DAY + timedelta(seconds=1)) == 1
    assert due_threshold(expires, expires) == 0


async def test_reminders_go_out_at_30_7_1_days_and_on_expiry_each_once(
    session, scenario: Scenario, sessions, smtp: SmtpServer, worker: Worker
) -> None:
    world = await scenario.workspace()
    expires = NOW + 40 * DAY
    await scenario.api_access(world, name="deploy", expires_at=expires, now=NOW)
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

    handled = [await scan_expiring(sessions, links=LINKS, now=moment) for moment in moments]

    assert handled == [0, 1, 0, 1, 0, 1, 1, 0]
    sent = await mails(session)
    assert [(m.kind, m.subject) for m in sent] == [
        ("expiring", 'API key "deploy" expires in 30 days'),
        ("expiring", 'API key "deploy" expires in 7 days'),
        ("expiring", 'API key "deploy" expires in 1 day'),
        ("expired", 'API key "deploy" has expired'),
    ]
    assert {m.recipient for m in sent} == {world.owner.user.email}

    # The worker delivers them (reminders were scanned above; it only sends here).
    report = await worker.outbox.process_due(expires + DAY)
    assert report.sent == 4
    assert [m["Subject"] for m in smtp.messages] == [m.subject for m in sent]


async def test_a_key_created_close_to_its_expiry_gets_only_the_nearest_reminder(
    session, scenario: Scenario, sessions
) -> None:
    world = await scenario.workspace()
    expires = NOW + 5 * DAY
    await scenario.api_access(world, name="short", expires_at=expires, now=NOW)

    assert await scan_expiring(sessions, links=LINKS, now=NOW) == 1
    assert await scan_expiring(sessions, links=LINKS, now=NOW + DAY) == 0
    assert await scan_expiring(sessions, links=LINKS, now=expires - DAY) == 1

    assert [m.subject for m in await mails(session)] == [
        'API key "short" expires in 5 days',
        'API key "short" expires in 1 day',
    ]
    recorded = (
        await session.execute(
            select(ApiAccessReminder.days_before, ApiAccessReminder.notification_id).order_by(
                ApiAccessReminder.days_before
            )
        )
    ).all()
    assert [(days, mail is not None) for days, mail in recorded] == [
        (1, True),
        (7, True),
        (30, False),
    ]


async def test_a_regenerated_key_with_a_new_expiry_gets_a_fresh_set(
    session, scenario: Scenario, sessions
) -> None:
    world = await scenario.workspace()
    issued = await scenario.api_access(world, name="rotating", expires_at=NOW + 10 * DAY, now=NOW)
    assert (
        await scan_expiring(sessions, links=LINKS, now=NOW) == 1
    )  # the 30-day reminder of the first expiry

    later = NOW + 2 * DAY
    await api_access.regenerate_api_access(
        session=session,
        actor=world.owner.principal,
        policy=ApiAccessPolicy(secret=SECRET.encode()),
        api_access_id=issued.api_access.id,
        expires_at=later + 20 * DAY,
        now=later,
    )

    assert await scan_expiring(sessions, links=LINKS, now=later) == 1
    assert await scan_expiring(sessions, links=LINKS, now=later + 13 * DAY) == 1
    assert [m.subject for m in await mails(session)] == [
        'API key "rotating" expires in 10 days',
        'API key "rotating" expires in 20 days',
        'API key "rotating" expires in 7 days',
    ]


async def test_the_workspaces_own_subjects_are_used(session, scenario: Scenario, sessions) -> None:
    world = await scenario.workspace()
    await notifications.update_notification_settings(
        session=session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        subjects={
            NotificationKind.EXPIRING: "[{{ workspace_name }}] {{ key_name }}: {{ days_left }}d"
        },
    )
    await scenario.api_access(world, name="ci", expires_at=NOW + 3 * DAY, now=NOW)

    await scan_expiring(sessions, links=LINKS, now=NOW)

    [mail] = await mails(session)
    assert mail.subject == f"[{world.workspace.name}] ci: 3d"


async def test_a_key_without_an_author_is_recorded_but_mails_nobody(
    session, scenario: Scenario, sessions
) -> None:
    world = await scenario.workspace()
    await scenario.api_key(world, name="bootstrap", expires_at=NOW + 2 * DAY)

    assert await scan_expiring(sessions, links=LINKS, now=NOW) == 1
    assert await scan_expiring(sessions, links=LINKS, now=NOW + timedelta(hours=12)) == 0

    assert await mails(session) == []
    assert await session.scalar(select(func.count()).select_from(ApiAccessReminder)) == 2


async def test_several_workers_send_each_threshold_once(
    database_url: str, engine: AsyncEngine, session, scenario: Scenario
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite runs a single worker; concurrent scans are PostgreSQL's case")
    world = await scenario.workspace()
    for i in range(10):
        await scenario.api_access(
            world, name=f"key-{i}", expires_at=NOW + (i % 3 + 1) * DAY, now=NOW
        )
    workers = [async_sessionmaker(engine, expire_on_commit=False) for _ in range(5)]

    handled = []
    for moment in (NOW, NOW + 2 * DAY, NOW + 3 * DAY):
        results = await asyncio.gather(
            *(scan_expiring(w, links=LINKS, now=moment) for w in workers)
        )
        handled.append(sum(results))

    # 4 keys expire in 1 day, 3 in 2 days, 3 in 3 days (see the loop above).
    assert handled == [10, 10, 3]
    per_key: dict[str, list[str]] = {}
    for mail in await mails(session):
        per_key.setdefault(mail.subject.split('"')[1], []).append(mail.kind)
    assert {name: len(kinds) for name, kinds in per_key.items()} == {
        f"key-{i}": 3 if i % 3 == 2 else 2 for i in range(10)
    }
    assert all(kinds[-1] == "expired" for kinds in per_key.values())
    rows = await session.scalar(select(func.count()).select_from(ApiAccessReminder))
    assert rows == 10 * 4  # 30, 7, 1 and 0 days: each recorded once per key


# --- templates ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_every_kind_renders_text_and_html_and_escapes_html(kind: NotificationKind) -> None:
    context = {
        "workspace_name": "Acme <b>",
        "key_name": "<script>alert(1)</script>",
        "app_name": "<script>alert(1)</script>",
        "client_name": "Partner",
        "requester": "dev@partner.example",
        "expires_at": "2030-01-01 00:00",
        "days_left": 7,
        "products": ["Payments & Co"],
        "plan_name": "Gold",
        "reason": "Because <reasons>",
        "role_name": "<script>alert(1)</script>",
        "consumer": True,
        "console_url": "https://access.example.com/?a=1&b=<2>",
        "certificate_subject": "CN=orders",
        "fingerprint": "ab" * 32,
        "rule_name": "Denied bursts",
        "kind": "DENIAL_BURST",
        "summary": "20 calls (ip_not_allowed) within 5 min",
        "window_start": "2030-01-01 00:00",
        "suspended": True,
        "app_url": "https://access.example.com/clients/1",
    }

    mail = render(kind, context)

    assert mail.subject
    assert "\n" not in mail.subject
    assert "<script>" in mail.text
    assert "<script>" not in mail.html
    assert "&lt;script&gt;" in mail.html
    assert "Acme &lt;b&gt;" in mail.html
    # The kinds that mention the console link to it: a ready URL, escaped in HTML like any value.
    linked = kind in {
        NotificationKind.ACCESS_REQUESTED,
        NotificationKind.EXPIRING,
        NotificationKind.EXPIRED,
        NotificationKind.INVITE,
        NotificationKind.CERTIFICATE_EXPIRING,
        NotificationKind.CERTIFICATE_EXPIRED,
        NotificationKind.ALERT,
    }
    assert ("https://access.example.com/?a=1&b=<2>" in mail.text) is linked
    assert ('href="https://access.example.com/?a=1&amp;b=&lt;2&gt;"' in mail.html) is linked


def test_approve_and_reject_say_what_was_decided() -> None:
    base = {"workspace_name": "Acme", "app_name": "Mobile", "products": ["Payments"]}

    approved = render(NotificationKind.APPROVE, {**base, "plan_name": "Gold", "reason": ""})
    rejected = render(NotificationKind.REJECT, {**base, "reason": "Missing contract"})

    assert approved.subject == "Access approved: Mobile"
    assert "was approved" in approved.text
    assert "Plan: Gold" in approved.text
    assert rejected.subject == "Access request rejected: Mobile"
    assert "Reason: Missing contract" in rejected.text
    assert "Reason: Missing contract" in rejected.html


def test_a_missing_template_variable_is_an_error_not_a_blank() -> None:
    with pytest.raises(UndefinedError):
        render(NotificationKind.EXPIRED, {"workspace_name": "Acme"})


def test_a_workspace_subject_that_fails_on_real_values_falls_back_to_the_default() -> None:
    context = {
        "workspace_name": "Acme",
        "key_name": "ci",
        "expires_at": "x",
        "days_left": 2,
        "console_url": "https://access.example.com/",
    }

    mail = render(NotificationKind.EXPIRING, context, "{{ days_left / 0 }}")

    assert mail.subject == 'API key "ci" expires in 2 days'
