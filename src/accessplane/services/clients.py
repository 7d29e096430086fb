"""Clients: consumer organisations, their logos and members, and who may see them.

Members with ``getClient`` see every client of the workspace; a consumer (``requestAccess``)
sees only the clients it belongs to. An inactive client's apps are denied by the decision
endpoint on the next decision: ``active`` is read from the client row.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, false, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.permissions import Permission
from accessplane.auth.principals import Principal
from accessplane.db import transaction
from accessplane.errors import Forbidden, NotFound, UserErrorCode
from accessplane.models import (
    AccessProfile,
    AccessProfileRevocation,
    Client,
    ClientLogo,
    ClientMember,
    Member,
)
from accessplane.models.access_profiles import TokenRevocationReason
from accessplane.models.base import utcnow
from accessplane.services.audit import AuditAction, record_change
from accessplane.services.pagination import Page, PageArgs, paginate
from accessplane.services.scoping import get_referenced
from accessplane.services.tenancy import load_in_workspace, member_id_in
from accessplane.services.uniqueness import (
    check_unique_name,
    recheck_unique_name,
)
from accessplane.services.validation import Checks

MAX_MEMBERS = 100
PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8\xff"


LABEL = "A client"  # how userErrors name this kind of object


@dataclass(frozen=True, slots=True)
class LogoUpload:
    """The bytes of an uploaded logo (read up to one byte past the limit) and its file name."""

    data: bytes
    filename: str = ""


def logo_content_type(data: bytes) -> str | None:
    """``image/png`` or ``image/jpeg`` by the file's magic bytes, whatever its name says."""
    if data.startswith(PNG):
        return "image/png"
    if data.startswith(JPEG):
        return "image/jpeg"
    return None


def _check_logo(checks: Checks, logo: LogoUpload, max_bytes: int) -> str | None:
    if not logo.data:
        checks.add("logo", "The logo file is empty.", UserErrorCode.REQUIRED)
        return None
    if len(logo.data) > max_bytes:
        checks.add("logo", f"The logo may be at most {max_bytes} bytes.", UserErrorCode.TOO_LONG)
        return None
    content_type = logo_content_type(logo.data)
    if content_type is None:
        checks.add("logo", "The logo must be a PNG or JPEG image.", UserErrorCode.INVALID)
    return content_type


def _check_logo_url(checks: Checks, value: str) -> str:
    before = len(checks.errors)
    text = checks.url("logo_url", value, label="logoUrl")
    if text and len(checks.errors) == before and not text.lower().startswith("https://"):
        checks.add("logo_url", "logoUrl must be an https URL.", UserErrorCode.INVALID)
    return text


def sees_all_clients(actor: Principal, workspace_id: uuid.UUID) -> bool:
    """Members with ``getClient`` see every client; consumers only their own."""
    return actor.holds(workspace_id, Permission.GET_CLIENT)


def visible_client_clause(actor: Principal, workspace_id: uuid.UUID) -> ColumnElement[bool]:
    """SQL condition on ``Client``: the clients the principal may see in the workspace."""
    if sees_all_clients(actor, workspace_id):
        return true()
    member_id = actor.membership(workspace_id).member_id
    if member_id is None or not actor.holds(workspace_id, Permission.REQUEST_ACCESS):
        return false()
    return exists().where(
        col(ClientMember.client_id) == col(Client.id), col(ClientMember.member_id) == member_id
    )


async def is_client_member(session: AsyncSession, actor: Principal, client: Client) -> bool:
    """Whether the principal is a consumer member of the client."""
    member_id = member_id_in(actor, client.workspace_id)
    if member_id is None:
        return False
    found = await session.scalar(
        select(col(ClientMember.client_id)).where(
            col(ClientMember.client_id) == client.id,
            col(ClientMember.member_id) == member_id,
        )
    )
    return found is not None


async def get_visible_client(
    session: AsyncSession, actor: Principal, client_id: uuid.UUID
) -> Client:
    """A client the principal may see: another workspace's, or one a consumer does not
    belong to, is NOT_FOUND; a member holding neither permission is FORBIDDEN."""
    client = await load_in_workspace(session, actor, Client, client_id, label="Client")
    if sees_all_clients(actor, client.workspace_id):
        return client
    if not actor.holds(client.workspace_id, Permission.REQUEST_ACCESS):
        actor.require(client.workspace_id, Permission.GET_CLIENT)
    if not await is_client_member(session, actor, client):
        raise NotFound("Client not found.")
    return client


async def get_managed_client(
    session: AsyncSession, actor: Principal, client_id: uuid.UUID
) -> Client:
    """A client the principal may change (``manageClients``)."""
    client = await load_in_workspace(session, actor, Client, client_id, label="Client")
    if not actor.holds(client.workspace_id, Permission.MANAGE_CLIENTS):
        if not sees_all_clients(actor, client.workspace_id) and not await is_client_member(
            session, actor, client
        ):
            raise NotFound("Client not found.")
        raise Forbidden(
            f"The permission '{Permission.MANAGE_CLIENTS.value}' is needed.",
            permission=Permission.MANAGE_CLIENTS.value,
        )
    return client


