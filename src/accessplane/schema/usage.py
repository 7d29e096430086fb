"""Credential usage: what the decision endpoint answered a credential, counted by reason."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import strawberry

from accessplane import models
from accessplane.decision.reasons import Reason


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
