"""Per-credential usage of the decision endpoint, without a write per decision.

Decisions are counted in memory by (principal, reason) and added to ``credential_usage`` by one
batched upsert per flush. Increments add up across instances (several workers, several hosts);
a flush that fails keeps its counts for the next one.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String, Uuid, bindparam, case, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.sql.dml import Insert

from accessplane.decision.reasons import GatewayCallerKind, Reason
from accessplane.models import CredentialUsage, Workspace
from accessplane.models.base import UTCDateTime
from accessplane.periodic import flushing

logger = logging.getLogger(__name__)

# (principal type, principal id, reason): the primary key of a ``credential_usage`` row.
UsageKey = tuple[GatewayCallerKind, uuid.UUID, Reason]
# (workspace id, decisions, latest decision)
_Tally = tuple[uuid.UUID, int, datetime]


def _upsert(dialect: str) -> Insert:
    """One row per parameter set, added to the stored counts. Rows of a workspace deleted since
    they were counted are skipped (INSERT … SELECT … WHERE EXISTS), so they cannot hold up the
    rest of the batch on the foreign key."""
    table = CredentialUsage.__table__  # type: ignore[attr-defined]
    workspace = Workspace.__table__  # type: ignore[attr-defined]
    workspace_id = bindparam("workspace_id", type_=Uuid())
    rows = select(
        bindparam("principal_type", type_=String(16)),
        bindparam("principal_id", type_=Uuid()),
        bindparam("reason", type_=String(32)),
        workspace_id,
        bindparam("count", type_=BigInteger()),
        bindparam("last_at", type_=UTCDateTime()),
    ).where(exists().where(workspace.c.id == workspace_id))
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).from_select(
        ["principal_type", "principal_id", "reason", "workspace_id", "count", "last_at"], rows
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


class DecisionUsage:
    """Counts decisions per (principal, reason) in memory; ``flush`` adds them to the
    database in one transaction."""

    def __init__(self, sessions: async_sessionmaker[Any]) -> None:
        self.sessions = sessions
        self._pending: dict[UsageKey, _Tally] = {}
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

    @property
    def pending(self) -> int:
        """How many (principal, reason) counters wait for the next flush."""
        return len(self._pending)

    async def flush(self) -> int:
        """Write the counted decisions; returns how many counters were sent (those of a
        workspace deleted meanwhile are dropped by the database)."""
        async with self._lock:
            batch, self._pending = self._pending, {}
            if not batch:
                return 0
            # Sorted, so concurrent flushes from several instances lock rows in one order.
            params: list[dict[str, Any]] = []
            for key, (workspace_id, count, last_at) in sorted(batch.items()):
                principal_type, principal_id, reason = key
                params.append(
                    {
                        "principal_type": principal_type.value,
                        "principal_id": principal_id,
                        "reason": reason.value,
                        "workspace_id": workspace_id,
                        "count": count,
                        "last_at": last_at,
                    }
                )
            try:
                async with self.sessions() as session, session.begin():
                    statement = _upsert(session.get_bind().dialect.name)
                    await session.execute(statement, params)
            except Exception:
                # Kept for the next flush rather than lost. A workspace deleted while this
                # flush ran fails the foreign key once; the next flush skips its rows.
                logger.exception("flushing credential usage failed; will retry")
                self._restore(batch)
                return 0
            return len(batch)

    def _restore(self, batch: dict[UsageKey, _Tally]) -> None:
        """Put a failed batch back, merged with what was counted in the meantime."""
        for key, (workspace_id, count, last_at) in batch.items():
            newer = self._pending.get(key)
            if newer is None:
                self._pending[key] = (workspace_id, count, last_at)
            else:
                self._pending[key] = (newer[0], newer[1] + count, max(newer[2], last_at))

    @asynccontextmanager
    async def running(self, interval: float) -> AsyncIterator[DecisionUsage]:
        """Flush every ``interval`` seconds while inside, and once more on the way out."""
        async with flushing(self.flush, interval, name="decision-usage"):
            yield self
