"""Per-credential usage of the decision endpoint, without a write per decision.

Decisions are counted in memory by (principal, reason) and by (principal, reason, UTC hour),
and each flush adds them to ``credential_usage`` (running totals) and ``credential_usage_hour``
(the series behind usage charts) with one batched upsert per table, in one transaction.
Increments add up across instances (several workers, several hosts); a flush that fails keeps
its counts for the next one. The worker prunes hours older than the retention
(``prune_usage_hours``).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, String, Uuid, bindparam, case, delete, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TypeEngine
from sqlmodel import col

from accessplane.decision.reasons import GatewayCallerKind, Reason
from accessplane.models import CredentialUsage, CredentialUsageHour, Workspace
from accessplane.models.base import UTCDateTime
from accessplane.periodic import flushing

logger = logging.getLogger(__name__)

# (principal type, principal id, reason): the primary key of a ``credential_usage`` row.
UsageKey = tuple[GatewayCallerKind, uuid.UUID, Reason]
# (workspace id, decisions, latest decision)
_Tally = tuple[uuid.UUID, int, datetime]
# (principal type, principal id, reason, UTC hour): a ``credential_usage_hour`` row.
HourKey = tuple[GatewayCallerKind, uuid.UUID, Reason, datetime]
# (workspace id, decisions)
_HourTally = tuple[uuid.UUID, int]


def utc_hour(moment: datetime) -> datetime:
    """The start of the UTC hour holding ``moment``."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _insert_rows(
    dialect: str, table: Any, columns: Sequence[tuple[str, TypeEngine[Any]]]
) -> postgresql.Insert | sqlite.Insert:
    """An INSERT of one row per parameter set, skipping rows of a workspace deleted since they
    were counted (INSERT … SELECT … WHERE EXISTS), so they cannot hold up the rest of the batch
    on the foreign key."""
    workspace = Workspace.__table__  # type: ignore[attr-defined]
    values = {name: bindparam(name, type_=type_) for name, type_ in columns}
    rows = select(*values.values()).where(exists().where(workspace.c.id == values["workspace_id"]))
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).from_select(list(values), rows)


def _upsert(dialect: str) -> Insert:
    """Totals: one row per parameter set, added to the stored counts."""
    table = CredentialUsage.__table__  # type: ignore[attr-defined]
    statement = _insert_rows(
        dialect,
        table,
        [
            ("principal_type", String(16)),
            ("principal_id", Uuid()),
            ("reason", String(32)),
            ("workspace_id", Uuid()),
            ("count", BigInteger()),
            ("last_at", UTCDateTime()),
        ],
    )
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[table.c.principal_type, table.c.principal_id, table.c.reason],
        set_={
            "count": table.c.count + excluded.count,
            # max() of two arguments is spelled differently on each database; CASE is not.
            "last_at": case(
                (excluded.last_at > table.c.last_at, excluded.last_at), else_=table.c.last_at
            ),
        },
    )


def _upsert_hours(dialect: str) -> Insert:
    """Hours: one row per parameter set, added to the stored count of that hour."""
    table = CredentialUsageHour.__table__  # type: ignore[attr-defined]
    statement = _insert_rows(
        dialect,
        table,
        [
            ("principal_type", String(16)),
            ("principal_id", Uuid()),
            ("hour", UTCDateTime()),
            ("reason", String(32)),
            ("workspace_id", Uuid()),
            ("count", BigInteger()),
        ],
    )
    return statement.on_conflict_do_update(
        index_elements=[table.c.principal_type, table.c.principal_id, table.c.hour, table.c.reason],
        set_={"count": table.c.count + statement.excluded.count},
    )


def _total_params(batch: dict[UsageKey, _Tally]) -> list[dict[str, Any]]:
    """The totals' parameter sets, sorted, so that concurrent flushes from several instances
    lock rows in one order."""
    return [
        {
            "principal_type": principal_type.value,
            "principal_id": principal_id,
            "reason": reason.value,
            "workspace_id": workspace_id,
            "count": count,
            "last_at": last_at,
        }
        for (principal_type, principal_id, reason), (workspace_id, count, last_at) in sorted(
            batch.items()
        )
    ]


