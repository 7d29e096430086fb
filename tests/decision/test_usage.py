"""DecisionUsage: decisions counted in memory, added to ``credential_usage`` (totals) and
``credential_usage_hour`` (per UTC hour) in batches; hours pruned by the worker."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from accessplane.decision.reasons import GatewayCallerKind, Reason
from accessplane.decision.usage import DecisionUsage, prune_usage_hours
from accessplane.models import CredentialUsage, CredentialUsageHour, Workspace
from accessplane.notify.outbox import worker_for
from accessplane.settings import Settings

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
APP = GatewayCallerKind.ACCESS_PROFILE
MEMBER = GatewayCallerKind.MEMBER
Stored = dict[tuple[str, uuid.UUID, str], tuple[uuid.UUID, int, datetime]]
StoredHours = dict[tuple[str, uuid.UUID, str, datetime], tuple[uuid.UUID, int]]


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def workspace(session: AsyncSession, name: str) -> uuid.UUID:
    row = Workspace(name=name, slug=f"{name.lower()}-{uuid.uuid4().hex[:6]}")
    session.add(row)
    await session.commit()
    return row.id


async def stored(session: AsyncSession) -> Stored:
    """Every usage row: (type, id, reason) -> (workspace, count, last decision)."""
    rows = (
        await session.scalars(select(CredentialUsage).execution_options(populate_existing=True))
    ).all()
    await session.commit()
    return {
        (r.principal_type, r.principal_id, r.reason): (r.workspace_id, r.count, r.last_at)
        for r in rows
    }


async def stored_hours(session: AsyncSession) -> StoredHours:
    """Every hour row: (type, id, reason, hour) -> (workspace, count)."""
    rows = (
        await session.scalars(select(CredentialUsageHour).execution_options(populate_existing=True))
    ).all()
    await session.commit()
    return {
        (r.principal_type, r.principal_id, r.reason, r.hour): (r.workspace_id, r.count)
        for r in rows
    }


def decide(
    usage: DecisionUsage,
    workspace_id: uuid.UUID,
    principal_id: uuid.UUID,
    reason: Reason = Reason.OK,
    *,
    at: datetime = NOW,
    principal_type: GatewayCallerKind = APP,
    times: int = 1,
) -> None:
    for _ in range(times):
        usage.record(
            workspace_id=workspace_id,
            principal_type=principal_type,
            principal_id=principal_id,
            reason=reason,
            at=at,
        )


async def test_decisions_are_counted_in_memory_and_written_in_one_statement_per_table(
    session: AsyncSession, sessions, count_queries
) -> None:
    ws = await workspace(session, "Acme")
    app, person = uuid.uuid4(), uuid.uuid4()
    usage = DecisionUsage(sessions)

    with count_queries:
        for i in range(10):
            decide(usage, ws, app, at=NOW + timedelta(seconds=i))
        decide(usage, ws, app, Reason.RATE_LIMITED, at=NOW + timedelta(seconds=3), times=4)
        decide(usage, ws, app, Reason.RATE_LIMITED, at=NOW + timedelta(seconds=1))
        decide(usage, ws, person, Reason.API_NOT_GRANTED, principal_type=MEMBER, times=2)
    assert count_queries.count == 0  # recording does no I/O
    assert usage.pending == 3

    with count_queries:
        assert await usage.flush() == 3
    writes = [s for s in count_queries.statements if s.lstrip().upper().startswith("INSERT")]
    totals = [s for s in writes if "INTO credential_usage (" in s]
    hours = [s for s in writes if "INTO credential_usage_hour (" in s]
    assert (len(totals), len(hours), len(writes)) == (1, 1, 2), count_queries.statements
    assert usage.pending == 0

    assert await stored(session) == {
        ("ACCESS_PROFILE", app, "ok"): (ws, 10, NOW + timedelta(seconds=9)),
        ("ACCESS_PROFILE", app, "rate_limited"): (ws, 5, NOW + timedelta(seconds=3)),
        ("MEMBER", person, "api_not_granted"): (ws, 2, NOW),
    }
    assert await stored_hours(session) == {
        ("ACCESS_PROFILE", app, "ok", NOW): (ws, 10),
        ("ACCESS_PROFILE", app, "rate_limited", NOW): (ws, 5),
        ("MEMBER", person, "api_not_granted", NOW): (ws, 2),
    }
    assert await usage.flush() == 0  # nothing left to write


async def test_two_flushes_add_up_and_keep_the_latest_time(session: AsyncSession, sessions):
    ws = await workspace(session, "Acme")
    app = uuid.uuid4()
    usage = DecisionUsage(sessions)

    decide(usage, ws, app, at=NOW + timedelta(minutes=5), times=3)
    await usage.flush()
    # Counted later but stamped earlier (a slow request): the latest time stays.
    decide(usage, ws, app, at=NOW, times=2)
    decide(usage, ws, app, Reason.EXPIRED, at=NOW)
    await usage.flush()

    assert await stored(session) == {
        ("ACCESS_PROFILE", app, "ok"): (ws, 5, NOW + timedelta(minutes=5)),
        ("ACCESS_PROFILE", app, "expired"): (ws, 1, NOW),
    }
    assert await stored_hours(session) == {
        ("ACCESS_PROFILE", app, "ok", NOW): (ws, 5),
        ("ACCESS_PROFILE", app, "expired", NOW): (ws, 1),
    }


async def test_instances_flushing_the_same_rows_at_once_add_up(
    session: AsyncSession, sessions
) -> None:
    ws = await workspace(session, "Acme")
    apps = sorted(uuid.uuid4() for _ in range(30))
    instances = [DecisionUsage(sessions) for _ in range(3)]
    for i, usage in enumerate(instances):
        # The same rows, counted in different orders, by workers flushing at the same time.
        for app in apps if i % 2 else reversed(apps):
            decide(usage, ws, app, at=NOW + timedelta(seconds=i), times=i + 1)
            decide(usage, ws, app, Reason.QUOTA_EXCEEDED, at=NOW - timedelta(seconds=i))
    await session.commit()  # the arranging session holds no lock while they write

    assert await asyncio.gather(*(usage.flush() for usage in instances)) == [60, 60, 60]

    rows = await stored(session)
    for app in apps:
        assert rows[("ACCESS_PROFILE", app, "ok")] == (ws, 1 + 2 + 3, NOW + timedelta(seconds=2))
        assert rows[("ACCESS_PROFILE", app, "quota_exceeded")] == (ws, 3, NOW)
    hours = await stored_hours(session)
    for app in apps:
        assert hours[("ACCESS_PROFILE", app, "ok", NOW)] == (ws, 1 + 2 + 3)
        assert hours[("ACCESS_PROFILE", app, "quota_exceeded", NOW - timedelta(hours=1))] == (ws, 2)
        assert hours[("ACCESS_PROFILE", app, "quota_exceeded", NOW)] == (ws, 1)


class FailingOnce:
    """A sessionmaker whose first session cannot be opened (the database is unreachable);
    ``meanwhile`` runs at that moment, as a decision counted during the failed flush."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], meanwhile: Callable[[], None]
    ) -> None:
        self.sessions = sessions
        self.meanwhile = meanwhile
        self.calls = 0

    def __call__(self) -> Any:
        self.calls += 1
        if self.calls == 1:
            self.meanwhile()
            raise ConnectionRefusedError("database unreachable")
        return self.sessions()


