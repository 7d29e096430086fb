"""The call log's writer: every decision is kept in memory and written in batches.

A decision hands ``CallLog.record`` a tuple and goes on: no I/O, no await, no parsing (the
address and the request id are checked at flush time; the strings are only cut to what a row
keeps, so the buffer's memory is bounded). The buffer is
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
import os
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from accessplane.decision.policies import GatewayCaller
from accessplane.decision.reasons import Reason
from accessplane.models.calls import MAX_PATH_LENGTH
from accessplane.services.calls import ensure_partitions, ip_bytes

logger = logging.getLogger(__name__)

# (at, caller, API identifier, method, path, client IP, reason, seconds, request id header,
# operation id): what a decision hands over, cut to what a row keeps by ``CallLog.record``.
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


# The columns a batch writes, in the order of a row's tuple; ``api_id`` is looked up in SQL.
_COLUMNS = (
    "at",
    "id",
    "workspace_id",
    "principal_type",
    "principal_id",
    "api_identifier",
    "operation_id",
    "method",
    "path",
    "ip",
    "reason",
    "allowed",
    "latency_us",
    "request_id",
)
_WORKSPACE, _API = _COLUMNS.index("workspace_id") + 1, _COLUMNS.index("api_identifier") + 1


def insert_sql(dialect: str) -> str:
    """The INSERT of one row per parameter tuple, in the driver's own parameter style
    (numbered, so the workspace and the identifier also find the API's id, null when the
    workspace has no such API, in the same statement)."""
    postgres = dialect == "postgresql"
    mark = "${}" if postgres else "?{}"
    values = ", ".join(mark.format(n) for n in range(1, len(_COLUMNS) + 1))
    # PostgreSQL deduces one type per parameter: the same as in the target columns.
    workspace = mark.format(_WORKSPACE) + ("::uuid" if postgres else "")
    identifier = mark.format(_API) + ("::varchar(63)" if postgres else "")
    api = (
        f"(SELECT api.id FROM api WHERE api.workspace_id = {workspace} "
        f"AND api.identifier = {identifier})"
    )
    return f"INSERT INTO call_log ({', '.join(_COLUMNS)}, api_id) VALUES ({values}, {api})"


Row = tuple[Any, ...]


def _row(record: CallRecord, id: str) -> Row:
    """The values of one record, parsed and bounded off the request path, in ``_COLUMNS``
    order; ``id`` is the call's id as 32 hex digits."""
    at, caller, api, method, path, ip, reason, seconds, request_id, operation_id = record
    valid_id = request_id is not None and _REQUEST_ID.match(request_id) is not None
    return (
        at,
        id,
        caller.workspace_id if caller is not None else None,
        caller.type.value if caller is not None else None,
        caller.id if caller is not None else None,
        api[:63],
        operation_id,
        method[:16],
        path[:MAX_PATH_LENGTH],
        ip_bytes(ip),
        reason.value,
        reason is Reason.OK,
        min(_MAX_LATENCY_US, int(seconds * 1_000_000)),
        # The gateway's X-Request-ID when sane, else one of our own: the call's id.
        request_id.decode("ascii") if valid_id and request_id else id,
    )


def _sqlite(row: Row) -> Row:
    """A row as SQLAlchemy stores these types on SQLite (UUIDs as 32 hex digits, times as
    ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC), which the model reads back."""
    at, id, workspace, kind, principal, api, operation, *rest = row
    utc = at if at.tzinfo is UTC else at.astimezone(UTC)
    return (
        utc.isoformat(" ", "microseconds")[:26],
        id,
        workspace.hex if workspace is not None else None,
        kind,
        principal.hex if principal is not None else None,
        api,
        operation.hex if operation is not None else None,
        *rest,
    )


def rows_of(records: list[CallRecord], dialect: str) -> list[Row]:
    """The parameter tuples of a batch. The driver takes them as they are: SQLAlchemy's
    per-value processing would cost more than the rest of the call log together. Ids are
    128 random bits, drawn for the whole batch at once (both drivers take 32 hex digits)."""
    random = os.urandom(16 * len(records)).hex()
    rows = [_row(record, random[32 * i : 32 * i + 32]) for i, record in enumerate(records)]
    return rows if dialect == "postgresql" else [_sqlite(row) for row in rows]


def _bounded(record: CallRecord) -> CallRecord:
    """The record cut to what a row keeps, so a full buffer holds ``capacity`` short records
    rather than the 64 KiB paths a caller may send (slicing a short string copies nothing)."""
    at, caller, api, method, path, ip, reason, seconds, request_id, operation_id = record
    return (
        at,
        caller,
        api[:63],
        method[:16],
        path[:MAX_PATH_LENGTH],
        # Longer than any address (an IPv6 one with a zone is under 64): not one, not kept.
        ip if ip is None or len(ip) <= 64 else None,
        reason,
        seconds,
        request_id if request_id is None or len(request_id) <= 64 else None,
        operation_id,
    )


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
        buffer.append(_bounded(record))
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
            days = {record[0].astimezone(UTC).date() for record in chunk} - self._days
            if days:
                await ensure_partitions(self.sessions, days)
                self._days |= days
            async with self.sessions() as session, session.begin():
                connection = await session.connection()
                dialect = connection.dialect.name
                await connection.exec_driver_sql(insert_sql(dialect), rows_of(chunk, dialect))
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
