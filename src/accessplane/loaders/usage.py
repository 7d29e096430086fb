"""The decision counts of each app: running totals, and series of hours or days."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from aiodataloader import DataLoader
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.decision.reasons import GatewayCallerKind
from accessplane.errors import InputError, UserErrorCode
from accessplane.loaders.base import ListLoader
from accessplane.models import CredentialUsage, CredentialUsageHour


class UsageByAccessProfileIdLoader(ListLoader[CredentialUsage]):
    """The usage rows of each app, one per reason, by reason: one query per batch (the primary
    key's prefix, principal type and id, serves it)."""

    def query(self, keys: Sequence[uuid.UUID]) -> Select[Any, uuid.UUID]:
        return (
            select(CredentialUsage, col(CredentialUsage.principal_id))
            .where(
                col(CredentialUsage.principal_type) == GatewayCallerKind.ACCESS_PROFILE.value,
                col(CredentialUsage.principal_id).in_(keys),
            )
            .order_by(col(CredentialUsage.principal_id), col(CredentialUsage.reason))
        )


class UsageBucket(StrEnum):
    """The length of one point of a usage series."""

    HOUR = "HOUR"
    DAY = "DAY"


BUCKET_LENGTH = {UsageBucket.HOUR: timedelta(hours=1), UsageBucket.DAY: timedelta(days=1)}
# The longest range a series may cover: a month of hours, a year of days.
MAX_RANGE = {UsageBucket.HOUR: timedelta(days=31), UsageBucket.DAY: timedelta(days=366)}
_LATEST = datetime.max.replace(tzinfo=UTC)
# The buckets one request may chart across all its apps: a page of 100 apps asking for a month
# of hours would otherwise build 74 400 points (and aliases multiply that).
MAX_POINTS_PER_REQUEST = 20_000


def _floor(moment: datetime, bucket: UsageBucket) -> datetime:
    """The start of the UTC hour or day holding ``moment``."""
    hour = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return hour if bucket is UsageBucket.HOUR else hour.replace(hour=0)


@dataclass(frozen=True, slots=True)
class UsageWindow:
    """The buckets of a series: every UTC hour or day that overlaps [start, end)."""

    start: datetime  # the start of the first bucket
    end: datetime
    bucket: UsageBucket

    @property
    def length(self) -> timedelta:
        """How long one bucket is."""
        return BUCKET_LENGTH[self.bucket]

    def starts(self) -> list[datetime]:
        """The start of each bucket, oldest first (the last one starts before ``end``)."""
        buckets = -(-(self.end - self.start) // self.length)  # rounded up
        return [self.start + i * self.length for i in range(buckets)]

    @property
    def stop(self) -> datetime:
        """The end of the last bucket: it counts whole, though ``end`` may fall inside it."""
        last = self.starts()[-1]
        return last + self.length if _LATEST - last > self.length else _LATEST


def usage_window(*, start: datetime, end: datetime, bucket: UsageBucket) -> UsageWindow:
    """Check a series' range (``from`` before ``to``, both with an offset, at most
    ``MAX_RANGE`` apart) and return its buckets; else ``InputError`` naming the argument."""
    for name, moment in (("from", start), ("to", end)):
        if moment.tzinfo is None:
            raise InputError.one(
                name,
                f"{name} needs a time zone offset, e.g. 2030-01-31T00:00:00Z.",
                UserErrorCode.INVALID,
            )
    if start >= end:
        raise InputError.one("to", "to must be later than from.", UserErrorCode.INVALID)
    longest = MAX_RANGE[bucket]
    if end - start > longest:
        hint = ", or DAY buckets" if bucket is UsageBucket.HOUR else ""
        raise InputError.one(
            "to",
            f"A series of {bucket.value} buckets covers at most {longest.days} days: "
            f"choose a later from or an earlier to{hint}.",
            UserErrorCode.INVALID,
        )
    return UsageWindow(start=_floor(start, bucket), end=end.astimezone(UTC), bucket=bucket)


@dataclass(frozen=True, slots=True)
class UsagePoint:
    """The decisions of one bucket, by reason (reasons without decisions are left out)."""

    start: datetime
    reasons: dict[str, int]


SeriesKey = tuple[uuid.UUID, UsageWindow]


def _bucket_of(column: Any, bucket: UsageBucket, dialect: str) -> Any:
    """What a row's bucket is grouped by: its hour, or its UTC day (spelled per database)."""
    if bucket is UsageBucket.HOUR:
        return column
    if dialect == "sqlite":
        return func.substr(column, 1, 10)  # stored as "YYYY-MM-DD HH:MM:SS…" in UTC
    return func.date_trunc("day", func.timezone("UTC", column))


class UsageSeriesByAccessProfileIdLoader(DataLoader[SeriesKey, list[UsagePoint]]):
    """The usage series of each app over a window, every bucket present (zero when no
    decision): one grouped query per distinct window in a batch, whatever the number of apps."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__()
        self.session = session
        self.points = 0

    def reserve(self, window: UsageWindow) -> None:
        """Count a series against the request's budget of points before it is loaded, or
        refuse it (``InputError`` on ``from``): the whole answer stays bounded."""
        self.points += len(window.starts())
        if self.points > MAX_POINTS_PER_REQUEST:
            raise InputError.one(
                "from",
                f"One request charts at most {MAX_POINTS_PER_REQUEST} buckets in all: ask for "
                "fewer apps, a shorter range or DAY buckets.",
                UserErrorCode.INVALID,
            )

    async def batch_load_fn(self, keys: Sequence[SeriesKey]) -> list[list[UsagePoint]]:
        by_window: dict[UsageWindow, list[uuid.UUID]] = defaultdict(list)
        for app_id, window in keys:
            by_window[window].append(app_id)
        series: dict[SeriesKey, list[UsagePoint]] = {}
        for window, app_ids in by_window.items():
            counts = await self._counts(window, app_ids)
            for app_id in app_ids:
                series[(app_id, window)] = [
                    UsagePoint(start=start, reasons=counts.get((app_id, start), {}))
                    for start in window.starts()
                ]
        return [series[key] for key in keys]

    async def _counts(
        self, window: UsageWindow, app_ids: Sequence[uuid.UUID]
    ) -> dict[tuple[uuid.UUID, datetime], dict[str, int]]:
        """(app, bucket start) -> reason -> decisions, from the stored hours of the window."""
        hour = col(CredentialUsageHour.hour)
        bucket = _bucket_of(hour, window.bucket, self.session.get_bind().dialect.name)
        rows = await self.session.execute(
            select(
                col(CredentialUsageHour.principal_id),
                func.min(hour),
                col(CredentialUsageHour.reason),
                func.sum(col(CredentialUsageHour.count)),
            )
            .where(
                col(CredentialUsageHour.principal_type) == GatewayCallerKind.ACCESS_PROFILE.value,
                col(CredentialUsageHour.principal_id).in_(app_ids),
                hour >= window.start,
                hour < window.stop,
            )
            .group_by(
                col(CredentialUsageHour.principal_id), bucket, col(CredentialUsageHour.reason)
            )
        )
        counts: dict[tuple[uuid.UUID, datetime], dict[str, int]] = defaultdict(dict)
        for app_id, first_hour, reason, total in rows.all():
            counts[(app_id, _floor(first_hour, window.bucket))][reason] = int(total)
        return counts
