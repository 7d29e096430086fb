"""Rate limits and quotas: counters in memory on one instance (``decision/counters.py``, whose
cost does not grow with the number of other apps counting), in Redis through the ``limits``
library (``ACCESSPLANE_REDIS_URL``) when several instances must share them exactly.

Rate limits are fixed windows that start with a window's first request (in Redis an atomic
``INCR`` with an expiry, so every instance counts against the same number). Quotas are calendar
days or months in UTC: the period is part of the counter's key, so a new period starts from zero
at midnight whatever the first request's time was.

When Redis cannot be reached the limiter fails as configured (``limiter_failure_mode``):
``closed`` answers ``limiter_unavailable``, ``open`` counts in this instance's memory. Redis is
tried again at most once per ``retry_seconds`` meanwhile, so the outage costs the other
requests nothing, and the first answer it gives ends the outage. Each outage is logged once
when it starts and once when it ends.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from limits import RateLimitItem
from limits.aio.storage import Storage
from limits.errors import StorageError
from limits.storage import storage_from_string

from accessplane.decision.counters import MemoryCounters
from accessplane.decision.policies import PlanPolicy
from accessplane.decision.reasons import Reason

logger = logging.getLogger(__name__)

# Redis errors arrive wrapped (``wrap_exceptions``); a socket error that escapes the client
# is an outage all the same.
STORAGE_ERRORS = (StorageError, OSError)
# Redis is unreachable: while an outage lasts, Redis is tried once per this many seconds.
RETRY_SECONDS = 1.0
# A Redis that accepts connections but never answers is an outage too, not a hung request.
REDIS_TIMEOUT_SECONDS = 0.5


class FailureMode(StrEnum):
    """What the limiter does while its shared counters cannot be reached."""

    CLOSED = "closed"  # refuse credentials that have a limit: limiter_unavailable
    OPEN = "open"  # count in this instance's memory until the shared counters return


@dataclass(frozen=True, slots=True)
class LimitState:
    """What the answer's ``rateLimit`` and ``X-RateLimit-*`` headers say."""

    limit: int
    remaining: int
    reset_seconds: int

    def as_json(self) -> dict[str, int]:
        return {
            "limit": self.limit,
            "remaining": self.remaining,
            "resetSeconds": self.reset_seconds,
        }

    def headers(self) -> list[tuple[bytes, bytes]]:
        """``X-RateLimit-*`` as raw ASGI header pairs."""
        return [
            (b"x-ratelimit-limit", b"%d" % self.limit),
            (b"x-ratelimit-remaining", b"%d" % self.remaining),
            (b"x-ratelimit-reset", b"%d" % self.reset_seconds),
        ]


@dataclass(frozen=True, slots=True)
class LimitOutcome:
    reason: Reason | None  # None: within every limit
    state: LimitState | None


@dataclass(slots=True)
class Outage:
    """The shared counters are unreachable since ``started`` (monotonic seconds)."""

    started: float
    retry_at: float
    error: str
    # Decisions taken without the shared counters, by failure mode.
    decisions: int = 0


@dataclass(slots=True)
class LimiterStats:
    """Counts for the metrics endpoint: outages begun and decisions taken during them."""

    outages: int = 0
    decisions: dict[FailureMode, int] = field(default_factory=lambda: dict.fromkeys(FailureMode, 0))


class Counters(Protocol):
    """What the limiter asks of its counters: ``MemoryCounters`` or a ``limits`` storage."""

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int: ...

    async def get(self, key: str) -> int: ...

    async def get_expiry(self, key: str) -> float: ...

    async def reset(self) -> int | None: ...


def storage_for(redis_url: str | None) -> Counters:
    """Memory, or Redis through redis-py (the ``redis`` extra)."""
    if not redis_url:
        return MemoryCounters()
    storage = storage_from_string(
        f"async+{redis_url}",
        implementation="redispy",
        wrap_exceptions=True,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )
    assert isinstance(storage, Storage)
    return storage


