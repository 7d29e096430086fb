"""The outbox's backlog for /metrics: mails not sent yet and how long the oldest has waited,
queried when Prometheus scrapes (so every worker of every instance reports the same figure)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from accessplane.models import Notification, NotificationStatus
from accessplane.models.base import utcnow
from accessplane.observability.metrics import ScrapeQuery

# The most unsent rows a scrape reads: beyond it the count says "at least this many" and the
# age is that of the oldest among them, so a huge backlog costs a scrape no more than this.
BACKLOG_CAP = 10_000
UNSENT = (NotificationStatus.PENDING, NotificationStatus.SENDING)


async def outbox_backlog(
    session: AsyncSession, *, now: datetime | None = None, cap: int = BACKLOG_CAP
) -> tuple[int, float]:
    """(unsent mails, up to ``cap``; seconds since the oldest of them was queued, 0 if none)."""
    unsent = (
        select(col(Notification.created_at).label("created_at"))
        .where(col(Notification.status).in_(UNSENT))
        .limit(cap)
        .subquery()
    )
    count, oldest = (
        await session.execute(select(func.count(), func.min(unsent.c.created_at)))
    ).one()
    if oldest is None:
        return int(count), 0.0
    return int(count), max(0.0, ((now or utcnow()) - oldest).total_seconds())


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
