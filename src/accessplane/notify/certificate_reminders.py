"""Expiry reminders for MTLS apps' client certificates: 30, 7 and 1 days before a certificate's
``not_after``, and once it has passed, like API Access keys' (``notify/reminders.py``).

Each (certificate, threshold) is recorded in ``certificate_reminder`` with an insert that does
nothing on conflict, in the transaction of the mails it enqueues, so however many workers scan
at once each threshold is mailed once. A certificate never changes its ``not_after`` (a renewed
certificate is another certificate), so no expiry is part of the key. When several thresholds
are due at once only the nearest is mailed; the farther ones are recorded as handled.

The mail goes to the people who look after the app: the client's own members (consumers), or,
for a client without members, the workspace's people who manage clients (``manageClients``).
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, exists, literal, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from accessplane.auth.permissions import Permission
from accessplane.models import (
    AccessProfile,
    AccessProfileCertificate,
    CertificateReminder,
    Client,
    ClientMember,
    Member,
    MemberKind,
    NotificationKind,
    Role,
    User,
    Workspace,
)
from accessplane.models.base import UTCDateTime, utcnow
from accessplane.notify.links import ConsoleLinks, global_id
from accessplane.notify.reminders import DAYS_BEFORE, EXPIRED, EXPIRED_NOTICE_WINDOW, due_threshold
from accessplane.services.notifications import enqueue, subjects_of

logger = logging.getLogger(__name__)

SCAN_BATCH = 500


@dataclass(frozen=True, slots=True)
class _Subject:
    """A certificate with what its mail names."""

    certificate: AccessProfileCertificate
    app: AccessProfile
    client: Client
    workspace: Workspace


@dataclass(frozen=True, slots=True)
class _Recipient:
    email: str
    consumer: bool  # a member of the client (the portal), else an admin (the console)


def _due_threshold_sql(now: datetime) -> Any:
    not_after = col(AccessProfileCertificate.not_after)
    whens = [(not_after <= now, literal(EXPIRED))]
    whens += [(not_after <= now + timedelta(days=d), literal(d)) for d in sorted(DAYS_BEFORE)]
    return case(*whens, else_=literal(-1))


def _insert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql_insert if dialect == "postgresql" else sqlite_insert


async def _candidates(session: AsyncSession, now: datetime) -> Sequence[uuid.UUID]:
    """Certificates whose nearest due threshold is not recorded yet."""
    horizon = now + timedelta(days=max(DAYS_BEFORE))
    handled = exists().where(
        col(CertificateReminder.certificate_id) == col(AccessProfileCertificate.id),
        col(CertificateReminder.threshold_days) == _due_threshold_sql(now),
    )
    query = (
        select(col(AccessProfileCertificate.id))
        .where(
            col(AccessProfileCertificate.not_after) <= literal(horizon, UTCDateTime()),
            col(AccessProfileCertificate.not_after)
            > literal(now - EXPIRED_NOTICE_WINDOW, UTCDateTime()),
            ~handled,
        )
        .order_by(col(AccessProfileCertificate.not_after), col(AccessProfileCertificate.id))
        .limit(SCAN_BATCH)
    )
    return (await session.scalars(query)).all()


async def _recipients(session: AsyncSession, subject: _Subject) -> list[_Recipient]:
    """The client's human members; without any, the workspace's people managing clients."""
    members = (
        await session.scalars(
            select(col(User.email))
            .join(Member, col(Member.user_id) == col(User.id))
            .join(ClientMember, col(ClientMember.member_id) == col(Member.id))
            .where(
                col(ClientMember.client_id) == subject.client.id,
                col(Member.kind) == MemberKind.HUMAN,
            )
            .order_by(col(User.email))
        )
    ).all()
    if members:
        return [_Recipient(email, consumer=True) for email in members]
    rows = (
        await session.execute(
            select(col(User.email), col(Role.permissions))
            .join(Member, col(Member.user_id) == col(User.id))
            .join(Role, col(Role.id) == col(Member.role_id))
            .where(
                col(Member.workspace_id) == subject.workspace.id,
                col(Member.kind) == MemberKind.HUMAN,
            )
            .order_by(col(User.email))
        )
    ).all()
    wanted = Permission.MANAGE_CLIENTS.value
    return [
        _Recipient(email, consumer=False)
        for email, permissions in rows
        if any(p.get("name") == wanted for p in permissions)
    ]


def _console_url(links: ConsoleLinks, subject: _Subject, recipient: _Recipient) -> str:
    """Consumers manage their apps in the portal; admins on the client's page."""
    workspace = f"{links.base_url}/workspaces/{global_id('Workspace', subject.workspace.id)}"
    if recipient.consumer:
        return f"{workspace}/portal/apps"
    return f"{workspace}/clients/{global_id('Client', subject.client.id)}"


