"""The webhook worker: claim due deliveries, sign them (Standard Webhooks), POST them, and mark
them delivered or retry later with exponential backoff and jitter.

Claims work as the mail outbox's (``notify/outbox.py``): a short transaction marks due rows with
a claim token and moves ``next_attempt_at`` to the end of a lease; on PostgreSQL the rows are
picked ``FOR UPDATE SKIP LOCKED`` so any number of workers share the work and never send one
delivery twice at once. Sending happens outside any transaction, a batch concurrently, so a
slow or failing endpoint does not hold up the others.

Every attempt resolves the endpoint's host, refuses it unless every address is public (or
``webhook_allow_private_targets`` is set) and connects to the address it checked: the URL is
rewritten to that address while the ``Host`` header and the TLS server name (``sni_hostname``,
also the name the certificate is verified against) stay the endpoint's host, so a DNS answer
that changes between check and connect (DNS rebinding) cannot reach an internal address.
Redirects are not followed and no proxy from the environment is used.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col
from standardwebhooks import Webhook

from accessplane.models import WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint
from accessplane.models.base import utcnow
from accessplane.services.validation import Checks
from accessplane.services.webhooks import (
    SecretUnreadable,
    is_public_address,
    parse_target,
    resolve,
    reveal_secret,
    secret_cipher,
)
from accessplane.settings import Settings

logger = logging.getLogger(__name__)

USER_AGENT = "AccessPlane-Webhooks/1"
# How many of a host's addresses one attempt tries before giving up.
MAX_ADDRESSES_TRIED = 3
# A worker's hold on a claimed delivery beyond the attempt's own timeout.
LEASE_MARGIN_SECONDS = 60.0
JITTER = 0.2


class TargetRefused(Exception):
    """The endpoint's host resolves to an address webhooks may not reach (or to none)."""


