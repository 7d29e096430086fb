"""The call log's writer: every decision is kept in memory and written in batches.

A decision hands ``CallLog.record`` a tuple and goes on: no I/O, no await, no parsing (the
address, the path's length and the request id are dealt with at flush time). The buffer is
bounded by ``call_log_buffer`` (ACCESSPLANE_CALL_LOG_BUFFER), counting the batch being written:
past it a record is dropped and counted in ``dropped``. A background task writes the buffer
every ``call_log_flush_seconds``, or as soon as ``call_log_batch_size`` records wait, with one
multi-row INSERT per batch of that size; a failed batch is logged, counted in ``failed`` and
lost (retrying it would let an outage grow the memory without bound). On the way out the
buffer is written once more.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Integer,
    LargeBinary,
    String,
    Uuid,
    bindparam,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import col

from accessplane.decision.policies import GatewayCaller
from accessplane.decision.reasons import Reason
from accessplane.models import Api, Call
from accessplane.models.base import UTCDateTime
from accessplane.models.calls import MAX_PATH_LENGTH
from accessplane.services.calls import ensure_partitions, ip_bytes

logger = logging.getLogger(__name__)

# (at, caller, API identifier, method, path, client IP, reason, seconds, request id header,
# operation id): what a decision hands over, as it is.
CallRecord = tuple[
    datetime,
    GatewayCaller | None,
    str,
    str,
    str,
    str | None,
    Reason,
    float,
    bytes | None,
    uuid.UUID | None,
]

_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")
_MAX_LATENCY_US = 2**31 - 1


def _insert() -> Insert:
    """One row per parameter set; the API's id is looked up by the workspace and the identifier
    the gateway named (null when there is no such API), in the same statement."""
    values: dict[str, BindParameter[Any]] = {
        "at": bindparam("at", type_=UTCDateTime()),
        "id": bindparam("id", type_=Uuid()),
        "workspace_id": bindparam("workspace_id", type_=Uuid()),
        "principal_type": bindparam("principal_type", type_=String(16)),
        "principal_id": bindparam("principal_id", type_=Uuid()),
        "api_identifier": bindparam("api_identifier", type_=String(63)),
        "operation_id": bindparam("operation_id", type_=Uuid()),
        "method": bindparam("method", type_=String(16)),
        "path": bindparam("path", type_=String(MAX_PATH_LENGTH)),
        "ip": bindparam("ip", type_=LargeBinary(16)),
        "reason": bindparam("reason", type_=String(32)),
        "allowed": bindparam("allowed", type_=Boolean()),
        "latency_us": bindparam("latency_us", type_=Integer()),
        "request_id": bindparam("request_id", type_=String(64)),
    }
    api_id = (
        select(col(Api.id))
        .where(
            col(Api.workspace_id) == values["workspace_id"],
            col(Api.identifier) == values["api_identifier"],
        )
        .scalar_subquery()
    )
    rows = select(*values.values()).add_columns(api_id)
    # The table, not the model: the ORM's bulk INSERT would take over the parameter sets.
    table = Call.__table__  # type: ignore[attr-defined]
    return insert(table).from_select([*values, "api_id"], rows)


_INSERT = _insert()


def _row(record: CallRecord) -> dict[str, Any]:
    """The parameter set of one record: parsed, bounded and typed off the request path."""
    at, caller, api, method, path, ip, reason, seconds, request_id, operation_id = record
    valid_id = request_id is not None and _REQUEST_ID.match(request_id) is not None
    return {
        "at": at,
        "id": uuid.uuid4(),
        "workspace_id": caller.workspace_id if caller is not None else None,
        "principal_type": caller.type.value if caller is not None else None,
        "principal_id": caller.id if caller is not None else None,
        "api_identifier": api[:63],
        "operation_id": operation_id,
        "method": method[:16],
        "path": path[:MAX_PATH_LENGTH],
        "ip": ip_bytes(ip),
        "reason": reason.value,
        "allowed": reason is Reason.OK,
        "latency_us": min(_MAX_LATENCY_US, max(0, round(seconds * 1_000_000))),
        # The gateway's X-Request-ID when sane, else one of our own.
        "request_id": request_id.decode("ascii") if valid_id and request_id else uuid.uuid4().hex,
    }


class CallLog:
    """The bounded buffer of decisions and its batched writer; one per application.

    ``buffered`` (records waiting, the batch being written included), ``dropped`` (records
    refused because the buffer was full), ``written`` and ``failed`` (records lost to a failed
    write) are for metrics; the three counters only grow.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[Any],
        *,
        capacity: int = 50_000,
        batch_size: int = 1000,
        interval: float = 1.0,
    ) -> None:
        self.sessions = sessions
        self.capacity = capacity
        self.batch_size = batch_size
        self.interval = interval
        self.dropped = 0
        self.written = 0
        self.failed = 0
        self._buffer: list[CallRecord] = []
        self._writing = 0
        self._days: set[date] = set()
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()

    @property
    def buffered(self) -> int:
        """Records not written yet (waiting, or in the batch being written)."""
        return len(self._buffer) + self._writing

    def record(self, record: CallRecord) -> None:
        """Keep one decision (on the request path: an append, or a count when full)."""
        buffer = self._buffer
        size = len(buffer)
        if size + self._writing >= self.capacity:
            self.dropped += 1
            return
        buffer.append(record)
        if size + 1 == self.batch_size:
            self._wake.set()

    async def flush(self) -> int:
        """Write what is buffered, one INSERT per ``batch_size`` records; returns how many
        were written. Never raises for a database failure: it is logged and counted."""
        async with self._lock:
            batch, self._buffer = self._buffer, []
            self._writing = len(batch)
            written = 0
            try:
                for start in range(0, len(batch), self.batch_size):
                    chunk = batch[start : start + self.batch_size]
                    written += await self._write(chunk)
                    self._writing -= len(chunk)
            finally:
                self._writing = 0
            return written

    async def _write(self, chunk: list[CallRecord]) -> int:
        try:
            rows = [_row(record) for record in chunk]
            days = {row["at"].astimezone(UTC).date() for row in rows} - self._days
            if days:
                await ensure_partitions(self.sessions, days)
                self._days |= days
            async with self.sessions() as session, session.begin():
                await session.execute(_INSERT, rows)
        except Exception:  # the log must never take the server down: counted and logged
            self.failed += len(chunk)
            self._days.clear()  # a missing partition is made again by the next batch
            logger.exception("writing %d calls to the call log failed; they are lost", len(chunk))
            return 0
        self.written += len(chunk)
        return len(chunk)

    async def _run(self, stop: asyncio.Event) -> None:
        # Stopped by a flag rather than cancelled, so no batch is cut off mid-write.
        while not stop.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            await self.flush()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[CallLog]:
        """Write in the background while inside, and what is left on the way out."""
        stop = asyncio.Event()
        task = asyncio.create_task(self._run(stop), name="call-log")
        try:
            yield self
        finally:
            stop.set()
            self._wake.set()
            await task
            await self.flush()
