"""The outboxes' backlogs for /metrics, queried when Prometheus scrapes (so every worker of
every instance reports the same figures): mails not sent yet and how long the oldest has
waited; webhook deliveries pending and failed, and the age of the oldest pending one."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from accessplane.models import Notification, NotificationStatus
from accessplane.models.base import utcnow
from accessplane.models.webhooks import WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint
from accessplane.observability.metrics import ScrapeQuery

# The most rows of one kind a scrape reads: beyond it a count says "at least this many" and an
# age is that of the oldest among them, so a huge backlog costs a scrape no more than this.
BACKLOG_CAP = 10_000
UNSENT = (NotificationStatus.PENDING, NotificationStatus.SENDING)


async def outbox_backlog(
    session: AsyncSession, *, now: datetime | None = None, cap: int = BACKLOG_CAP
) -> tuple[int, float]:
    """(unsent mails, up to ``cap``; seconds since the oldest of them was queued, 0 if none)."""
    unsent = col(Notification.status).in_(UNSENT)
    count, oldest = await _capped(session, col(Notification.created_at), unsent, cap)
    if oldest is None:
        return count, 0.0
    return count, max(0.0, ((now or utcnow()) - oldest).total_seconds())


def outbox_query(
    sessions: async_sessionmaker[AsyncSession], *, clock: Callable[[], datetime] = utcnow
) -> ScrapeQuery:
    """The scrape-time query of the backlog's two gauges."""

    async def query() -> Iterable[Metric]:
        async with sessions() as session:
            count, age = await outbox_backlog(session, now=clock())
        return [
            GaugeMetricFamily(
                "accessplane_outbox_unsent",
                f"Mails queued and not sent yet (pending or being sent), counted up to "
                f"{BACKLOG_CAP}.",
                value=count,
            ),
            GaugeMetricFamily(
                "accessplane_outbox_oldest_unsent_age_seconds",
                "Seconds since the oldest unsent mail was queued (0 when none waits).",
                value=age,
            ),
        ]

    return query


async def _capped(
    session: AsyncSession,
    created_at: Any,
    where: ColumnElement[bool],
    cap: int,
    query: Select[Any] | None = None,
) -> tuple[int, datetime | None]:
    """(rows matching ``where``, up to ``cap``; the oldest ``created_at`` among them)."""
    base = query if query is not None else select(created_at.label("created_at"))
    rows = base.where(where).limit(cap).subquery()
    count, oldest = (await session.execute(select(func.count(), func.min(rows.c.created_at)))).one()
    return int(count), oldest


async def webhook_backlog(
    session: AsyncSession, *, now: datetime | None = None, cap: int = BACKLOG_CAP
) -> tuple[int, int, float]:
    """(pending deliveries of enabled endpoints and failed ones, each up to ``cap``; seconds
    since the oldest of those pending was queued, 0 if none). A disabled endpoint's pending
    deliveries wait on purpose (the worker does not claim them), so they are not a backlog:
    counted, their age would grow for as long as the endpoint stays paused."""
    status = col(WebhookDelivery.status)
    created = col(WebhookDelivery.created_at)
    waiting: Select[Any] = (
        select(created.label("created_at"))
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
        .where(col(WebhookEndpoint.enabled).is_(True))
    )
    pending, oldest = await _capped(
        session, created, status == WebhookDeliveryStatus.PENDING, cap, waiting
    )
    failed, _ = await _capped(session, created, status == WebhookDeliveryStatus.FAILED, cap)
    age = max(0.0, ((now or utcnow()) - oldest).total_seconds()) if oldest else 0.0
    return pending, failed, age


def webhook_query(
    sessions: async_sessionmaker[AsyncSession], *, clock: Callable[[], datetime] = utcnow
) -> ScrapeQuery:
    """The scrape-time query of the webhook deliveries' gauges."""

    async def query() -> Iterable[Metric]:
        async with sessions() as session:
            pending, failed, age = await webhook_backlog(session, now=clock())
        deliveries = GaugeMetricFamily(
            "accessplane_webhook_deliveries",
            f"Webhook deliveries waiting (pending) or given up (failed), each counted up to "
            f"{BACKLOG_CAP}.",
            labels=["status"],
        )
        deliveries.add_metric(["pending"], pending)
        deliveries.add_metric(["failed"], failed)
        return [
            deliveries,
            GaugeMetricFamily(
                "accessplane_webhook_oldest_pending_age_seconds",
                "Seconds since the oldest pending webhook delivery of an enabled endpoint was "
                "queued (0 when none).",
                value=age,
            ),
        ]

    return query