async def _claim(session: AsyncSession, certificate_id: uuid.UUID, due: int, now: datetime) -> bool:
    """Record the due threshold (and the farther ones, never to be sent late); False if
    another worker recorded it first."""
    insert = _insert(session)
    claimed = await session.scalar(
        insert(CertificateReminder)
        .values(certificate_id=certificate_id, threshold_days=due, sent_at=now)
        .on_conflict_do_nothing()
        .returning(CertificateReminder.certificate_id)
    )
    if claimed is None:
        return False
    for days in DAYS_BEFORE:
        if days > due:
            await session.execute(
                insert(CertificateReminder)
                .values(certificate_id=certificate_id, threshold_days=days, sent_at=now)
                .on_conflict_do_nothing()
            )
    return True


async def _remind(
    session: AsyncSession, subject: _Subject, now: datetime, links: ConsoleLinks
) -> bool:
    """Record one certificate's due threshold and enqueue its mails; the caller commits."""
    certificate = subject.certificate
    due = due_threshold(certificate.not_after, now)
    if due is None or not await _claim(session, certificate.id, due, now):
        return False
    kind = (
        NotificationKind.CERTIFICATE_EXPIRED
        if due == EXPIRED
        else NotificationKind.CERTIFICATE_EXPIRING
    )
    remaining = (certificate.not_after - now).total_seconds() / 86400
    context = {
        "workspace_name": subject.workspace.name,
        "app_name": subject.app.name,
        "client_name": subject.client.name,
        "certificate_subject": certificate.subject,
        "fingerprint": certificate.fingerprint,
        "expires_at": certificate.not_after.strftime("%Y-%m-%d %H:%M"),
        "days_left": max(1, math.ceil(remaining)),
    }
    subjects = await subjects_of(session, subject.workspace.id)
    for recipient in await _recipients(session, subject):
        enqueue(
            session,
            workspace_id=subject.workspace.id,
            kind=kind,
            recipient=recipient.email,
            context={**context, "console_url": _console_url(links, subject, recipient)},
            subjects=subjects,
            now=now,
        )
    return True


async def _load(session: AsyncSession, certificate_id: uuid.UUID) -> _Subject | None:
    found = (
        await session.execute(
            select(AccessProfileCertificate, AccessProfile, Client, Workspace)
            .join(
                AccessProfile, col(AccessProfile.id) == AccessProfileCertificate.access_profile_id
            )
            .join(Client, col(Client.id) == AccessProfile.client_id)
            .join(Workspace, col(Workspace.id) == AccessProfileCertificate.workspace_id)
            .where(col(AccessProfileCertificate.id) == certificate_id)
            .execution_options(populate_existing=True)
        )
    ).first()
    return _Subject(*found) if found is not None else None


async def scan_expiring_certificates(
    sessions: async_sessionmaker[Any],
    *,
    links: ConsoleLinks,
    now: datetime | None = None,
) -> int:
    """Enqueue every due certificate reminder; returns how many certificates this call
    handled. Safe to run in several workers at once."""
    now = now or utcnow()
    handled = 0
    async with sessions() as session:
        ids = await _candidates(session, now)
        await session.rollback()
        for certificate_id in ids:
            async with session.begin():
                subject = await _load(session, certificate_id)
                if subject is not None and await _remind(session, subject, now, links):
                    handled += 1
    if handled:
        logger.info("certificate expiry reminders: %d certificate(s) handled", handled)
    return handled