def retry_delay(attempts: int, *, base: float, cap: float, rng: random.Random) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: base x 4^(n-1), at most ``cap``,
    spread by +/- 20 % so that the deliveries of an endpoint that was down do not all come
    back at the same second."""
    wait = min(cap, base * 4 ** max(0, attempts - 1))
    return timedelta(seconds=wait * rng.uniform(1 - JITTER, 1 + JITTER))


@dataclass
class WebhookReport:
    """What one pass over the deliveries did."""

    delivered: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def claimed(self) -> int:
        return self.delivered + self.retried + self.failed


@dataclass(frozen=True, slots=True)
class Attempt:
    """The outcome of one POST: a status code, or why there was none."""

    status_code: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender:
    """Claims, sends and settles deliveries; ``now`` may be given to control the schedule
    (signatures always carry the real time, which receivers check)."""

    def __init__(
        self,
        sessions: async_sessionmaker[Any],
        settings: Settings,
        *,
        rng: random.Random | None = None,
        trust: ssl.SSLContext | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.fernet = secret_cipher(settings.secret_key.get_secret_value().encode())
        self.rng = rng or random.Random()
        # Whom receivers' certificates must chain to: the system's roots unless given.
        self.trust: ssl.SSLContext | bool = trust if trust is not None else True

    async def claim(
        self, now: datetime, limit: int | None = None
    ) -> list[tuple[WebhookDelivery, WebhookEndpoint]]:
        """Take up to ``limit`` due deliveries of enabled endpoints for this worker."""
        token = uuid.uuid4()
        lease = timedelta(seconds=self.settings.webhook_timeout + LEASE_MARGIN_SECONDS)
        due = (
            col(WebhookDelivery.status) == WebhookDeliveryStatus.PENDING,
            col(WebhookDelivery.next_attempt_at) <= now,
        )
        async with self.sessions() as session, session.begin():
            candidates = (
                select(col(WebhookDelivery.id))
                .join(WebhookEndpoint, col(WebhookEndpoint.id) == WebhookDelivery.endpoint_id)
                .where(*due, col(WebhookEndpoint.enabled).is_(True))
                .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
                .limit(limit or self.settings.webhook_batch_size)
            )
            if session.get_bind().dialect.name == "postgresql":
                # Rows another worker is claiming are skipped, not waited for.
                candidates = candidates.with_for_update(of=WebhookDelivery, skip_locked=True)
            await session.execute(
                update(WebhookDelivery)
                .where(col(WebhookDelivery.id).in_(candidates), *due)
                .values(
                    claim_token=token,
                    next_attempt_at=now + lease,
                    attempts=col(WebhookDelivery.attempts) + 1,
                )
                .execution_options(synchronize_session=False)
            )
            rows = (
                await session.execute(
                    select(WebhookDelivery, WebhookEndpoint)
                    .join(WebhookEndpoint, col(WebhookEndpoint.id) == WebhookDelivery.endpoint_id)
                    .where(col(WebhookDelivery.claim_token) == token)
                    .order_by(col(WebhookDelivery.created_at), col(WebhookDelivery.id))
                )
            ).all()
        return [(delivery, endpoint) for delivery, endpoint in rows]

    async def post(self, delivery: WebhookDelivery, endpoint: WebhookEndpoint) -> Attempt:
        """One signed POST of the delivery to its endpoint, within ``webhook_timeout``."""
        try:
            secret = reveal_secret(endpoint, self.fernet)
        except SecretUnreadable:
            return Attempt(None, "The signing secret cannot be read: rotate the secret.")
        try:
            async with asyncio.timeout(self.settings.webhook_timeout):
                return await self._post(delivery, endpoint.url, secret)
        except TargetRefused as error:
            return Attempt(None, str(error))
        except TimeoutError:
            return Attempt(None, f"No answer within {self.settings.webhook_timeout:g} s.")
        except httpx.HTTPError as error:
            return Attempt(None, f"{type(error).__name__}: {error}"[:500])

    async def _post(self, delivery: WebhookDelivery, url: str, secret: str) -> Attempt:
        target = parse_target(Checks(), "url", url)
        if target is None:
            raise TargetRefused("The endpoint's URL is not valid.")
        addresses = await resolve(target.host, target.port)
        if not addresses:
            raise TargetRefused(f"The host {target.host} does not resolve.")
        allow_private = self.settings.webhook_allow_private_targets
        if not allow_private and not all(is_public_address(a) for a in addresses):
            raise TargetRefused(
                f"The host {target.host} resolves to a non-public address; webhooks are not "
                "sent to loopback, private, link-local or reserved addresses."
            )
        original = httpx.URL(url)
        stamp = utcnow()
        headers = {
            "host": original.netloc.decode("ascii"),
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(int(stamp.timestamp())),
            "webhook-signature": Webhook(secret).sign(delivery.message_id, stamp, delivery.payload),
        }
        last: httpx.HTTPError | None = None
        async with httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            timeout=self.settings.webhook_timeout,
            verify=self.trust,
        ) as client:
            for address in addresses[:MAX_ADDRESSES_TRIED]:
                request = client.build_request(
                    "POST",
                    original.copy_with(host=str(address)),
                    content=delivery.payload.encode(),
                    headers=headers,
                    extensions={"sni_hostname": target.host},
                )
                try:
                    # Streamed and closed unread: only the status counts, whatever the size.
                    response = await client.send(request, stream=True)
                except httpx.ConnectError as error:  # the next address may answer
                    last = error
                    continue
                await response.aclose()
                return Attempt(response.status_code, None)
        assert last is not None
        raise last

    async def settle(
        self, delivery: WebhookDelivery, attempt: Attempt, now: datetime
    ) -> WebhookDeliveryStatus:
        """Record an attempt's outcome: DELIVERED, PENDING again after a delay, or FAILED."""
        settings = self.settings
        values: dict[str, Any] = {"last_status_code": attempt.status_code}
        if attempt.delivered:
            status = WebhookDeliveryStatus.DELIVERED
            values.update(delivered_at=utcnow(), last_error=None, next_attempt_at=now)
        else:
            error = attempt.error or f"The endpoint answered HTTP {attempt.status_code}."
            values["last_error"] = error[:500]
            if delivery.attempts >= settings.webhook_max_attempts:
                status = WebhookDeliveryStatus.FAILED
                values["next_attempt_at"] = now
            else:
                status = WebhookDeliveryStatus.PENDING
                values["next_attempt_at"] = now + retry_delay(
                    delivery.attempts,
                    base=settings.webhook_retry_base_seconds,
                    cap=settings.webhook_retry_max_seconds,
                    rng=self.rng,
                )
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(WebhookDelivery)
                .where(
                    col(WebhookDelivery.id) == delivery.id,
                    col(WebhookDelivery.claim_token) == delivery.claim_token,
                )
                .values(status=status, claim_token=None, **values)
                .execution_options(synchronize_session=False)
            )
        self._log(delivery, attempt, status)
        return status

    def _log(
        self, delivery: WebhookDelivery, attempt: Attempt, status: WebhookDeliveryStatus
    ) -> None:
        if status is WebhookDeliveryStatus.DELIVERED:
            logger.info("webhook %s (%s) delivered", delivery.message_id, delivery.event_type)
            return
        log = logger.error if status is WebhookDeliveryStatus.FAILED else logger.warning
        log(
            "webhook %s (%s) to endpoint %s not delivered (attempt %d, %s): %s",
            delivery.message_id,
            delivery.event_type,
            delivery.endpoint_id,
            delivery.attempts,
            "failed for good" if status is WebhookDeliveryStatus.FAILED else "will retry",
            attempt.error or f"HTTP {attempt.status_code}",
        )

    async def deliver(
        self, delivery: WebhookDelivery, endpoint: WebhookEndpoint, now: datetime
    ) -> WebhookDeliveryStatus:
        """Send one claimed delivery and record the outcome."""
        try:
            attempt = await self.post(delivery, endpoint)
        except Exception as error:  # a bug must not lose the delivery: retried later
            logger.exception("webhook %s failed unexpectedly", delivery.message_id)
            attempt = Attempt(None, f"Internal error: {type(error).__name__}")
        return await self.settle(delivery, attempt, now)

    async def process_due(self, now: datetime | None = None) -> WebhookReport:
        """Send everything due, batch after batch, until nothing is left to claim."""
        report = WebhookReport()
        limit = asyncio.Semaphore(self.settings.webhook_concurrency)

        async def one(delivery: WebhookDelivery, endpoint: WebhookEndpoint) -> Any:
            async with limit:
                return await self.deliver(delivery, endpoint, moment)

        while True:
            moment = now or utcnow()
            batch = await self.claim(moment)
            if not batch:
                return report
            outcomes: Sequence[WebhookDeliveryStatus] = await asyncio.gather(
                *(one(delivery, endpoint) for delivery, endpoint in batch)
            )
            for outcome in outcomes:
                if outcome is WebhookDeliveryStatus.DELIVERED:
                    report.delivered += 1
                elif outcome is WebhookDeliveryStatus.FAILED:
                    report.failed += 1
                else:
                    report.retried += 1
