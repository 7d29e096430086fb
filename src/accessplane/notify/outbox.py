"""The outbox worker: claim due notifications, send them, mark them sent or retry later.

A claim is a short transaction that marks rows ``SENDING`` with a claim token and a lease; on
PostgreSQL the rows are picked ``FOR UPDATE SKIP LOCKED`` so any number of workers share the
work, on SQLite the single claim UPDATE is atomic. Sending happens outside any transaction.
A failed send returns the row to ``PENDING`` with exponential backoff, so an SMTP outage loses
nothing; a sent row is marked ``SENT`` (guarded by the claim token) and never claimed again.
Only a worker that dies between the SMTP answer and that mark can send a mail twice: after
``notification_claim_seconds`` another worker takes the claim over.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col

from accessplane.db import create_engine
from accessplane.decision.usage import prune_usage_hours
from accessplane.models import Notification, NotificationStatus
from accessplane.models.base import utcnow
from accessplane.notify.alerts import EVALUATE_EVERY, evaluate_alert_rules
from accessplane.notify.certificate_reminders import scan_expiring_certificates
from accessplane.notify.links import ConsoleLinks
from accessplane.notify.reminders import scan_expiring
from accessplane.notify.sender import (
    DeliveryError,
    MailSender,
    build_message,
    sender_from_settings,
)
from accessplane.notify.webhooks import WebhookSender
from accessplane.services.api_access import prune_revocations
from accessplane.services.calls import keep_call_log
from accessplane.services.webhooks import prune_deliveries
from accessplane.settings import Settings

logger = logging.getLogger(__name__)


def backoff(attempts: int, *, base: float, cap: float) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: base, 2 x base, 4 x base ... cap."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


@dataclass
class DeliveryReport:
    """What one pass over the outbox did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def claimed(self) -> int:
        return self.sent + self.retried + self.failed


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Due and pending, or claimed by a worker whose lease ran out."""
    return or_(
        and_(
            col(Notification.status) == NotificationStatus.PENDING,
            col(Notification.next_attempt_at) <= now,
        ),
        and_(
            col(Notification.status) == NotificationStatus.SENDING,
            col(Notification.locked_until) < now,
        ),
    )


class Outbox:
    """Claims, sends and settles notifications; ``now`` may be given to control the clock."""

    def __init__(
        self, sessions: async_sessionmaker[Any], sender: MailSender, settings: Settings
    ) -> None:
        self.sessions = sessions
        self.sender = sender
        self.settings = settings

    async def claim(self, now: datetime, limit: int | None = None) -> list[Notification]:
        """Take up to ``limit`` due notifications for this worker."""
        token = uuid.uuid4()
        async with self.sessions() as session, session.begin():
            candidates = (
                select(col(Notification.id))
                .where(_claimable(now))
                .order_by(col(Notification.next_attempt_at), col(Notification.id))
                .limit(limit or self.settings.notification_batch_size)
            )
            if session.get_bind().dialect.name == "postgresql":
                # Rows another worker is claiming are skipped, not waited for.
                candidates = candidates.with_for_update(skip_locked=True)
            await session.execute(
                update(Notification)
                .where(col(Notification.id).in_(candidates), _claimable(now))
                .values(
                    status=NotificationStatus.SENDING,
                    claim_token=token,
                    locked_until=now + timedelta(seconds=self.settings.notification_claim_seconds),
                    attempts=col(Notification.attempts) + 1,
                )
                .execution_options(synchronize_session=False)
            )
            rows = (
                await session.scalars(
                    select(Notification)
                    .where(col(Notification.claim_token) == token)
                    .order_by(col(Notification.next_attempt_at), col(Notification.id))
                )
            ).all()
        return list(rows)

    async def _settle(self, notification: Notification, **values: Any) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(Notification)
                .where(
                    col(Notification.id) == notification.id,
                    col(Notification.claim_token) == notification.claim_token,
                )
                .values(claim_token=None, locked_until=None, **values)
                .execution_options(synchronize_session=False)
            )

    async def deliver(self, notification: Notification, now: datetime) -> NotificationStatus:
        """Send one claimed notification and record the outcome."""
        settings = self.settings
        try:
            await self.sender.send(build_message(notification, settings.smtp_from))
        except Exception as error:
            if isinstance(error, DeliveryError):
                permanent, reason = error.permanent, str(error)
            else:  # a bug or an unexpected library error: keep the mail, retry later
                logger.exception("sending notification %s failed unexpectedly", notification.id)
                permanent, reason = False, type(error).__name__
            if permanent and notification.attempts >= settings.notification_max_attempts:
                await self._settle(
                    notification, status=NotificationStatus.FAILED, last_error=reason[:500]
                )
                logger.error(
                    "notification %s to %s failed for good after %d attempts: %s",
                    notification.id,
                    notification.recipient,
                    notification.attempts,
                    reason,
                )
                return NotificationStatus.FAILED
            wait = backoff(
                notification.attempts,
                base=settings.notification_retry_base_seconds,
                cap=settings.notification_retry_max_seconds,
            )
            await self._settle(
                notification,
                status=NotificationStatus.PENDING,
                next_attempt_at=now + wait,
                last_error=reason[:500],
            )
            logger.warning(
                "notification %s to %s not sent (attempt %d), retry in %ss: %s",
                notification.id,
                notification.recipient,
                notification.attempts,
                int(wait.total_seconds()),
                reason,
            )
            return NotificationStatus.PENDING
        await self._settle(
            notification, status=NotificationStatus.SENT, sent_at=utcnow(), last_error=None
        )
        logger.info(
            "notification %s (%s) sent to %s",
            notification.id,
            notification.kind,
            notification.recipient,
        )
        return NotificationStatus.SENT

    async def process_due(self, now: datetime | None = None) -> DeliveryReport:
        """Send everything due, batch after batch, until nothing is left to claim."""
        report = DeliveryReport()
        while True:
            moment = now or utcnow()
            batch = await self.claim(moment)
            if not batch:
                return report
            for notification in batch:
                outcome = await self.deliver(notification, moment)
                if outcome is NotificationStatus.SENT:
                    report.sent += 1
                elif outcome is NotificationStatus.FAILED:
                    report.failed += 1
                else:
                    report.retried += 1


class Worker:
    """The loop of ``accessplane worker``: expiry reminders (and pruning) now and then, the
    outbox often."""

    def __init__(
        self, sessions: async_sessionmaker[Any], sender: MailSender, settings: Settings
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.outbox = Outbox(sessions, sender, settings)
        self.webhooks = WebhookSender(sessions, settings)
        self.links = ConsoleLinks.from_settings(settings)
        self._last_scan: datetime | None = None
        self._last_alerts: datetime | None = None

    async def run_once(self, now: datetime | None = None) -> DeliveryReport:
        """One pass: now and then scan for reminders and prune old revocations, usage hours
        and calls; then send what is due."""
        moment = now or utcnow()
        scan_every = timedelta(seconds=self.settings.reminder_scan_interval)
        if self._last_scan is None or moment - self._last_scan >= scan_every:
            await scan_expiring(self.sessions, now=moment, links=self.links)
            await scan_expiring_certificates(self.sessions, now=moment, links=self.links)
            retention = timedelta(days=self.settings.api_access_revocation_retention_days)
            hours = timedelta(days=self.settings.decision_usage_hour_retention_days)
            async with self.sessions() as session, session.begin():
                await prune_revocations(session, older_than=moment - retention)
                await prune_usage_hours(session, older_than=moment - hours)
                await prune_deliveries(
                    session,
                    older_than=moment
                    - timedelta(days=self.settings.webhook_delivery_retention_days),
                )
            # The call log: partitions ahead (PostgreSQL) and the retention, in short
            # transactions of their own (docs/observability.md).
            await keep_call_log(
                self.sessions, now=moment, retention_days=self.settings.call_log_retention_days
            )
            self._last_scan = moment
        if self._last_alerts is None or moment - self._last_alerts >= EVALUATE_EVERY:
            # Before the outbox, so that an alert's mail and webhook go out in this pass.
            await evaluate_alert_rules(self.sessions, links=self.links, now=moment)
            self._last_alerts = moment
        report = await self.outbox.process_due(now)
        await self.webhooks.process_due(now)  # webhook deliveries share the loop, not the table
        return report

    async def run(self, stop: asyncio.Event) -> None:
        """Loop until ``stop`` is set; a failing pass (database down) is logged and retried."""
        logger.info("notification worker started")
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # the worker outlives outages; the next pass retries
                logger.exception("notification worker pass failed")
            with suppress(TimeoutError):
                await asyncio.wait_for(
                    stop.wait(), timeout=self.settings.notification_worker_interval
                )
        logger.info("notification worker stopped")

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Worker]:
        """Run in the background while inside (the in-process worker of ``serve``)."""
        stop = asyncio.Event()
        task = asyncio.create_task(self.run(stop), name="notification-worker")
        try:
            yield self
        finally:
            stop.set()
            await task


def worker_for(settings: Settings, engine: AsyncEngine) -> Worker:
    """A worker on ``engine`` with the configured sender (SMTP, or the log)."""
    return Worker(
        async_sessionmaker(engine, expire_on_commit=False), sender_from_settings(settings), settings
    )


@asynccontextmanager
async def in_process_worker(settings: Settings, engine: AsyncEngine) -> AsyncIterator[None]:
    """Run the worker inside the server if ``notification_worker_in_process`` is set."""
    if not settings.notification_worker_in_process:
        yield
        return
    async with worker_for(settings, engine).running():
        yield


async def run_worker(settings: Settings, *, once: bool = False) -> DeliveryReport | None:
    """``accessplane worker``: loop until SIGINT/SIGTERM, or one pass with ``once``."""
    engine = create_engine(settings.database_url, echo=settings.database_echo)
    try:
        worker = worker_for(settings, engine)
        if once:
            return await worker.run_once()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with suppress(NotImplementedError):  # not on Windows
                loop.add_signal_handler(signum, stop.set)
        await worker.run(stop)
        return None
    finally:
        await engine.dispose()