def _hour_params(hours: dict[HourKey, _HourTally]) -> list[dict[str, Any]]:
    """The hours' parameter sets, sorted as the totals' are."""
    return [
        {
            "principal_type": principal_type.value,
            "principal_id": principal_id,
            "hour": hour,
            "reason": reason.value,
            "workspace_id": workspace_id,
            "count": count,
        }
        for (principal_type, principal_id, reason, hour), (workspace_id, count) in sorted(
            hours.items()
        )
    ]


async def prune_usage_hours(session: AsyncSession, *, older_than: datetime) -> int:
    """Delete the usage hours that start before ``older_than`` (the running totals stay), so
    the series does not grow forever. The caller commits."""
    result = await session.execute(
        delete(CredentialUsageHour)
        .where(col(CredentialUsageHour.hour) < older_than)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class DecisionUsage:
    """Counts decisions per (principal, reason) and per UTC hour in memory; ``flush`` adds
    them to the database in one transaction."""

    def __init__(self, sessions: async_sessionmaker[Any]) -> None:
        self.sessions = sessions
        self._pending: dict[UsageKey, _Tally] = {}
        self._hours: dict[HourKey, _HourTally] = {}
        self._lock = asyncio.Lock()

    def record(
        self,
        *,
        workspace_id: uuid.UUID,
        principal_type: GatewayCallerKind,
        principal_id: uuid.UUID,
        reason: Reason,
        at: datetime,
    ) -> None:
        """Count one decision (called on every decision with a known principal: no I/O)."""
        key = (principal_type, principal_id, reason)
        tally = self._pending.get(key)
        if tally is None:
            self._pending[key] = (workspace_id, 1, at)
        else:
            self._pending[key] = (workspace_id, tally[1] + 1, at if at > tally[2] else tally[2])
        hour_key = (principal_type, principal_id, reason, utc_hour(at))
        hour_tally = self._hours.get(hour_key)
        self._hours[hour_key] = (workspace_id, 1 if hour_tally is None else hour_tally[1] + 1)

    @property
    def pending(self) -> int:
        """How many (principal, reason) counters wait for the next flush."""
        return len(self._pending)

    async def flush(self) -> int:
        """Write the counted decisions; returns how many (principal, reason) counters were
        sent (those of a workspace deleted meanwhile are dropped by the database)."""
        async with self._lock:
            batch, self._pending = self._pending, {}
            hours, self._hours = self._hours, {}
            if not batch:
                return 0
            try:
                async with self.sessions() as session, session.begin():
                    dialect = session.get_bind().dialect.name
                    await session.execute(_upsert(dialect), _total_params(batch))
                    await session.execute(_upsert_hours(dialect), _hour_params(hours))
            except Exception:
                # Kept for the next flush rather than lost. A workspace deleted while this
                # flush ran fails the foreign key once; the next flush skips its rows.
                logger.exception("flushing credential usage failed; will retry")
                self._restore(batch, hours)
                return 0
            return len(batch)

    def _restore(self, batch: dict[UsageKey, _Tally], hours: dict[HourKey, _HourTally]) -> None:
        """Put a failed batch back, merged with what was counted in the meantime."""
        for key, (workspace_id, count, last_at) in batch.items():
            newer = self._pending.get(key)
            if newer is None:
                self._pending[key] = (workspace_id, count, last_at)
            else:
                self._pending[key] = (newer[0], newer[1] + count, max(newer[2], last_at))
        for hour_key, (workspace_id, count) in hours.items():
            newer_hour = self._hours.get(hour_key)
            self._hours[hour_key] = (
                (workspace_id, count)
                if newer_hour is None
                else (newer_hour[0], newer_hour[1] + count)
            )

    @asynccontextmanager
    async def running(self, interval: float) -> AsyncIterator[DecisionUsage]:
        """Flush every ``interval`` seconds while inside, and once more on the way out."""
        async with flushing(self.flush, interval, name="decision-usage"):
            yield self
