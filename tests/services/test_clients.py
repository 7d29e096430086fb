"""Clients in the service layer: logos judged by their bytes, who sees which client,
deactivation and deletion."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from accessplane.errors import Forbidden, InputError, NotFound, UserErrorCode
from accessplane.models import AccessProfileRevocation, AuditEvent, Client, ClientLogo
from accessplane.services import clients
from accessplane.services.clients import LogoUpload, logo_content_type
from accessplane.services.pagination import PageArgs
from tests.support.scenario import Scenario

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (b"GIF89a", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"\x89PNG", None),  # truncated signature
    ],
)
def test_logos_are_judged_by_their_magic_bytes(data: bytes, expected: str | None) -> None:
    assert logo_content_type(data) == expected


async def test_an_uploaded_jpeg_is_stored_with_its_type(session, scenario: Scenario) -> None:
    world = await scenario.workspace()

    client = await clients.create_client(
        session=session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        name="Partner",
        logo=LogoUpload(JPEG, "logo.png"),  # the name says PNG; the bytes say JPEG
    )

    logo = await clients.get_logo(session, client.id)
    assert logo is not None
    assert (logo.content_type, logo.data) == ("image/jpeg", JPEG)
    assert client.has_logo


async def test_a_logo_over_the_limit_is_refused(session, scenario: Scenario) -> None:
    world = await scenario.workspace()

    with pytest.raises(InputError) as refused:
        await clients.create_client(
            session=session,
            actor=world.owner.principal,
            workspace_id=world.workspace.id,
            name="Partner",
            logo=LogoUpload(PNG + b"\x00" * 2000),
            max_logo_bytes=1024,
        )

    assert [(e.field, e.code) for e in refused.value.errors] == [("logo", UserErrorCode.TOO_LONG)]
    assert (await session.scalars(select(Client))).all() == []
    assert (await session.scalars(select(ClientLogo))).all() == []


async def test_an_upload_and_a_url_together_are_refused(session, scenario: Scenario) -> None:
    world = await scenario.workspace()

    with pytest.raises(InputError) as refused:
        await clients.create_client(
            session=session,
            actor=world.owner.principal,
            workspace_id=world.workspace.id,
            name="Partner",
            logo=LogoUpload(PNG),
            logo_url="https://cdn.example.com/logo.png",
        )

    assert refused.value.errors[0].field == "logo_url"


async def test_who_sees_which_client(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    mine, theirs = await scenario.client(world, "Mine"), await scenario.client(world, "Theirs")
    consumer = await scenario.consumer(world, mine)
    viewer = await scenario.member(world, "Viewer")
    custom = await scenario.custom_role(world, "Nobody", [])
    nobody = await scenario.member(world, custom.name)

    async def names(person) -> list[str]:  # type: ignore[no-untyped-def]
        page = await clients.list_clients(
            session=session,
            actor=person.principal,
            workspace_id=world.workspace.id,
            filter=clients.ClientFilter(),
            args=PageArgs(first=10),
        )
        return [c.name for c in page.items]

    assert await names(consumer) == ["Mine"]
    assert await names(viewer) == ["Mine", "Theirs"]
    with pytest.raises(Forbidden):
        await names(nobody)
    assert (await clients.get_visible_client(session, consumer.principal, mine.id)).id == mine.id
    with pytest.raises(NotFound):
        await clients.get_visible_client(session, consumer.principal, theirs.id)
    with pytest.raises(Forbidden):
        await clients.get_visible_client(session, nobody.principal, theirs.id)


async def test_deactivation_is_stored_and_audited(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")

    await clients.set_client_active(
        session=session, actor=world.owner.principal, client_id=client.id, active=False
    )

    stored = await session.get(Client, client.id, populate_existing=True)
    assert stored is not None
    assert stored.active is False
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "setClientActive"))
    assert event is not None
    assert event.after == {"active": False}


async def test_deleting_a_client_revokes_every_app_token(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")
    first = await scenario.app(world, client, "One")
    second = await scenario.app(world, client, "Two")

    await clients.delete_client(session=session, actor=world.owner.principal, client_id=client.id)

    revoked = set((await session.scalars(select(AccessProfileRevocation.token_digest))).all())
    assert revoked == {first.access_profile.token_digest, second.access_profile.token_digest}
