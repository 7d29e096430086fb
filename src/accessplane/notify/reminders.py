"""Expiry reminders: to a key's author 30, 7 and 1 days before it expires, and once it has.

Each (key, threshold, expiry) is recorded in ``api_access_reminder`` with an insert that does
nothing on conflict, in the same transaction as the notification it enqueues: however many
workers scan at once, each threshold produces one mail. A key regenerated with a new expiry has
no rows for that expiry yet, so it gets a fresh set. When several thresholds are due at once
(a key created 5 days before its expiry, or a worker that was down), only the nearest one is
mailed; the others are recorded as skipped.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, exists, literal, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from accessplane.models import ApiAccess, ApiAccessReminder, NotificationKind, Workspace
from accessplane.models.base import UTCDateTime, utcnow
from accessplane.notify.links import ConsoleLinks
from accessplane.services.notifications import enqueue, subjects_of
from accessplane.services.webhooks import enqueue_event

logger = logging.getLogger(__name__)

DAYS_BEFORE: tuple[int, ...] = (30, 7, 1)
EXPIRED = 0
# A key that expired longer ago than this gets no "expired" mail (e.g. on a first deployment).
EXPIRED_NOTICE_WINDOW = timedelta(days=7)
SCAN_BATCH = 500


def due_threshold(expires_at: datetime, now: datetime) -> int | None:
    """The nearest threshold reached at ``now``: 0 once expired, else 1, 7 or 30 days."""
    if expires_at <= now:
        return EXPIRED
    for days in sorted(DAYS_BEFORE):
        if now >= expires_at - timedelta(days=days):
            return days
    return None


def _due_threshold_sql(now: datetime) -> Any:
    expires = col(ApiAccess.expires_at)
    whens = [(expires <= now, literal(EXPIRED))]
    whens += [(expires <= now + timedelta(days=d), literal(d)) for d in sorted(DAYS_BEFORE)]
    return case(*whens, else_=literal(-1))


def _insert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql_insert if dialect == "postgresql" else sqlite_insert


async def _candidates(session: AsyncSession, now: datetime) -> Sequence[Any]:
    """Keys whose nearest due threshold for their current expiry is not recorded yet."""
    horizon = now + timedelta(days=max(DAYS_BEFORE))
    handled = exists().where(
        col(ApiAccessReminder.api_access_id) == col(ApiAccess.id),
        col(ApiAccessReminder.expires_at) == col(ApiAccess.expires_at),
        col(ApiAccessReminder.days_before) == _due_threshold_sql(now),
    )
    query = (
        select(col(ApiAccess.id), col(ApiAccess.expires_at))
        .where(
            col(ApiAccess.expires_at).is_not(None),
            col(ApiAccess.expires_at) <= literal(horizon, UTCDateTime()),
            col(ApiAccess.expires_at) > literal(now - EXPIRED_NOTICE_WINDOW, UTCDateTime()),
            ~handled,
        )
        .order_by(col(ApiAccess.expires_at), col(ApiAccess.id))
        .limit(SCAN_BATCH)
    )
    return (await session.execute(query)).all()


async def _remind(
    session: AsyncSession, key: ApiAccess, workspace: Workspace, now: datetime, links: ConsoleLinks
) -> bool:
    """Record the due thresholds of one key and enqueue its mail; False if another worker
    did it first. The caller commits."""
    assert key.expires_at is not None
    expires_at = key.expires_at
    due = due_threshold(expires_at, now)
    if due is None:
        return False
    insert = _insert(session)
    kind = NotificationKind.EXPIRED if due == EXPIRED else NotificationKind.EXPIRING
    notification_id = uuid.uuid4() if key.author_email else None
    claimed = await session.scalar(
        insert(ApiAccessReminder)
        .values(
            api_access_id=key.id,
            days_before=due,
            expires_at=expires_at,
            notification_id=notification_id,
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(ApiAccessReminder.api_access_id)
    )
    if claimed is None:
        return False
    # Farther thresholds passed unmailed: recorded so they are never sent late.
    for days in DAYS_BEFORE:
        if days > due:
            await session.execute(
                insert(ApiAccessReminder)
                .values(
                    api_access_id=key.id,
                    days_before=days,
                    expires_at=expires_at,
                    notification_id=None,
                    created_at=now,
                )
                .on_conflict_do_nothing()
            )
    await enqueue_event(
        session=session,
        workspace_id=key.workspace_id,
        event_type="api_access.expired" if due == EXPIRED else "api_access.expiring",
        payload={
            "apiAccess": {"id": str(key.id), "name": key.name, "tokenHint": key.token_hint},
            "expiresAt": expires_at.isoformat().replace("+00:00", "Z"),
            "daysBefore": due,
        },
    )
    if notification_id is not None and key.author_email is not None:
        remaining = (expires_at - now).total_seconds() / 86400
        enqueue(
            session,
            workspace_id=key.workspace_id,
            kind=kind,
            recipient=key.author_email,
            context={
                "workspace_name": workspace.name,
                "key_name": key.name,
                "expires_at": expires_at.strftime("%Y-%m-%d %H:%M"),
                "days_left": max(1, math.ceil(remaining)),
                "console_url": links.api_access(
                    workspace_id=key.workspace_id, api_access_id=key.id
                ),
            },
            subjects=await subjects_of(session, key.workspace_id),
            now=now,
            notification_id=notification_id,
        )
    return True


async def scan_expiring(
    sessions: async_sessionmaker[Any],
    *,
    links: ConsoleLinks,
    now: datetime | None = None,
) -> int:
    """Enqueue every due reminder; returns how many keys were handled by this call. Safe to
    run in several workers at once. Each mail links to its key in the console (``links``)."""
    now = now or utcnow()
    handled = 0
    async with sessions() as session:
        rows = await _candidates(session, now)
        await session.rollback()
        for key_id, _expires_at in rows:
            async with session.begin():
                found = (
                    await session.execute(
                        select(ApiAccess, Workspace)
                        .join(Workspace, col(Workspace.id) == ApiAccess.workspace_id)
                        .where(col(ApiAccess.id) == key_id)
                        .execution_options(populate_existing=True)
                    )
                ).first()
                if found is None or found[0].expires_at is None:
                    continue
                key, workspace = found
                if await _remind(session, key, workspace, now, links):
                    handled += 1
    if handled:
        logger.info("expiry reminders: %d key(s) handled", handled)
    return handled
