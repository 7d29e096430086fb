"""Reading the call log (GraphQL and export), and keeping it: partitions and pruning.

The rows are written by ``decision/calls.py`` in batches. On PostgreSQL ``call_log`` is
partitioned by UTC day, one partition per day in the schema ``call_log_partitions``, created
ahead (``ensure_partitions``) and dropped whole when the retention has passed (``prune_calls``);
on SQLite it is a plain table pruned by batched DELETEs. docs/observability.md says why.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnClause, ColumnElement, Select, delete, literal_column, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from accessplane.auth.permissions import Permission
from accessplane.auth.principals import Principal
from accessplane.errors import UserErrorCode
from accessplane.models import Call
from accessplane.models.calls import PARTITION_SCHEMA
from accessplane.services.pagination import Page, PageArgs, after_clause, paginate
from accessplane.services.validation import Checks

logger = logging.getLogger(__name__)

# The most ids or reasons one filter may list (each is one term of an IN list).
MAX_FILTER_ITEMS = 100
# Rows per DELETE when pruning SQLite: short write transactions, so the writer is not held up.
PRUNE_BATCH = 5000
# Partitions made ahead of today, so midnight never finds its day missing.
DAYS_AHEAD = 3
_PARTITION = re.compile(r"^call_log_p(\d{8})$")
SORT = (col(Call.at), col(Call.id))


@dataclass(frozen=True, slots=True)
class CallFilter:
    """Narrow the log: apps, APIs, reasons, outcome, client address (an address or a CIDR)
    and time (``from_`` inclusive, ``to`` exclusive)."""

    access_profile_ids: list[uuid.UUID] | None = None
    api_ids: list[uuid.UUID] | None = None
    reasons: list[str] | None = None
    allowed: bool | None = None
    ip: str | None = None
    from_: datetime | None = None
    to: datetime | None = None


# Addresses: 16 bytes, IPv4 as IPv4-mapped IPv6, so a CIDR is one byte range on both databases.

_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


# Gateways see the same clients again and again: parsing each address once saves the writer
# most of its work per call.
@lru_cache(maxsize=4096)
def ip_bytes(value: str | None) -> bytes | None:
    """The stored form of an address; None for a missing or unparsable one."""
    if not value or len(value) > 64:
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if address.version == 4:
        return b"\0" * 10 + b"\xff\xff" + address.packed
    return address.packed


def ip_text(stored: bytes | None) -> str | None:
    """The address of a stored value, IPv4 written as such."""
    if stored is None or len(stored) != 16:
        return None
    address = ipaddress.IPv6Address(stored)
    mapped = address.ipv4_mapped
    return str(mapped) if mapped is not None else str(address)


def ip_range(value: str) -> tuple[bytes, bytes] | None:
    """The first and last stored value of an address or a CIDR; None if it is neither."""
    if len(value) > 64:
        return None
    try:
        network = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None
    if network.version == 4:
        prefix = 96 + network.prefixlen
        network = ipaddress.IPv6Network(
            (int(_MAPPED.network_address) | int(network.network_address), prefix)
        )
    return network.network_address.packed, network.broadcast_address.packed


def check_filter(checks: Checks, filter: CallFilter) -> None:
    """Add the filter's refused fields to ``checks``."""
    for name, items in (
        ("access_profile_ids", filter.access_profile_ids),
        ("api_ids", filter.api_ids),
        ("reasons", filter.reasons),
    ):
        if items is not None and len(items) > MAX_FILTER_ITEMS:
            checks.add(name, f"At most {MAX_FILTER_ITEMS} items.", UserErrorCode.TOO_LONG)
    if filter.ip is not None and ip_range(filter.ip) is None:
        checks.add("ip", "Give an IP address or a CIDR range.", UserErrorCode.INVALID)
    for name, value in (("from", filter.from_), ("to", filter.to)):
        # A time without a zone names no instant; stored times are UTC.
        if value is not None and value.tzinfo is None:
            checks.add(
                name,
                f"{name} needs a time zone, e.g. 2030-01-31T00:00:00Z.",
                UserErrorCode.INVALID,
            )
    if (
        filter.from_ is not None
        and filter.to is not None
        and filter.from_.tzinfo is not None
        and filter.to.tzinfo is not None
        and filter.from_ >= filter.to
    ):
        checks.add("to", "to must be later than from.", UserErrorCode.INVALID)


def _conditions(workspace_id: uuid.UUID, filter: CallFilter) -> list[ColumnElement[bool]]:
    where = [col(Call.workspace_id) == workspace_id]
    if filter.access_profile_ids is not None:
        where += [
            col(Call.principal_type) == "ACCESS_PROFILE",
            col(Call.principal_id).in_(filter.access_profile_ids),
        ]
    if filter.api_ids is not None:
        where.append(col(Call.api_id).in_(filter.api_ids))
    if filter.reasons is not None:
        where.append(col(Call.reason).in_(filter.reasons))
    if filter.allowed is not None:
        where.append(col(Call.allowed).is_(filter.allowed))
    if filter.ip is not None:
        bounds = ip_range(filter.ip)
        assert bounds is not None  # checked
        where.append(col(Call.ip).between(*bounds))
    if filter.from_ is not None:
        where.append(col(Call.at) >= filter.from_)
    if filter.to is not None:
        where.append(col(Call.at) < filter.to)
    return where


def calls_query(workspace_id: uuid.UUID, filter: CallFilter) -> Select[Any]:
    """The workspace's calls matching ``filter`` (unordered)."""
    return select(Call).where(*_conditions(workspace_id, filter))


