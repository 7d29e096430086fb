"""Rate limits and quotas with the ``limits`` library: counters in memory on one instance, in
Redis (``ACCESSPLANE_REDIS_URL``) when several instances must share them exactly.

Rate limits are fixed windows that start with a window's first request (``limits``' fixed-window
strategy; in Redis an atomic ``INCR`` with an expiry, so every instance counts against the same
number). Quotas are calendar days or months in UTC: the period is part of the counter's key, so
a new period starts from zero at midnight whatever the first request's time was.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from limits import RateLimitItem
from limits.aio.storage import Storage
from limits.storage import storage_from_string

from accessplane.decision.policies import PlanPolicy
from accessplane.decision.reasons import Reason


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


def storage_for(redis_url: str | None) -> Storage:
    """Memory, or Redis through redis-py (the ``redis`` extra)."""
    if not redis_url:
        storage = storage_from_string("async+memory://")
    else:
        storage = storage_from_string(f"async+{redis_url}", implementation="redispy")
    assert isinstance(storage, Storage)
    return storage


class Limiter:
    """Counts a credential's requests against its plan."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def _hit(self, item: RateLimitItem, *identifiers: str) -> tuple[int, int]:
        """Count one request; the count so far and the seconds until the window resets."""
        key = item.key_for(*identifiers)
        count = await self.storage.incr(key, item.get_expiry())
        reset_at = await self.storage.get_expiry(key)
        return count, max(0, math.ceil(reset_at - time.time()))

    async def check(self, plan: PlanPolicy, subject: uuid.UUID, now: datetime) -> LimitOutcome:
        """Take one request from the rate limit, then from the quota. A request refused by
        the rate limit does not count against the quota."""
        state: LimitState | None = None
        if plan.rate_limit is not None:
            item = plan.rate_limit
            count, reset = await self._hit(item, str(subject))
            state = LimitState(item.amount, max(0, item.amount - count), reset)
            if count > item.amount:
                return LimitOutcome(Reason.RATE_LIMITED, state)
        if plan.quota is not None:
            period, seconds, item = plan.quota.window(now)
            count, _ = await self._hit(item, str(subject), period)
            quota_state = LimitState(item.amount, max(0, item.amount - count), seconds)
            if count > item.amount:
                return LimitOutcome(Reason.QUOTA_EXCEEDED, quota_state)
            state = state or quota_state
        return LimitOutcome(None, state)

    async def reset(self) -> None:
        await self.storage.reset()
