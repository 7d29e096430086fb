"""Credential usage: what the decision endpoint answered a credential, counted by reason, in
all and per UTC hour or day."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import strawberry

from accessplane import models
from accessplane.context import Info
from accessplane.decision.reasons import Reason
from accessplane.loaders.usage import (
    UsageBucket,
    UsagePoint,
    UsageSeriesByAccessProfileIdLoader,
    usage_window,
)


@strawberry.type
class ReasonCount:
    """The decisions with one reason."""

    reason: str = strawberry.field(description="ok, expired, rate_limited, …")
    count: int
    last_at: datetime = strawberry.field(description="The latest decision with this reason.")


@strawberry.type(
    description="What the decision endpoint answered a principal's credentials (an app's "
    "tokens across refreshes), counted by reason. Written in batches every few seconds: the "
    "latest decisions may not show yet."
)
class CredentialUsage:
    allowed: int = strawberry.field(description="Decisions answered ok.")
    denied: int = strawberry.field(description="Decisions answered with any other reason.")
    last_used_at: datetime | None = strawberry.field(
        description="The latest allowed decision; null if none."
    )
    last_denied_at: datetime | None = strawberry.field(
        description="The latest denied decision; null if none."
    )
    reasons: list[ReasonCount] = strawberry.field(description="Every reason seen, by reason.")

    @classmethod
    def from_rows(cls, rows: Sequence[models.CredentialUsage]) -> CredentialUsage:
        """Sum one principal's rows (one per reason); no rows is zero counts."""
        ok = [row for row in rows if row.reason == Reason.OK]
        denied = [row for row in rows if row.reason != Reason.OK]
        return cls(
            allowed=sum(row.count for row in ok),
            denied=sum(row.count for row in denied),
            last_used_at=max((row.last_at for row in ok), default=None),
            last_denied_at=max((row.last_at for row in denied), default=None),
            reasons=[
                ReasonCount(reason=row.reason, count=row.count, last_at=row.last_at)
                for row in sorted(rows, key=lambda row: row.reason)
            ],
        )


UsageBucketEnum = strawberry.enum(UsageBucket, name="UsageBucket")


@strawberry.type
class UsageReasonCount:
    """The decisions of one bucket with one reason."""

    reason: str = strawberry.field(description="ok, expired, rate_limited, …")
    count: int


@strawberry.type(description="The decisions of one UTC hour or day.")
class UsageBucketPoint:
    start: datetime = strawberry.field(description="The start of the hour or day, in UTC.")
    allowed: int = strawberry.field(description="Decisions answered ok.")
    denied: int = strawberry.field(description="Decisions answered with any other reason.")
    reasons: list[UsageReasonCount] = strawberry.field(
        description="Every reason with decisions in the bucket, by reason."
    )

    @classmethod
    def from_point(cls, point: UsagePoint) -> UsageBucketPoint:
        """A bucket's totals and its counts by reason."""
        allowed = point.reasons.get(Reason.OK, 0)
        return cls(
            start=point.start,
            allowed=allowed,
            denied=sum(point.reasons.values()) - allowed,
            reasons=[
                UsageReasonCount(reason=reason, count=count)
                for reason, count in sorted(point.reasons.items())
            ],
        )


async def usage_series(
    info: Info,
    access_profile_id: uuid.UUID,
    *,
    start: datetime,
    end: datetime,
    bucket: UsageBucket,
) -> list[UsageBucketPoint]:
    """An app's series over [start, end), batched with the other apps of the request."""
    window = usage_window(start=start, end=end, bucket=UsageBucket(bucket))
    loader = info.context.loaders.get(UsageSeriesByAccessProfileIdLoader)
    loader.reserve(window)
    points = await loader.load((access_profile_id, window))
    return [UsageBucketPoint.from_point(point) for point in points]
