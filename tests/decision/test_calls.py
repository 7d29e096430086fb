"""The call log's writer: every decision, allowed or denied, handed to a bounded buffer without
I/O and written in batches of one INSERT each; a full buffer drops and counts, a failed write
is logged and counted, shutdown writes what is left."""

from __future__ import annotations

import inspect
import logging
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from accessplane.app import create_app
from accessplane.auth.tokens import TokenKind, issue_token
from accessplane.db import create_engine
from accessplane.decision.calls import CallLog, CallRecord
from accessplane.decision.policies import GatewayCaller
from accessplane.decision.reasons import GatewayCallerKind, Reason
from accessplane.models import Call
from accessplane.services.calls import ip_text
from accessplane.settings import Settings
from tests.support.gateway import PEER, Gate, Shop

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def caller(workspace_id: uuid.UUID | None = None) -> GatewayCaller:
    return GatewayCaller.create(
        GatewayCallerKind.ACCESS_PROFILE, uuid.uuid4(), "web", workspace_id or uuid.uuid4()
    )


def record(
    at: datetime = NOW, who: GatewayCaller | None = None, reason: Reason = Reason.OK, **extra: Any
) -> CallRecord:
    values: dict[str, Any] = {
        "api": "orders",
        "method": "GET",
        "path": "/orders/1",
        "ip": "198.51.100.4",
        "seconds": 0.000123,
        "request_id": b"req-1",
        "operation_id": None,
        **extra,
    }
    return (
        at,
        who,
        values["api"],
        values["method"],
        values["path"],
        values["ip"],
        reason,
        values["seconds"],
        values["request_id"],
        values["operation_id"],
    )


async def stored(session: AsyncSession) -> list[Call]:
    rows = (
        await session.scalars(
            select(Call).order_by(Call.at, Call.id).execution_options(populate_existing=True)  # type: ignore[arg-type]
        )
    ).all()
    await session.commit()
    return list(rows)


def inserts(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("INSERT INTO CALL_LOG")]


async def test_recording_is_a_plain_call_without_io_and_a_full_buffer_drops_and_counts(
    sessions, count_queries
) -> None:
    assert not inspect.iscoroutinefunction(CallLog.record)  # a decision never awaits it
    log = CallLog(sessions, capacity=100, batch_size=1000)
    with count_queries:
        for _ in range(130):
            log.record(record())
    assert count_queries.count == 0
    assert (log.buffered, log.dropped) == (100, 30)


async def test_the_batch_being_written_counts_against_the_bound(
    session: AsyncSession, sessions
) -> None:
    log = CallLog(sessions, capacity=10, batch_size=4)
    for _ in range(10):
        log.record(record())
    assert log.dropped == 0
    # While a flush holds its batch, records arriving meanwhile are still bounded by the total.
    async with log._lock:
        batch, log._buffer = log._buffer, []
        log._writing = len(batch)
        log.record(record())
        assert (log.buffered, log.dropped) == (10, 1)
        log._buffer, log._writing = batch, 0
    assert await log.flush() == 10
    assert (log.buffered, log.written, log.dropped, log.failed) == (0, 10, 1, 0)
    assert len(await stored(session)) == 10


async def test_a_flush_writes_one_insert_per_batch_with_every_field(
    session: AsyncSession, sessions, count_queries, scenario
) -> None:
    world = await scenario.workspace()
    api = await scenario.api(world, "Orders")
    app = caller(world.workspace.id)
    log = CallLog(sessions, capacity=10_000, batch_size=1000)
    for i in range(2500):
        log.record(record(NOW + timedelta(microseconds=i), app, api=api.identifier))
    log.record(record(NOW, None, Reason.UNKNOWN_CREDENTIAL, api="nope", ip="::1"))
    with count_queries:
        assert await log.flush() == 2501
    assert len(inserts(count_queries.statements)) == 3, count_queries.statements
    assert (log.buffered, log.written) == (0, 2501)

    rows = await stored(session)
    assert len(rows) == 2501
    first = next(r for r in rows if r.workspace_id is not None)
    assert first.principal_type == "ACCESS_PROFILE"
    assert first.principal_id == app.id
    assert first.api_identifier == api.identifier
    assert first.api_id == api.id  # looked up by the workspace and the identifier
    assert (first.method, first.path, ip_text(first.ip)) == ("GET", "/orders/1", "198.51.100.4")
    assert (first.reason, first.allowed, first.latency_us) == ("ok", True, 123)
    assert first.request_id == "req-1"
    unknown = next(r for r in rows if r.workspace_id is None)
    assert (unknown.principal_type, unknown.principal_id, unknown.api_id) == (None, None, None)
    assert (unknown.reason, unknown.allowed, ip_text(unknown.ip)) == (
        "unknown_credential",
        False,
        "::1",
    )