def _summary(client: Client, member_ids: Sequence[uuid.UUID] | None = None) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "name": client.name,
        "description": client.description,
        "active": client.active,
        "logo": "uploaded" if client.has_logo else client.logo_url,
    }
    if member_ids is not None:
        summary["memberIds"] = sorted(str(m) for m in member_ids)
    return summary


async def _members(
    checks: Checks, session: AsyncSession, workspace_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    if len(ids) > MAX_MEMBERS:
        checks.add("member_ids", f"At most {MAX_MEMBERS} members.", UserErrorCode.INVALID)
        return []
    rows = await get_referenced(
        session, Member, list(ids), workspace_id, field="member_ids", label="member", checks=checks
    )
    return [row.id for row in rows]


def _logo_values(
    checks: Checks,
    *,
    logo: LogoUpload | None,
    logo_url: str | None,
    max_logo_bytes: int,
) -> tuple[str | None, str | None]:
    """(content type of an upload, external URL): one or the other, checked."""
    if logo is not None and logo_url:
        checks.add(
            "logo_url", "Give either a logo upload or a logoUrl, not both.", UserErrorCode.INVALID
        )
        return None, None
    content_type = _check_logo(checks, logo, max_logo_bytes) if logo is not None else None
    url = _check_logo_url(checks, logo_url) if logo_url else None
    return content_type, url


async def create_client(
    *,
    session: AsyncSession,
    actor: Principal,
    workspace_id: uuid.UUID,
    name: str,
    description: str = "",
    logo: LogoUpload | None = None,
    logo_url: str | None = None,
    member_ids: Sequence[uuid.UUID] = (),
    max_logo_bytes: int = 1024 * 1024,
) -> Client:
    """Register a client, with an uploaded logo (PNG or JPEG) or an https logo URL."""
    actor.require(workspace_id, Permission.MANAGE_CLIENTS)
    checks = Checks()
    name = checks.text("name", name, max_length=100)
    description = checks.text("description", description, max_length=2000, required=False)
    content_type, url = _logo_values(
        checks, logo=logo, logo_url=logo_url, max_logo_bytes=max_logo_bytes
    )
    members = await _members(checks, session, workspace_id, member_ids)
    await check_unique_name(checks, session, Client, workspace_id, name, label=LABEL)
    checks.raise_if_any()
    try:
        async with transaction(session):
            client = Client(
                workspace_id=workspace_id,
                name=name,
                description=description,
                logo_url=url or "",
                has_logo=content_type is not None,
            )
            session.add(client)
            await session.flush()
            if logo is not None and content_type is not None:
                _add_logo(session, client, logo, content_type)
            _add_members(session, client, members)
            record_change(
                session, actor, client, AuditAction.CREATE_CLIENT, after=_summary(client, members)
            )
    except IntegrityError:
        # A concurrent create took the name (DUPLICATE), or a row this one refers to went
        # (re-raised: CONFLICT, and a retry says which).
        await recheck_unique_name(session, Client, workspace_id, name, label=LABEL)
        raise
    return client


def _add_logo(session: AsyncSession, client: Client, logo: LogoUpload, content_type: str) -> None:
    session.add(ClientLogo(client_id=client.id, content_type=content_type, data=logo.data))
    client.has_logo = True


async def _replace_logo(
    session: AsyncSession,
    client: Client,
    logo: LogoUpload | None,
    content_type: str | None,
    url: str | None,
) -> None:
    """Drop the client's logo for the new one: an upload, a URL, or none."""
    await session.execute(delete(ClientLogo).where(col(ClientLogo.client_id) == client.id))
    client.has_logo, client.logo_url = False, ""
    if logo is not None and content_type is not None:
        _add_logo(session, client, logo, content_type)
    if url:
        client.logo_url = url


def _add_members(session: AsyncSession, client: Client, member_ids: Sequence[uuid.UUID]) -> None:
    for member_id in member_ids:
        session.add(
            ClientMember(client_id=client.id, member_id=member_id, workspace_id=client.workspace_id)
        )


async def _member_ids(session: AsyncSession, client_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        (
            await session.scalars(
                select(col(ClientMember.member_id)).where(col(ClientMember.client_id) == client_id)
            )
        ).all()
    )


def _edited_texts(
    checks: Checks, client: Client, name: str | None, description: str | None
) -> tuple[str, str]:
    """The client's name and description after an edit (``None`` keeps the value)."""
    new_name = client.name if name is None else checks.text("name", name, max_length=100)
    if description is None:
        return new_name, client.description
    return new_name, checks.text("description", description, max_length=2000, required=False)


async def update_client(
    *,
    session: AsyncSession,
    actor: Principal,
    client_id: uuid.UUID,
    name: str | None = None,
    description: str | None = None,
    logo: LogoUpload | None = None,
    logo_url: str | None = None,
    remove_logo: bool = False,
    member_ids: Sequence[uuid.UUID] | None = None,
    max_logo_bytes: int = 1024 * 1024,
) -> Client:
    """Edit a client; fields left ``None`` keep their value, ``member_ids`` replaces the
    members, a new logo (upload or URL) replaces the old one, ``remove_logo`` drops it."""
    client = await get_managed_client(session, actor, client_id)
    workspace_id = client.workspace_id  # read now: a rollback expires the client
    old_members = await _member_ids(session, client.id)
    before = _summary(client, old_members)
    checks = Checks()
    new_name, new_description = _edited_texts(checks, client, name, description)
    if remove_logo and (logo is not None or logo_url):
        checks.add("remove_logo", "removeLogo cannot come with a new logo.", UserErrorCode.INVALID)
    content_type, url = _logo_values(
        checks, logo=logo, logo_url=logo_url, max_logo_bytes=max_logo_bytes
    )
    members = (
        None
        if member_ids is None
        else await _members(checks, session, client.workspace_id, member_ids)
    )
    if name is not None:
        await check_unique_name(
            checks, session, Client, client.workspace_id, new_name, client.id, label=LABEL
        )
    checks.raise_if_any()
    try:
        async with transaction(session):
            client.name, client.description = new_name, new_description
            if remove_logo or content_type is not None or url:
                await _replace_logo(session, client, logo, content_type, url)
            if members is not None:
                await session.execute(
                    delete(ClientMember).where(col(ClientMember.client_id) == client.id)
                )
                _add_members(session, client, members)
            client.updated_at = utcnow()
            session.add(client)
            after = _summary(client, old_members if members is None else members)
            record_change(
                session, actor, client, AuditAction.UPDATE_CLIENT, before=before, after=after
            )
    except IntegrityError:
        await recheck_unique_name(session, Client, workspace_id, new_name, client_id, label=LABEL)
        raise
    return client


async def set_client_active(
    *, session: AsyncSession, actor: Principal, client_id: uuid.UUID, active: bool
) -> Client:
    """Activate or deactivate a client: an inactive client's apps are denied on the very next
    decision (the decision endpoint reads this column)."""
    client = await get_managed_client(session, actor, client_id)
    before = client.active
    async with transaction(session):
        client.active = active
        client.updated_at = utcnow()
        session.add(client)
        record_change(
            session,
            actor,
            client,
            AuditAction.SET_CLIENT_ACTIVE,
            before={"active": before},
            after={"active": active},
        )
    return client


async def delete_client(*, session: AsyncSession, actor: Principal, client_id: uuid.UUID) -> Client:
    """Delete a client with its apps, requests and logo; the apps' tokens are revoked."""
    client = await get_managed_client(session, actor, client_id)
    now = utcnow()
    async with transaction(session):
        profiles = (
            await session.execute(
                select(col(AccessProfile.id), col(AccessProfile.token_digest)).where(
                    col(AccessProfile.client_id) == client.id
                )
            )
        ).all()
        for profile_id, digest in profiles:
            if digest is not None:
                session.add(
                    AccessProfileRevocation(
                        token_digest=digest,
                        workspace_id=client.workspace_id,
                        access_profile_id=profile_id,
                        reason=TokenRevocationReason.DELETED,
                        revoked_at=now,
                    )
                )
        before = {**_summary(client), "accessProfiles": len(profiles)}
        record_change(session, actor, client, AuditAction.DELETE_CLIENT, before=before)
        await session.delete(client)
    return client


async def get_logo(session: AsyncSession, client_id: uuid.UUID) -> ClientLogo | None:
    """The uploaded logo of a client, for ``/logos/{client id}``."""
    return await session.get(ClientLogo, client_id)


@dataclass(frozen=True, slots=True)
class ClientFilter:
    """``active``: only active (or inactive) clients; ``search``: a part of the name."""

    active: bool | None = None
    search: str | None = None


async def list_clients(
    *,
    session: AsyncSession,
    actor: Principal,
    workspace_id: uuid.UUID,
    filter: ClientFilter,
    args: PageArgs,
) -> Page[Client]:
    """The clients the principal may see, by name."""
    if not actor.holds(workspace_id, Permission.REQUEST_ACCESS):
        actor.require(workspace_id, Permission.GET_CLIENT)
    query = select(Client).where(
        col(Client.workspace_id) == workspace_id, visible_client_clause(actor, workspace_id)
    )
    if filter.active is not None:
        query = query.where(col(Client.active) == filter.active)
    if filter.search and filter.search.strip():
        term = filter.search.strip().lower()
        query = query.where(
            or_(
                func.lower(col(Client.name)).contains(term, autoescape=True),
                func.lower(col(Client.description)).contains(term, autoescape=True),
            )
        )
    return await paginate(session, query, sort=[col(Client.name), col(Client.id)], args=args)
