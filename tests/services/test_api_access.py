"""The API Access lifecycle on the services: rules, transactions, revocation, usage."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from accessplane.auth.tokens import parse_token, token_digest
from accessplane.errors import Forbidden, InputError, NotFound, Unauthenticated, UserErrorCode
from accessplane.models import (
    ApiAccess,
    ApiAccessRevocation,
    ApiAccessStatus,
    AuditEvent,
)
from accessplane.notify.outbox import Worker
from accessplane.notify.sender import LogSender
from accessplane.services import api_access
from accessplane.services.api_access import (
    ApiAccessFilter,
    ApiAccessOrderField,
    ApiAccessPolicy,
    ApiAccessUsage,
)
from accessplane.services.pagination import PageArgs
from accessplane.services.roles import PermissionSpec
from accessplane.signin.authenticate import principal_for_api_key
from tests.conftest import SECRET
from tests.support.db import count
from tests.support.scenario import Scenario, World

NOW = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)
POLICY = ApiAccessPolicy(secret=SECRET.encode())


async def authenticate(session: AsyncSession, token: str, now: datetime = NOW) -> object:
    return await principal_for_api_key(session, token, SECRET.encode(), now=now)


async def reason(session: AsyncSession, token: str, now: datetime = NOW) -> str:
    with pytest.raises(Unauthenticated) as failure:
        await authenticate(session, token, now)
    return str(failure.value.details["reason"])


def codes(error: pytest.ExceptionInfo[InputError]) -> dict[str | None, UserErrorCode]:
    return {e.field: e.code for e in error.value.errors}


async def create(
    session: AsyncSession, world: World, **overrides: object
) -> api_access.IssuedApiAccess:
    arguments: dict[str, object] = {
        "session": session,
        "actor": world.owner.principal,
        "policy": POLICY,
        "workspace_id": world.workspace.id,
        "name": "ci-deploy",
        "role_id": world.roles["Developer"].id,
        "expires_at": NOW + timedelta(days=30),
        "now": NOW,
    }
    arguments.update(overrides)
    return await api_access.create_api_access(**arguments)  # type: ignore[arg-type]


# --- create ---------------------------------------------------------------------------------


async def test_create_stores_only_the_keyed_hash_and_returns_the_token_once(
    session, scenario: Scenario
) -> None:
    world = await scenario.workspace()

    issued = await create(session, world, tags=["CI", "deploy", "ci"], description="Deploys")

    assert parse_token(issued.token) is not None
    assert issued.token.startswith("apk_")
    row = await session.get(ApiAccess, issued.api_access.id, populate_existing=True)
    assert row is not None
    assert row.token_digest == token_digest(issued.token, SECRET.encode())
    assert row.token_hint == issued.token[-4:]
    assert row.tags == ["ci", "deploy"]
    assert row.expires_at == NOW + timedelta(days=30)
    assert row.created_by_name == world.owner.user.email
    assert row.author_email == world.owner.user.email
    assert issued.token not in repr(row.model_dump())
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "createApiAccess"))
    assert event is not None
    assert event.target_id == row.id
    assert event.after is not None
    assert event.after["role"] == "Developer"


async def test_a_key_created_by_a_key_reminds_the_creating_keys_author(
    session, scenario: Scenario
) -> None:
    world = await scenario.workspace()
    parent = await create(session, world, role_id=world.roles["Admin"].id, name="automation")
    parent_principal = await authenticate(session, parent.token)

    child = await create(session, world, actor=parent_principal, name="child")

    assert child.api_access.created_by_name == "automation"
    assert child.api_access.author_email == world.owner.user.email


async def test_name_must_match_the_callers_name_pattern(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    await scenario.custom_role(
        world,
        "CI maker",
        [
            PermissionSpec("createApiAccess", name_pattern="ci-.*"),
            PermissionSpec("getRole"),
            PermissionSpec("getApiAccess"),
        ],
    )
    await scenario.custom_role(world, "Reader", [PermissionSpec("getApiAccess")])
    maker = await scenario.member(world, "CI maker")

    with pytest.raises(InputError) as error:
        await create(
            session, world, actor=maker.principal, name="prod-key", role_id=world.roles["Reader"].id
        )
    assert codes(error) == {"name": UserErrorCode.PATTERN_MISMATCH}
    assert "ci-.*" in error.value.errors[0].message
    assert await count(session, ApiAccess, ApiAccess.name == "prod-key") == 0

    made = await create(
        session, world, actor=maker.principal, name="ci-build", role_id=world.roles["Reader"].id
    )
    assert made.api_access.name == "ci-build"


async def test_assigning_a_role_needs_get_role(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    await scenario.custom_role(
        world, "Blind maker", [PermissionSpec("createApiAccess"), PermissionSpec("getApiAccess")]
    )
    maker = await scenario.member(world, "Blind maker")

    with pytest.raises(Forbidden):
        await create(session, world, actor=maker.principal, role_id=world.roles["Viewer"].id)
    assert await count(session, ApiAccess) == 0


async def test_a_key_cannot_hold_a_permission_its_creator_lacks(
    session, scenario: Scenario
) -> None:
    world = await scenario.workspace()
    developer = await scenario.member(world, "Developer")

    with pytest.raises(InputError) as error:
        await create(session, world, actor=developer.principal, role_id=world.roles["Admin"].id)

    assert codes(error) == {"roleId": UserErrorCode.OUT_OF_SCOPE_PERMISSION}
    assert await count(session, ApiAccess) == 0


@pytest.mark.parametrize(
    ("expires_at", "fragment"),
    [
        (NOW - timedelta(seconds=1), "future"),
        (NOW, "future"),
        (NOW + timedelta(days=366), "365 days"),
        (datetime(2030, 2, 1, 0, 0), "time zone"),
        (None, "required"),
    ],
    ids=["past", "now", "beyond-max-lifetime", "naive", "missing"],
)
async def test_expiry_must_be_future_and_within_the_maximum_lifetime(
    session, scenario: Scenario, expires_at: datetime | None, fragment: str
) -> None:
    world = await scenario.workspace()

    with pytest.raises(InputError) as error:
        await create(session, world, expires_at=expires_at)

    assert list(codes(error)) == ["expires_at"]
    assert fragment in error.value.errors[0].message
    assert await count(session, ApiAccess) == 0


async def test_maximum_lifetime_is_configurable(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    short = ApiAccessPolicy(secret=SECRET.encode(), max_lifetime=timedelta(days=7))

    with pytest.raises(InputError):
        await create(session, world, policy=short, expires_at=NOW + timedelta(days=8))
    made = await create(session, world, policy=short, expires_at=NOW + timedelta(days=7))

    assert made.api_access.expires_at == NOW + timedelta(days=7)


async def test_bad_input_is_reported_field_by_field_and_nothing_is_written(
    session, scenario: Scenario
) -> None:
    world = await scenario.workspace()
    other = await scenario.workspace()
    await create(session, world, name="taken")

    with pytest.raises(InputError) as error:
        await create(
            session,
            world,
            name="TAKEN",
            description="x" * 1001,
            tags=["ok", "not ok!"],
            role_id=other.roles["Viewer"].id,
        )

    assert codes(error) == {
        "name": UserErrorCode.DUPLICATE,
        "description": UserErrorCode.TOO_LONG,
        "tags": UserErrorCode.INVALID,
        "roleId": UserErrorCode.NOT_FOUND,
    }
    assert await count(session, ApiAccess) == 1


async def test_another_workspace_is_not_found(session, scenario: Scenario) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()

    with pytest.raises(NotFound):
        await create(session, world, actor=other.owner.principal)


# --- update ---------------------------------------------------------------------------------


async def test_update_changes_fields_keeps_the_token_and_audits(
    session, scenario: Scenario
) -> None:
    world = await scenario.workspace()
    issued = await create(session, world)

    await api_access.update_api_access(
        session=session,
        actor=world.owner.principal,
        api_access_id=issued.api_access.id,
        name="ci-release",
        description="Releases",
        tags=["release"],
        role_id=world.roles["Viewer"].id,
    )

    row = await session.get(ApiAccess, issued.api_access.id, populate_existing=True)
    assert row is not None
    assert (row.name, row.description, row.tags) == ("ci-release", "Releases", ["release"])
    assert row.role_id == world.roles["Viewer"].id
    principal = await authenticate(session, issued.token)
    assert principal.memberships[world.workspace.id].role_name == "Viewer"  # type: ignore[attr-defined]
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "updateApiAccess"))
    assert event is not None
    assert event.before is not None
    assert event.after is not None
    assert (event.before["role"], event.after["role"]) == ("Developer", "Viewer")


async def test_update_follows_the_rules_of_creation(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    await scenario.custom_role(
        world,
        "CI editor",
        [
            PermissionSpec("createApiAccess", name_pattern="ci-.*"),
            PermissionSpec("updateApiAccess"),
            PermissionSpec("getRole"),
        ],
    )
    editor = await scenario.member(world, "CI editor")
    issued = await create(session, world, role_id=world.roles["Viewer"].id)

    with pytest.raises(InputError) as error:
        await api_access.update_api_access(
            session=session,
            actor=editor.principal,
            api_access_id=issued.api_access.id,
            name="prod",
            role_id=world.roles["Admin"].id,
        )

    assert codes(error) == {
        "name": UserErrorCode.PATTERN_MISMATCH,
        "roleId": UserErrorCode.OUT_OF_SCOPE_PERMISSION,
    }
    row = await session.get(ApiAccess, issued.api_access.id, populate_existing=True)
    assert row is not None
    assert row.name == "ci-deploy"
    assert row.role_id == world.roles["Viewer"].id


async def test_update_of_another_workspaces_key_is_not_found(session, scenario: Scenario) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    issued = await create(session, world)

    with pytest.raises(NotFound):
        await api_access.update_api_access(
            session=session,
            actor=other.owner.principal,
            api_access_id=issued.api_access.id,
            name="mine",
        )


# --- regenerate -----------------------------------------------------------------------------


async def regenerate(
    session: AsyncSession, world: World, key_id: object, **overrides: object
) -> api_access.IssuedApiAccess:
    arguments: dict[str, object] = {
        "session": session,
        "actor": world.owner.principal,
        "policy": POLICY,
        "api_access_id": key_id,
        "expires_at": NOW + timedelta(days=60),
        "now": NOW,
    }
    arguments.update(overrides)
    return await api_access.regenerate_api_access(**arguments)  # type: ignore[arg-type]


async def test_regenerate_replaces_the_token_at_once(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    old = await create(session, world)

    new = await regenerate(session, world, old.api_access.id)

    assert new.token != old.token
    assert await reason(session, old.token) == "revoked"
    principal = await authenticate(session, new.token)
    assert principal.credential_id == old.api_access.id  # type: ignore[attr-defined]
    row = await session.get(ApiAccess, old.api_access.id, populate_existing=True)
    assert row is not None
    assert row.expires_at == NOW + timedelta(days=60)
    assert row.token_hint == new.token[-4:]
    assert row.version == 2
    assert await count(session, AuditEvent, AuditEvent.action == "regenerateApiAccess") == 1


async def test_grace_period_keeps_the_old_token_for_a_bounded_overlap(
    session, scenario: Scenario
) -> None:
    world = await scenario.workspace()
    old = await create(session, world)

    new = await regenerate(session, world, old.api_access.id, grace_period_seconds=3600)

    during = await authenticate(session, old.token, NOW + timedelta(minutes=59))
    assert during.credential_id == old.api_access.id  # type: ignore[attr-defined]
    assert await reason(session, old.token, NOW + timedelta(hours=1)) == "revoked"
    await authenticate(session, new.token, NOW + timedelta(hours=2))


async def test_a_new_rotation_ends_the_previous_grace_period(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    first = await create(session, world)
    second = await regenerate(session, world, first.api_access.id, grace_period_seconds=3600)

    later = NOW + timedelta(minutes=10)
    third = await regenerate(
        session, world, first.api_access.id, grace_period_seconds=3600, now=later
    )

    assert await reason(session, first.token, later) == "revoked"
    await authenticate(session, second.token, later + timedelta(minutes=30))
    await authenticate(session, third.token, later)


@pytest.mark.parametrize(("grace", "expires_in"), [(-1, 60), (86401, 60), (60, None)])
async def test_regenerate_rejects_bad_grace_or_expiry_and_changes_nothing(
    session, scenario: Scenario, grace: int, expires_in: int | None
) -> None:
    world = await scenario.workspace()
    old = await create(session, world)

    with pytest.raises(InputError):
        await regenerate(
            session,
            world,
            old.api_access.id,
            grace_period_seconds=grace,
            expires_at=NOW + timedelta(days=expires_in) if expires_in else None,
        )

    await authenticate(session, old.token)
    assert await count(session, ApiAccessRevocation) == 0


async def test_regenerating_a_key_of_a_stronger_role_is_an_escalation(
    session, scenario: Scenario
) -> None:
    world = await scenario.workspace()
    developer = await scenario.member(world, "Developer")
    admin_key = await create(session, world, role_id=world.roles["Admin"].id)

    with pytest.raises(InputError) as error:
        await regenerate(session, world, admin_key.api_access.id, actor=developer.principal)

    assert codes(error) == {"id": UserErrorCode.OUT_OF_SCOPE_PERMISSION}
    await authenticate(session, admin_key.token)


async def test_regenerate_needs_the_permission_and_the_workspace(
    session, scenario: Scenario
) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    viewer = await scenario.member(world, "Viewer")
    issued = await create(session, world)

    with pytest.raises(Forbidden):
        await regenerate(session, world, issued.api_access.id, actor=viewer.principal)
    with pytest.raises(NotFound):
        await regenerate(session, world, issued.api_access.id, actor=other.owner.principal)
    await authenticate(session, issued.token)


async def test_twenty_concurrent_regenerations_leave_exactly_one_valid_token(
    engine: AsyncEngine, database_url: str, session, scenario: Scenario
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serialises writers; real concurrency is tested on PostgreSQL")
    world = await scenario.workspace()
    original = await create(session, world)
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def attempt() -> str | UserErrorCode:
        async with sessions() as own:
            try:
                issued = await regenerate(own, world, original.api_access.id)
            except InputError as error:
                return error.errors[0].code
            return issued.token

    results = await asyncio.gather(*(attempt() for _ in range(20)))

    tokens = [t for t in results if not isinstance(t, UserErrorCode)]
    assert tokens, "at least one regeneration wins"
    assert {r for r in results if isinstance(r, UserErrorCode)} <= {UserErrorCode.CONFLICT}
    outcomes: dict[str, str] = {}
    for token in [original.token, *tokens]:
        try:
            await authenticate(session, token)
            outcomes[token] = "valid"
        except Unauthenticated as error:
            outcomes[token] = str(error.details["reason"])
    valid = [token for token, outcome in outcomes.items() if outcome == "valid"]
    assert len(valid) == 1
    assert set(outcomes.values()) == {"valid", "revoked"}
    row = await session.get(ApiAccess, original.api_access.id, populate_existing=True)
    assert row is not None
    assert row.token_digest == token_digest(valid[0], SECRET.encode())
    assert row.version == 1 + len(tokens)
    assert await count(session, AuditEvent, AuditEvent.action == "regenerateApiAccess") == len(
        tokens
    )


# --- delete ---------------------------------------------------------------------------------


async def test_delete_many_revokes_them_in_one_transaction(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    keys = [await create(session, world, name=f"k{i}") for i in range(3)]
    in_grace = await regenerate(session, world, keys[0].api_access.id, grace_period_seconds=600)

    deleted = await api_access.delete_api_accesses(
        session=session,
        actor=world.owner.principal,
        api_access_ids=[keys[0].api_access.id, keys[1].api_access.id],
        now=NOW,
    )

    assert set(deleted) == {keys[0].api_access.id, keys[1].api_access.id}
    assert await count(session, ApiAccess) == 1
    for token in (keys[0].token, in_grace.token, keys[1].token):
        assert await reason(session, token, NOW + timedelta(seconds=1)) == "revoked"
    await authenticate(session, keys[2].token)
    assert await count(session, AuditEvent, AuditEvent.action == "deleteApiAccesses") == 2


async def test_delete_is_all_or_nothing(session, scenario: Scenario) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    mine = await create(session, world)
    theirs = await create(session, other)

    with pytest.raises(NotFound):
        await api_access.delete_api_accesses(
            session=session,
            actor=world.owner.principal,
            api_access_ids=[mine.api_access.id, theirs.api_access.id],
        )

    assert await count(session, ApiAccess) == 2
    assert await count(session, ApiAccessRevocation) == 0
    await authenticate(session, mine.token)


async def test_delete_needs_the_permission_and_input(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    viewer = await scenario.member(world, "Viewer")
    issued = await create(session, world)

    with pytest.raises(Forbidden):
        await api_access.delete_api_accesses(
            session=session, actor=viewer.principal, api_access_ids=[issued.api_access.id]
        )
    with pytest.raises(InputError) as error:
        await api_access.delete_api_accesses(
            session=session, actor=world.owner.principal, api_access_ids=[]
        )
    assert codes(error) == {"ids": UserErrorCode.REQUIRED}
    assert await count(session, ApiAccess) == 1


# --- authentication -------------------------------------------------------------------------


async def test_expired_unknown_and_malformed_keys_authenticate_nowhere(
    session, scenario: Scenario
) -> None:
    world = await scenario.workspace()
    issued = await create(session, world, expires_at=NOW + timedelta(days=1))
    other = await create(session, world, name="other")
    forged = other.token[:-1] + ("A" if other.token[-1] != "A" else "B")

    await authenticate(session, issued.token, NOW + timedelta(hours=23))
    assert await reason(session, issued.token, NOW + timedelta(days=1)) == "expired"
    assert await reason(session, forged) == "malformed"
    await api_access.delete_api_accesses(
        session=session, actor=world.owner.principal, api_access_ids=[other.api_access.id]
    )
    fresh = await scenario.api_key(world)  # a valid token whose row we now remove by hand
    await session.execute(
        ApiAccess.__table__.delete().where(  # type: ignore[attr-defined]
            ApiAccess.token_digest == token_digest(fresh, SECRET.encode())
        )
    )
    await session.commit()
    assert await reason(session, fresh) == "unknown_credential"


# --- listing --------------------------------------------------------------------------------


async def names(
    session: AsyncSession,
    world: World,
    filter: ApiAccessFilter | None = None,
    order: ApiAccessOrderField = ApiAccessOrderField.NAME,
    descending: bool = False,
) -> list[str]:
    page = await api_access.list_api_accesses(
        session=session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        filter=filter or ApiAccessFilter(),
        args=PageArgs(first=100),
        order=order,
        descending=descending,
        now=NOW,
    )
    return [key.name for key in page.items]


async def test_list_filters_by_status_role_tags_and_search(session, scenario: Scenario) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    await create(
        session, world, name="alpha", tags=["ci", "prod"], expires_at=NOW + timedelta(days=1)
    )
    await create(
        session,
        world,
        name="beta",
        tags=["ci"],
        description="Nightly export",
        role_id=world.roles["Viewer"].id,
        expires_at=NOW + timedelta(days=2),
        now=NOW - timedelta(days=5),
    )
    await create(
        session,
        world,
        name="gamma",
        expires_at=NOW - timedelta(days=1),
        now=NOW - timedelta(days=3),
    )
    await create(session, other, name="alpha-elsewhere", tags=["ci"])

    assert await names(session, world) == ["alpha", "beta", "gamma"]
    assert await names(session, world, ApiAccessFilter(status=ApiAccessStatus.EXPIRED)) == ["gamma"]
    assert await names(session, world, ApiAccessFilter(status=ApiAccessStatus.ACTIVE)) == [
        "alpha",
        "beta",
    ]
    viewer_role = [world.roles["Viewer"].id]
    assert await names(session, world, ApiAccessFilter(role_ids=viewer_role)) == ["beta"]
    assert await names(session, world, ApiAccessFilter(tags=["ci"])) == ["alpha", "beta"]
    assert await names(session, world, ApiAccessFilter(tags=["CI", "prod"])) == ["alpha"]
    assert await names(session, world, ApiAccessFilter(tags=["nope"])) == []
    assert await names(session, world, ApiAccessFilter(search="NIGHTLY")) == ["beta"]
    assert await names(session, world, ApiAccessFilter(search="amm")) == ["gamma"]


async def test_list_sorts_by_name_created_and_expiry_and_pages_by_cursor(
    session, scenario: Scenario
) -> None:
    world = await scenario.workspace()
    bootstrap_like = await scenario.api_key(world, name="zz-no-expiry")  # expires never
    assert bootstrap_like
    specs = [("b", 3, 10), ("a", 1, 30), ("c", 2, 20)]  # name, created days ago, expires in
    for name, age, expiry in specs:
        await create(
            session,
            world,
            name=name,
            now=NOW - timedelta(days=age),
            expires_at=NOW + timedelta(days=expiry),
        )

    assert await names(session, world, order=ApiAccessOrderField.EXPIRES_AT) == [
        "b",
        "c",
        "a",
        "zz-no-expiry",
    ]
    assert await names(session, world, order=ApiAccessOrderField.EXPIRES_AT, descending=True) == [
        "zz-no-expiry",
        "a",
        "c",
        "b",
    ]
    # The key made by hand was created now (before the simulated 2030 clock).
    assert await names(session, world, order=ApiAccessOrderField.CREATED_AT) == [
        "zz-no-expiry",
        "b",
        "c",
        "a",
    ]
    assert await names(session, world, descending=True) == ["zz-no-expiry", "c", "b", "a"]

    seen: list[str] = []
    after: str | None = None
    while True:
        page = await api_access.list_api_accesses(
            session=session,
            actor=world.owner.principal,
            workspace_id=world.workspace.id,
            filter=ApiAccessFilter(),
            args=PageArgs(first=1, after=after),
            order=ApiAccessOrderField.EXPIRES_AT,
            now=NOW,
        )
        seen += [key.name for key in page.items]
        if not page.has_next_page:
            break
        after = page.cursors[-1]
    assert seen == ["b", "c", "a", "zz-no-expiry"]


async def test_list_needs_the_permission(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    consumer = await scenario.member(world, "Consumer")

    with pytest.raises(Forbidden):
        await api_access.list_api_accesses(
            session=session,
            actor=consumer.principal,
            workspace_id=world.workspace.id,
            filter=ApiAccessFilter(),
            args=PageArgs(first=10),
        )


# --- usage ----------------------------------------------------------------------------------


async def test_usage_is_counted_in_memory_and_written_in_one_batch(
    engine: AsyncEngine, session, scenario: Scenario, count_queries
) -> None:
    world = await scenario.workspace()
    keys = [await create(session, world, name=f"k{i}") for i in range(3)]
    usage = ApiAccessUsage(async_sessionmaker(engine, expire_on_commit=False))

    with count_queries:
        for i in range(30):
            key = keys[i % 2]
            await principal_for_api_key(
                session, key.token, SECRET.encode(), now=NOW + timedelta(seconds=i), usage=usage
            )
    reads = count_queries.count
    assert reads == 30  # one SELECT per authentication, no write
    assert usage.pending == 2

    with count_queries:
        assert await usage.flush() == 2
    writes = [s for s in count_queries.statements if s.lstrip().upper().startswith("UPDATE")]
    assert len(writes) == 1

    rows = {
        row.name: row
        for row in (
            await session.scalars(select(ApiAccess).execution_options(populate_existing=True))
        ).all()
    }
    assert (rows["k0"].usage_count, rows["k1"].usage_count, rows["k2"].usage_count) == (15, 15, 0)
    assert rows["k0"].last_used_at == NOW + timedelta(seconds=28)
    assert rows["k1"].last_used_at == NOW + timedelta(seconds=29)
    assert rows["k2"].last_used_at is None
    assert await usage.flush() == 0


async def test_usage_from_several_instances_adds_up(
    engine: AsyncEngine, session, scenario: Scenario
) -> None:
    world = await scenario.workspace()
    issued = await create(session, world)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    first, second = ApiAccessUsage(sessions), ApiAccessUsage(sessions)
    first.record(issued.api_access.id, NOW + timedelta(seconds=5))
    first.record(issued.api_access.id, NOW + timedelta(seconds=1))
    second.record(issued.api_access.id, NOW + timedelta(seconds=3))

    await first.flush()
    await second.flush()

    row = await session.get(ApiAccess, issued.api_access.id, populate_existing=True)
    assert row is not None
    assert row.usage_count == 3
    assert row.last_used_at == NOW + timedelta(seconds=5)


async def test_usage_is_flushed_periodically_and_at_shutdown(
    engine: AsyncEngine, session, scenario: Scenario
) -> None:
    world = await scenario.workspace()
    issued = await create(session, world)
    usage = ApiAccessUsage(async_sessionmaker(engine, expire_on_commit=False))

    async def stored() -> int:
        value = await session.scalar(
            select(ApiAccess.usage_count)
            .where(ApiAccess.id == issued.api_access.id)
            .execution_options(populate_existing=True)
        )
        await session.commit()
        return int(value or 0)

    async with usage.running(interval=0.05):
        usage.record(issued.api_access.id, NOW)
        deadline = asyncio.get_running_loop().time() + 5
        while await stored() != 1:
            assert asyncio.get_running_loop().time() < deadline, "no periodic flush"
            await asyncio.sleep(0.02)
        usage.record(issued.api_access.id, NOW)
        usage.record(issued.api_access.id, NOW)
    # Leaving flushes what is left, without waiting for the next period.
    assert await stored() == 3


async def test_the_worker_forgets_revocations_after_their_retention(
    engine: AsyncEngine, session, scenario: Scenario, settings
) -> None:
    world = await scenario.workspace()
    old = await create(session, world)
    await regenerate(session, world, old.api_access.id)
    worker = Worker(async_sessionmaker(engine, expire_on_commit=False), LogSender(), settings)
    retention = timedelta(days=settings.api_access_revocation_retention_days)

    await worker.run_once(now=NOW + retention - timedelta(seconds=1))
    assert await reason(session, old.token, NOW + retention) == "revoked"

    worker._last_scan = None  # the next pass scans and prunes again
    await worker.run_once(now=NOW + retention + timedelta(seconds=1))
    assert await reason(session, old.token, NOW + retention) == "unknown_credential"
    assert await count(session, ApiAccessRevocation) == 0