async def test_a_failed_flush_keeps_its_counts_for_the_next(
    session: AsyncSession, sessions, caplog: pytest.LogCaptureFixture
) -> None:
    ws = await workspace(session, "Acme")
    app = uuid.uuid4()
    usage: DecisionUsage

    def meanwhile() -> None:
        decide(usage, ws, app, at=NOW + timedelta(seconds=9), times=2)

    usage = DecisionUsage(FailingOnce(sessions, meanwhile))  # type: ignore[arg-type]
    decide(usage, ws, app, at=NOW, times=3)
    decide(usage, ws, app, Reason.REVOKED, at=NOW)

    with caplog.at_level(logging.ERROR, logger="accessplane.decision.usage"):
        assert await usage.flush() == 0
    assert "flushing credential usage failed" in caplog.text
    assert usage.pending == 2
    assert await stored(session) == {}

    assert await usage.flush() == 2
    assert await stored(session) == {
        # The failed batch and what was counted while it failed.
        ("ACCESS_PROFILE", app, "ok"): (ws, 5, NOW + timedelta(seconds=9)),
        ("ACCESS_PROFILE", app, "revoked"): (ws, 1, NOW),
    }
    assert await stored_hours(session) == {
        ("ACCESS_PROFILE", app, "ok", NOW): (ws, 5),
        ("ACCESS_PROFILE", app, "revoked", NOW): (ws, 1),
    }


async def test_a_deleted_workspaces_counts_do_not_block_the_others(
    session: AsyncSession, sessions
) -> None:
    kept, gone = await workspace(session, "Kept"), await workspace(session, "Gone")
    app, old_app = uuid.uuid4(), uuid.uuid4()
    usage = DecisionUsage(sessions)
    decide(usage, gone, old_app, times=2)
    decide(usage, kept, app, times=3)
    decide(usage, gone, old_app, Reason.INACTIVE_CLIENT)

    await session.execute(delete(Workspace).where(Workspace.id == gone))
    await session.commit()
    await usage.flush()

    assert usage.pending == 0  # dropped, not retried forever
    assert await stored(session) == {("ACCESS_PROFILE", app, "ok"): (kept, 3, NOW)}
    assert await stored_hours(session) == {("ACCESS_PROFILE", app, "ok", NOW): (kept, 3)}
    decide(usage, kept, app)
    await usage.flush()
    assert (await stored(session))[("ACCESS_PROFILE", app, "ok")] == (kept, 4, NOW)
    assert await stored_hours(session) == {("ACCESS_PROFILE", app, "ok", NOW): (kept, 4)}


