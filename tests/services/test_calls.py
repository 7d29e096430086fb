"""The call log's service: reading one workspace's calls (filters, keyset paging, permission,
tenancy), addresses as byte ranges, and keeping the log (day partitions on PostgreSQL, batched
DELETEs on SQLite, the worker's pass)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from accessplane.auth.permissions import BUILT_IN_ROLES, Permission
from accessplane.errors import Forbidden, InputError, NotFound
from accessplane.models import Call
from accessplane.notify.outbox import worker_for
from accessplane.services import calls
from accessplane.services.calls import CallFilter, ip_bytes, ip_range, ip_text, list_calls
from accessplane.services.pagination import PageArgs
from accessplane.settings import Settings
from tests.support.calls import START, add_calls
from tests.support.scenario import Scenario, World


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def listed(world: World, session: AsyncSession, first: int = 100, **filter) -> list[Call]:  # type: ignore[no-untyped-def]
    page = await list_calls(
        session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        filter=CallFilter(**filter),
        args=PageArgs(first=first),
    )
    return page.items


async def total(session: AsyncSession) -> int:
    count = await session.scalar(select(func.count()).select_from(Call))
    await session.commit()
    return int(count or 0)


def test_addresses_are_16_bytes_and_a_cidr_is_a_byte_range() -> None:
    assert ip_text(ip_bytes("203.0.113.7")) == "203.0.113.7"
    assert ip_text(ip_bytes("2001:db8::1")) == "2001:db8::1"
    assert ip_bytes("203.0.113.7") == ip_bytes("::ffff:203.0.113.7")
    assert ip_bytes("not an address") is None
    assert ip_bytes("1" * 100) is None
    low, high = ip_range("203.0.113.0/24") or (b"", b"")
    assert low == ip_bytes("203.0.113.0")
    assert high == ip_bytes("203.0.113.255")
    last = ip_bytes("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")
    assert ip_range("2001:db8::/32") == (ip_bytes("2001:db8::"), last)
    assert ip_range("203.0.113.7") == (ip_bytes("203.0.113.7"), ip_bytes("203.0.113.7"))
    assert ip_range("300.1.1.1/8") is None


def test_the_roles_holding_the_audit_log_hold_the_call_log() -> None:
    for name, (_, permissions, _) in BUILT_IN_ROLES.items():
        assert (Permission.GET_CALL_LOG in permissions) is (
            Permission.GET_AUDIT_LOG in permissions
        ), name
    assert Permission.GET_CALL_LOG in BUILT_IN_ROLES["Developer"][1]
    assert Permission.GET_CALL_LOG not in BUILT_IN_ROLES["Viewer"][1]


async def test_each_filter_narrows_the_log(scenario: Scenario, session: AsyncSession) -> None:
    world = await scenario.workspace()
    app, other_app, api = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    ws = world.workspace.id
    mine = await add_calls(
        session, ws, 3, principal_type="ACCESS_PROFILE", principal_id=app, api_id=api
    )
    denied = await add_calls(
        session,
        ws,
        2,
        start=START + timedelta(hours=1),
        principal_type="ACCESS_PROFILE",
        principal_id=other_app,
        reason="ip_not_allowed",
        allowed=False,
        ip="2001:db8::9",
    )
    member = await add_calls(
        session,
        ws,
        1,
        start=START + timedelta(hours=2),
        principal_type="MEMBER",
        principal_id=app,  # the same id as an app's: the kind tells them apart
        ip="198.51.100.200",
    )
    await add_calls(session, (await scenario.workspace()).workspace.id, 4)  # another tenant's
    await add_calls(session, None, 2, reason="unknown_credential", allowed=False)  # nobody's

    def ids(rows: list[Call]) -> set[uuid.UUID]:
        return {r.id for r in rows}

    assert ids(await listed(world, session)) == ids(mine + denied + member)
    assert ids(await listed(world, session, access_profile_ids=[app])) == ids(mine)
    assert ids(await listed(world, session, api_ids=[api])) == ids(mine)
    assert ids(await listed(world, session, reasons=["ip_not_allowed"])) == ids(denied)
    assert ids(await listed(world, session, allowed=False)) == ids(denied)
    assert ids(await listed(world, session, allowed=True)) == ids(mine + member)
    assert ids(await listed(world, session, ip="198.51.100.200")) == ids(member)
    assert ids(await listed(world, session, ip="198.51.100.0/24")) == ids(mine + member)
    assert ids(await listed(world, session, ip="2001:db8::/32")) == ids(denied)
    window = {"from_": START + timedelta(minutes=30), "to": START + timedelta(hours=2)}
    assert ids(await listed(world, session, **window)) == ids(denied)  # to is exclusive
    assert ids(await listed(world, session, reasons=[], access_profile_ids=[])) == set()


async def test_pages_run_newest_first_by_time_then_id(
    scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    # Three calls at the same instant: the id breaks the tie, so no page repeats or skips one.
    rows = await add_calls(session, world.workspace.id, 5) + await add_calls(
        session, world.workspace.id, 3, start=START + timedelta(hours=1), step=timedelta(0)
    )
    expected = sorted(rows, key=lambda r: (r.at, r.id), reverse=True)
    seen: list[uuid.UUID] = []
    after = None
    while True:
        page = await list_calls(
            session,
            actor=world.owner.principal,
            workspace_id=world.workspace.id,
            filter=CallFilter(),
            args=PageArgs(first=3, after=after),
        )
        seen += [r.id for r in page.items]
        if not page.has_next_page:
            break
        after = page.cursors[-1]
    assert seen == [r.id for r in expected]


async def test_reading_needs_get_call_log_in_that_workspace(
    scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    viewer = await scenario.member(world, "Viewer")
    developer = await scenario.member(world, "Developer")
    stranger = await scenario.workspace()
    args = {"workspace_id": world.workspace.id, "filter": CallFilter(), "args": PageArgs(first=5)}
    with pytest.raises(Forbidden):
        await list_calls(session, actor=viewer.principal, **args)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await list_calls(session, actor=stranger.owner.principal, **args)  # type: ignore[arg-type]
    page = await list_calls(session, actor=developer.principal, **args)  # type: ignore[arg-type]
    assert page.items == []


@pytest.mark.parametrize(
    ("filter", "field"),
    [
        ({"ip": "10.0.0.300"}, "ip"),
        ({"ip": "not-an-address"}, "ip"),
        ({"from_": datetime(2026, 1, 1)}, "from"),  # no zone: refused
        ({"from_": START, "to": START}, "to"),
        ({"reasons": ["ok"] * 101}, "reasons"),
        ({"access_profile_ids": [uuid.uuid4()] * 101}, "access_profile_ids"),
    ],
)
async def test_a_bad_filter_names_its_field(
    scenario: Scenario, session: AsyncSession, filter: dict, field: str
) -> None:
    world = await scenario.workspace()
    with pytest.raises(InputError) as refused:
        await listed(world, session, **filter)
    assert [e.field for e in refused.value.errors] == [field]


async def test_an_export_range_defaults_to_the_last_day_and_is_bounded(
    scenario: Scenario,
) -> None:
    world = await scenario.workspace()
    now = datetime(2026, 3, 10, tzinfo=UTC)

    def export(**filter) -> CallFilter:  # type: ignore[no-untyped-def]
        return calls.export_filter(
            actor=world.owner.principal,
            workspace_id=world.workspace.id,
            filter=CallFilter(**filter),
            now=now,
            max_days=31,
        )

    assert (export().from_, export().to) == (now - timedelta(days=1), now)
    assert export(to=now - timedelta(days=3)).from_ == now - timedelta(days=4)
    assert export(from_=now - timedelta(days=31)).to == now
    with pytest.raises(InputError) as refused:
        export(from_=now - timedelta(days=32))
    assert refused.value.errors[0].field == "from"


async def test_sqlite_prunes_in_batches_and_keeps_the_newer_calls(
    scenario: Scenario, session: AsyncSession, sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL drops whole days: test_postgres_…")
    monkeypatch.setattr(calls, "PRUNE_BATCH", 4)
    world = await scenario.workspace()
    await add_calls(session, world.workspace.id, 10, step=timedelta(minutes=1))
    kept = await add_calls(session, None, 3, start=START + timedelta(days=1))
    assert await calls.prune_calls(sessions, older_than=START + timedelta(hours=1)) == 10
    assert await total(session) == 3
    assert {r.id for r in await session.scalars(select(Call))} == {r.id for r in kept}


async def partition_days(session: AsyncSession) -> list[str]:
    days = [f"{day:%Y-%m-%d}" for day in await calls.partitions(session)]
    await session.commit()
    return days


async def test_postgres_keeps_a_partition_per_day_made_ahead_and_drops_whole_old_days(
    session: AsyncSession, sessions
) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite keeps one plain table")
    now = datetime(2031, 5, 20, 15, 0, tzinfo=UTC)
    old = datetime(2031, 5, 10, 23, 0, tzinfo=UTC)
    await add_calls(session, None, 3, start=old, step=timedelta(hours=1))  # the 10th and 11th
    assert {"2031-05-10", "2031-05-11"} <= set(await partition_days(session))

    # The worker's pass: today and three days ahead exist, days past the retention are gone.
    dropped = await calls.keep_call_log(sessions, now=now, retention_days=9)
    days = await partition_days(session)
    assert {"2031-05-20", "2031-05-21", "2031-05-22", "2031-05-23"} <= set(days)
    assert "2031-05-10" not in days  # ended before now - 9 days (the 11th, 15:00)
    assert "2031-05-11" in days  # partly within the retention: kept whole
    assert dropped >= 1
    assert await total(session) == 2  # the 11th's two calls
    parent = await session.scalar(
        text("SELECT relkind::text FROM pg_class WHERE oid = 'call_log'::regclass")
    )
    await session.commit()
    assert parent == "p"  # declaratively partitioned


async def test_the_worker_pass_prunes_the_call_log(
    settings: Settings, engine: AsyncEngine, session: AsyncSession
) -> None:
    await add_calls(session, None, 2, start=datetime.now(UTC) - timedelta(days=30))
    fresh = await add_calls(session, None, 1, start=datetime.now(UTC) - timedelta(minutes=5))
    worker = worker_for(settings.model_copy(update={"call_log_retention_days": 7}), engine)
    await worker.run_once()
    assert [r.id for r in await session.scalars(select(Call))] == [fresh[0].id]