async def test_values_are_bounded_and_a_bad_request_id_or_address_is_replaced(
    session: AsyncSession, sessions
) -> None:
    log = CallLog(sessions)
    log.record(
        record(
            path="/" + "p" * 5000,
            method="PROPFIND-EXTENDED-LONG",
            ip="not an address",
            request_id=b"bad id with spaces",
            seconds=10_000.0,
        )
    )
    await log.flush()
    (row,) = await stored(session)
    assert len(row.path) == 512
    assert row.method == "PROPFIND-EXTENDE"
    assert row.ip is None
    assert row.request_id is not None
    assert len(row.request_id) == 32  # ours: a uuid4 hex
    assert row.latency_us == 2**31 - 1


async def test_a_failed_write_is_logged_counted_and_never_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    empty = create_engine(f"sqlite+aiosqlite:///{tmp_path}/empty.db")  # no tables at all
    try:
        log = CallLog(async_sessionmaker(empty), batch_size=2)
        for _ in range(3):
            log.record(record())
        with caplog.at_level(logging.ERROR, logger="accessplane.decision.calls"):
            assert await log.flush() == 0
        assert (log.failed, log.written, log.buffered) == (3, 0, 0)
        assert "call log failed" in caplog.text
    finally:
        await empty.dispose()


async def test_flushing_by_size_wakes_the_writer_before_its_interval(
    session: AsyncSession, sessions
) -> None:
    log = CallLog(sessions, batch_size=5, interval=3600)
    async with log.running():
        for _ in range(5):
            log.record(record())
        for _ in range(200):  # yields to the writer until it has written (no clock involved)
            if log.written == 5:
                break
            await session.commit()
    assert log.written == 5


async def test_allowed_and_denied_decisions_of_both_endpoints_are_logged(
    app, gate: Gate, shop: Shop, session: AsyncSession, http: httpx.AsyncClient
) -> None:
    await gate.check(shop.token, ip="198.51.100.9")
    await gate.check(shop.token, api="billing")
    await gate.authorize(shop.token, headers={"X-Request-ID": "gw-42"}, ip="2001:db8::7")
    invented = issue_token(TokenKind.ACCESS_PROFILE, b"another secret").plaintext
    await gate.authorize(invented)
    await http.get("/v1/authorize")  # no API named: refused before any decision, not logged
    assert await app.state.call_log.flush() == 4

    rows = await stored(session)
    assert [(r.reason, r.allowed) for r in sorted(rows, key=lambda r: r.at)] == [
        ("ok", True),
        ("api_not_granted", False),
        ("ok", True),
        ("unknown_credential", False),
    ]
    checked, refused, authorized, unknown = sorted(rows, key=lambda r: r.at)
    for row in (checked, refused, authorized):
        assert row.workspace_id == shop.world.workspace.id
        assert (row.principal_type, row.principal_id) == ("ACCESS_PROFILE", shop.app.id)
        assert row.latency_us >= 0
    assert (checked.api_id, checked.api_identifier) == (shop.api.id, "orders")
    assert (refused.api_id, refused.api_identifier) == (None, "billing")
    assert ip_text(checked.ip) == "198.51.100.9"
    assert (authorized.method, authorized.path) == ("GET", "/orders/1")
    assert ip_text(authorized.ip) == "2001:db8::7"
    assert authorized.request_id == "gw-42"
    assert checked.request_id is not None
    assert checked.request_id != "gw-42"
    assert (unknown.workspace_id, unknown.principal_id) == (None, None)
    assert ip_text(unknown.ip) == PEER


async def test_shutdown_writes_what_is_buffered(
    app, gate: Gate, shop: Shop, session: AsyncSession
) -> None:
    async with app.router.lifespan_context(app):
        await gate.check(shop.token)
        await gate.check(shop.token)
    assert app.state.call_log.buffered == 0
    assert len(await stored(session)) == 2


async def test_the_log_can_be_turned_off(
    settings: Settings, engine: AsyncEngine, shop: Shop, session: AsyncSession
) -> None:
    off = create_app(settings.model_copy(update={"call_log_enabled": False}), engine=engine)
    assert off.state.call_log is None
    transport = httpx.ASGITransport(app=off, client=(PEER, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await Gate(client).check(shop.token))["allowed"] is True
    assert await stored(session) == []
