"""The invitation mail: queued with the new membership (and rolled back with it), linking to
the console's sign-in, with the workspace's own subject, and sent through a real SMTP server."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.models import Member, Notification, NotificationKind
from accessplane.notify.links import ConsoleLinks
from accessplane.notify.outbox import Worker
from accessplane.services import members, notifications
from tests.notify.conftest import SmtpServer
from tests.notify.test_links import assert_links_to
from tests.support.scenario import Scenario, World, gid

LINKS = ConsoleLinks("https://access.example.com")


async def invite(session: AsyncSession, world: World, email: str, role: str = "Consumer") -> Member:
    return await members.add_member(
        session=session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        email=email,
        role_id=world.roles[role].id,
        links=LINKS,
    )


async def invitations(session: AsyncSession, email: str) -> list[Notification]:
    rows = await session.scalars(
        select(Notification).where(
            Notification.kind == NotificationKind.INVITE.value,  # type: ignore[arg-type]
            Notification.recipient == email,  # type: ignore[arg-type]
        )
    )
    return list(rows.all())


def sign_in_url(world: World) -> str:
    target = f"/workspaces/{gid('Workspace', world.workspace.id)}"
    return f"{LINKS.base_url}/sign-in?next={quote(target, safe='/')}"


async def test_the_invitation_is_written_with_the_membership(
    session: AsyncSession, scenario: Scenario
) -> None:
    world = await scenario.workspace("Acme")

    await invite(session, world, "ada@partner.example")

    [mail] = await invitations(session, "ada@partner.example")
    assert mail.workspace_id == world.workspace.id
    assert mail.subject == "You have been added to Acme on AccessPlane"
    assert 'the workspace "Acme"' in mail.body_text
    assert "with the role Consumer" in mail.body_text
    assert "API catalogue" in mail.body_text
    assert "API catalogue" in mail.body_html


async def test_the_link_opens_the_workspace_after_sign_in_and_no_secret_is_sent(
    session: AsyncSession, scenario: Scenario
) -> None:
    world = await scenario.workspace("Acme")

    await invite(session, world, "ada@partner.example", role="Developer")

    [mail] = await invitations(session, "ada@partner.example")
    url = next(word for word in mail.body_text.split() if word.startswith("https://"))
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("access.example.com", "/sign-in")
    # The query keeps the id's "+" and "=" as they are once decoded.
    assert parse_qs(parts.query)["next"] == [f"/workspaces/{gid('Workspace', world.workspace.id)}"]
    assert "API catalogue" not in mail.body_text  # not a consumer's role
    for body in (mail.body_text, mail.body_html):
        assert "apk_" not in body
        assert "apt_" not in body
        assert "password" not in body.lower()


async def test_the_invitation_rolls_back_with_the_membership(
    session: AsyncSession, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await scenario.workspace("Acme")
    queued: list[Notification] = []

    def enqueue_then_fail(*args: Any, **kwargs: Any) -> Notification:
        # The mail is queued, then the transaction fails before it commits.
        queued.append(notifications.enqueue(*args, **kwargs))
        raise RuntimeError("the database went away")

    monkeypatch.setattr(members, "enqueue", enqueue_then_fail)
    with pytest.raises(RuntimeError):
        await invite(session, world, "ada@partner.example")
    await session.rollback()

    assert [n.kind for n in queued] == ["invite"]
    assert await invitations(session, "ada@partner.example") == []
    assert await session.scalar(select(func.count()).select_from(Member)) == 1  # the owner


async def test_a_refused_member_is_not_invited(session: AsyncSession, scenario: Scenario) -> None:
    world = await scenario.workspace("Acme")
    await invite(session, world, "ada@partner.example")

    with pytest.raises(Exception, match="member already"):
        await invite(session, world, "ada@partner.example")

    assert len(await invitations(session, "ada@partner.example")) == 1


async def test_a_known_user_is_invited_to_each_new_workspace(
    session: AsyncSession, scenario: Scenario
) -> None:
    first, second = await scenario.workspace("Acme"), await scenario.workspace("Globex")

    await invite(session, first, "ada@partner.example")
    await invite(session, second, "ada@partner.example")

    mails = await invitations(session, "ada@partner.example")
    assert sorted(m.subject for m in mails) == [
        "You have been added to Acme on AccessPlane",
        "You have been added to Globex on AccessPlane",
    ]


async def test_the_workspace_subject_applies_and_the_worker_sends_it(
    session: AsyncSession, scenario: Scenario, smtp: SmtpServer, worker: Worker
) -> None:
    world = await scenario.workspace("Acme")
    await notifications.update_notification_settings(
        session=session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        subjects={NotificationKind.INVITE: "Welcome to {{ workspace_name }} ({{ role_name }})"},
    )

    await invite(session, world, "ada@partner.example")
    assert (await worker.run_once()).sent == 1

    [message] = smtp.messages
    assert message["To"] == "ada@partner.example"
    assert message["Subject"] == "Welcome to Acme (Consumer)"
    assert_links_to(message, sign_in_url(world))