async def test_hours_are_utc_hours_whatever_the_offset(session: AsyncSession, sessions) -> None:
    ws = await workspace(session, "Acme")
    app = uuid.uuid4()
    usage = DecisionUsage(sessions)
    paris = timezone(timedelta(hours=1))
    kolkata = timezone(timedelta(hours=5, minutes=30))

    decide(usage, ws, app, at=NOW - timedelta(microseconds=1))  # 11:59:59.999999
    decide(usage, ws, app, at=NOW, times=2)
    decide(usage, ws, app, at=NOW + timedelta(minutes=59, seconds=59))
    decide(usage, ws, app, at=datetime(2026, 3, 1, 13, 59, tzinfo=paris))  # 12:59 UTC
    decide(usage, ws, app, at=datetime(2026, 3, 1, 18, 0, tzinfo=kolkata))  # 12:30 UTC
    decide(usage, ws, app, at=datetime(2026, 3, 1, 18, 30, tzinfo=kolkata))  # 13:00 UTC
    decide(usage, ws, app, Reason.EXPIRED, at=NOW + timedelta(days=1, minutes=5))
    assert usage.pending == 2  # hours are counted beside the totals, not instead
    await usage.flush()

    assert await stored_hours(session) == {
        ("ACCESS_PROFILE", app, "ok", NOW - timedelta(hours=1)): (ws, 1),
        ("ACCESS_PROFILE", app, "ok", NOW): (ws, 5),
        ("ACCESS_PROFILE", app, "ok", NOW + timedelta(hours=1)): (ws, 1),
        ("ACCESS_PROFILE", app, "expired", NOW + timedelta(days=1)): (ws, 1),
    }
    assert (await stored(session))[("ACCESS_PROFILE", app, "ok")][1] == 7


async def test_old_hours_are_pruned_and_the_totals_stay(
    session: AsyncSession, sessions, settings: Settings, engine: AsyncEngine
) -> None:
    ws = await workspace(session, "Acme")
    app = uuid.uuid4()
    usage = DecisionUsage(sessions)
    for days in (0, 1, 89, 90, 91, 400):
        decide(usage, ws, app, at=NOW - timedelta(days=days))
    await usage.flush()

    async with sessions() as writing, writing.begin():
        pruned = await prune_usage_hours(writing, older_than=NOW - timedelta(days=90))
    assert pruned == 2
    hours = await stored_hours(session)
    assert sorted(key[3] for key in hours) == [NOW - timedelta(days=d) for d in (90, 89, 1, 0)]
    assert (await stored(session))[("ACCESS_PROFILE", app, "ok")][1] == 6

    # The worker's periodic pass prunes with the configured retention.
    worker = worker_for(
        settings.model_copy(update={"decision_usage_hour_retention_days": 2}), engine
    )
    await worker.run_once(now=NOW + timedelta(minutes=30))
    assert sorted(key[3] for key in await stored_hours(session)) == [
        NOW - timedelta(days=1),
        NOW,
    ]
    assert (await stored(session))[("ACCESS_PROFILE", app, "ok")][1] == 6


async def test_running_flushes_what_is_left_on_the_way_out(session: AsyncSession, sessions) -> None:
    ws = await workspace(session, "Acme")
    app = uuid.uuid4()
    usage = DecisionUsage(sessions)

    # An hour between flushes: only leaving can have written the counts.
    async with usage.running(interval=3600) as running:
        assert running is usage
        decide(usage, ws, app, times=2)
        await asyncio.sleep(0)  # let the flushing task start
        assert await stored(session) == {}

    assert await stored(session) == {("ACCESS_PROFILE", app, "ok"): (ws, 2, NOW)}
    assert usage.pending == 0


async def test_running_flushes_periodically(session: AsyncSession, sessions) -> None:
    ws = await workspace(session, "Acme")
    app = uuid.uuid4()
    usage = DecisionUsage(sessions)
    loop = asyncio.get_running_loop()

    async with usage.running(interval=0.05):
        decide(usage, ws, app)
        deadline = loop.time() + 5
        while not await stored(session):
            assert loop.time() < deadline, "no periodic flush"
            await asyncio.sleep(0.02)
        assert usage.pending == 0