class Limiter:
    """Counts a credential's requests against its plan."""

    def __init__(
        self,
        storage: Counters,
        *,
        failure_mode: FailureMode | str = FailureMode.CLOSED,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self.storage = storage
        self.failure_mode = FailureMode(failure_mode)
        self.retry_seconds = retry_seconds
        self.stats = LimiterStats()
        self.outage: Outage | None = None
        self._local: Limiter | None = None  # in-memory counters while failing open

    async def _hit(self, item: RateLimitItem, *identifiers: str) -> tuple[int, int]:
        """Count one request; the count so far and the seconds until the window resets."""
        key = item.key_for(*identifiers)
        count = await self.storage.incr(key, item.get_expiry())
        reset_at = await self.storage.get_expiry(key)
        return count, max(0, math.ceil(reset_at - time.time()))

    async def check(self, plan: PlanPolicy, subject: uuid.UUID, now: datetime) -> LimitOutcome:
        """Take one request from the rate limit, then from the quota. A request refused by
        the rate limit does not count against the quota."""
        outage = self.outage
        if outage is not None:
            if time.monotonic() < outage.retry_at:
                return await self._without_storage(outage, plan, subject, now)
            # This request tries Redis; the others keep the failure mode until it answers.
            outage.retry_at = time.monotonic() + self.retry_seconds
        state: LimitState | None = None
        reason: Reason | None = None
        try:
            if plan.rate_limit is not None:
                item = plan.rate_limit
                count, reset = await self._hit(item, str(subject))
                state = LimitState(item.amount, max(0, item.amount - count), reset)
                if count > item.amount:
                    reason = Reason.RATE_LIMITED
            if plan.quota is not None and reason is None:
                period, seconds, item = plan.quota.window(now)
                count, _ = await self._hit(item, str(subject), period)
                quota_state = LimitState(item.amount, max(0, item.amount - count), seconds)
                if count > item.amount:
                    reason, state = Reason.QUOTA_EXCEEDED, quota_state
                else:
                    state = state or quota_state
        except STORAGE_ERRORS as error:
            return await self._without_storage(self._failed(error), plan, subject, now)
        if outage is not None:
            self._recovered(outage)
        return LimitOutcome(reason, state)

    def _failed(self, error: Exception) -> Outage:
        """The outage this failure belongs to: the current one, or a new one (logged)."""
        outage = self.outage
        if outage is None:
            started = time.monotonic()
            described = str(getattr(error, "storage_error", None) or error) or type(error).__name__
            outage = self.outage = Outage(started, started + self.retry_seconds, described)
            self.stats.outages += 1
            consequence = (
                "limited credentials are refused with limiter_unavailable"
                if self.failure_mode is FailureMode.CLOSED
                else "limits are counted in this instance's memory"
            )
            # A warning without a traceback: the outage is Redis's, not a bug here.
            logger.warning(
                "rate-limit counters unreachable (%s): failing %s, %s until they answer again",
                described,
                self.failure_mode,
                consequence,
            )
        return outage

    def _recovered(self, outage: Outage) -> None:
        if self.outage is not outage:
            return  # another request already ended this outage
        self.outage = None
        self._local = None  # the next outage counts afresh
        logger.info(
            "rate-limit counters reachable again after %.1f s; %d decisions were taken "
            "failing %s meanwhile",
            time.monotonic() - outage.started,
            outage.decisions,
            self.failure_mode,
        )

    async def _without_storage(
        self, outage: Outage, plan: PlanPolicy, subject: uuid.UUID, now: datetime
    ) -> LimitOutcome:
        if plan.rate_limit is None and plan.quota is None:
            return LimitOutcome(None, None)  # nothing to count: the outage changes nothing
        mode = self.failure_mode
        outage.decisions += 1
        self.stats.decisions[mode] += 1
        if mode is FailureMode.CLOSED:
            return LimitOutcome(Reason.LIMITER_UNAVAILABLE, None)
        if self._local is None:
            self._local = Limiter(storage_for(None))
        return await self._local.check(plan, subject, now)

    async def reset(self) -> None:
        await self.storage.reset()

    async def aclose(self) -> None:
        """Close the connections to Redis, if any (at shutdown)."""
        # ``limits`` keeps its redis-py client on the storage's bridge and offers no close.
        client = getattr(getattr(self.storage, "bridge", None), "storage", None)
        if client is not None:
            await client.aclose()