async def list_calls(
    session: AsyncSession,
    *,
    actor: Principal,
    workspace_id: uuid.UUID,
    filter: CallFilter,
    args: PageArgs,
) -> Page[Call]:
    """The workspace's calls, newest first (keyset on time and id)."""
    actor.require(workspace_id, Permission.GET_CALL_LOG)
    checks = Checks()
    check_filter(checks, filter)
    checks.raise_if_any()
    return await paginate(
        session, calls_query(workspace_id, filter), sort=SORT, args=args, descending=True
    )


def export_filter(
    *, actor: Principal, workspace_id: uuid.UUID, filter: CallFilter, now: datetime, max_days: int
) -> CallFilter:
    """Check an export's caller and filter; the filter with its time range made explicit and
    bounded: ``to`` defaults to now, ``from`` to a day before ``to``, and the range may span
    at most ``max_days``. NOT_FOUND / FORBIDDEN, or BAD_USER_INPUT with the refused fields."""
    actor.require(workspace_id, Permission.GET_CALL_LOG)
    checks = Checks()
    check_filter(checks, filter)
    checks.raise_if_any()
    to = filter.to or now
    from_ = filter.from_ or to - timedelta(days=1)
    if to - from_ > timedelta(days=max_days):
        checks.add("from", f"An export spans at most {max_days} days.", UserErrorCode.INVALID)
    checks.raise_if_any()
    return replace(filter, from_=from_, to=to)


async def export_chunks(
    sessions: async_sessionmaker[Any],
    *,
    workspace_id: uuid.UUID,
    filter: CallFilter,
    chunk: int = 1000,
) -> AsyncIterator[Sequence[Call]]:
    """The calls of ``filter`` (checked by ``export_filter``), newest first, ``chunk`` rows at a
    time, each chunk read in a short session of its own (keyset on time and id), so an export
    holds neither memory nor a transaction for its whole length."""
    query = calls_query(workspace_id, filter).order_by(col(Call.at).desc(), col(Call.id).desc())
    last: tuple[datetime, uuid.UUID] | None = None
    while True:
        page = query if last is None else query.where(after_clause(SORT, last, descending=True))
        async with sessions() as session:
            rows = (await session.scalars(page.limit(chunk))).all()
        if not rows:
            return
        yield rows
        if len(rows) < chunk:
            return
        last = (rows[-1].at, rows[-1].id)


# Keeping the log: partitions (PostgreSQL) and pruning.


def partition_name(day: date) -> str:
    return f"call_log_p{day:%Y%m%d}"


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


async def ensure_partitions(sessions: async_sessionmaker[Any], days: Iterable[date]) -> None:
    """Create the day partitions of ``days`` that do not exist yet (PostgreSQL; nothing to do
    on SQLite), each in a transaction of its own. Another instance creating the same one at
    the same moment is not an error."""
    for day in sorted(set(days)):
        async with sessions() as session:
            if session.get_bind().dialect.name != "postgresql":
                return
            start, end = _day_start(day), _day_start(day + timedelta(days=1))
            statement = text(
                f"CREATE TABLE IF NOT EXISTS {PARTITION_SCHEMA}.{partition_name(day)} "
                f"PARTITION OF call_log FOR VALUES FROM ('{start.isoformat()}') "
                f"TO ('{end.isoformat()}')"
            )
            try:
                async with session.begin():
                    await session.execute(statement)
            except DBAPIError as error:  # a concurrent CREATE of the same day won
                logger.info("call log partition %s: %s", partition_name(day), error.orig)


async def partitions(session: AsyncSession) -> list[date]:
    """The days that have a partition (PostgreSQL), oldest first."""
    names = await session.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'call_log'::regclass"
        )
    )
    days = []
    for name in names:
        matched = _PARTITION.match(name)
        if matched:
            days.append(datetime.strptime(matched.group(1), "%Y%m%d").date())
    return sorted(days)


async def prune_calls(sessions: async_sessionmaker[Any], *, older_than: datetime) -> int:
    """Remove the calls before ``older_than``: on PostgreSQL by dropping every day partition
    that ends by then (a day is kept whole until all of it is older), on SQLite by DELETEs of
    ``PRUNE_BATCH`` rows each. Returns the partitions dropped, or the rows deleted."""
    async with sessions() as session:
        postgres = session.get_bind().dialect.name == "postgresql"
        days = await partitions(session) if postgres else []
    if not postgres:
        return await _delete_before(sessions, older_than)
    dropped = 0
    for day in days:
        if _day_start(day + timedelta(days=1)) > older_than:
            break
        async with sessions() as session, session.begin():
            await session.execute(
                text(f"DROP TABLE IF EXISTS {PARTITION_SCHEMA}.{partition_name(day)}")
            )
        dropped += 1
    return dropped


async def _delete_before(sessions: async_sessionmaker[Any], older_than: datetime) -> int:
    rowid: ColumnClause[Any] = literal_column("rowid")
    deleted = 0
    while True:
        oldest = select(rowid).select_from(Call).where(col(Call.at) < older_than)
        async with sessions() as session, session.begin():
            result = await session.execute(
                delete(Call)
                .where(rowid.in_(oldest.limit(PRUNE_BATCH)))
                .execution_options(synchronize_session=False)
            )
        count = int(result.rowcount or 0)
        deleted += count
        if count < PRUNE_BATCH:
            return deleted


async def keep_call_log(
    sessions: async_sessionmaker[Any], *, now: datetime, retention_days: int
) -> int:
    """The worker's periodic care: partitions for today and the next days, and pruning."""
    today = now.astimezone(UTC).date()
    await ensure_partitions(sessions, (today + timedelta(days=n) for n in range(DAYS_AHEAD + 1)))
    return await prune_calls(sessions, older_than=now - timedelta(days=retention_days))
