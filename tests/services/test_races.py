"""Deleting an object while a concurrent request makes something refer to it: whichever
commits first wins, and the other gets the answer it would have had one request after the
other (IN_USE for the deletion, NOT_FOUND for the reference), never an integrity error.

Each race runs many pairs at once (one session each), so check-then-write windows overlap on
both databases."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from accessplane.errors import DomainError, InputError
from accessplane.models import (
    ApiAccess,
    ApiGrant,
    ApiProductApi,
    AuthMethod,
    GroupMember,
    Member,
    Role,
)
from accessplane.services import api_access, apis, grants, groups, members, products, roles
from accessplane.services.roles import PermissionSpec
from tests.conftest import SECRET
from tests.support.db import count
from tests.support.scenario import Scenario, World

PAIRS = 12  # races at once
NOW = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)
POLICY = api_access.ApiAccessPolicy(secret=SECRET.encode())

Outcome = str  # "ok", a userError code ("IN_USE") or a GraphQL error code ("NOT_FOUND")


async def outcome(engine: AsyncEngine, call: Callable[[AsyncSession], Awaitable[Any]]) -> Outcome:
    """Run one service call in a session of its own, as one request would."""
    async with AsyncSession(engine, expire_on_commit=False) as own:
        try:
            await call(own)
        except InputError as error:
            return "+".join(e.code.value for e in error.errors)
        except DomainError as error:
            return error.code.value
        return "ok"


async def race(
    engine: AsyncEngine,
    pairs: list[tuple[Callable[[AsyncSession], Awaitable[Any]], Callable[[AsyncSession], Any]]],
) -> list[tuple[Outcome, Outcome]]:
    """Start both calls of every pair at once; their outcomes, pair by pair."""
    results = await asyncio.gather(*(outcome(engine, call) for pair in pairs for call in pair))
    return list(zip(results[::2], results[1::2], strict=True))


async def custom_roles(scenario: Scenario, world: World, count: int) -> list[Role]:
    return [
        await scenario.custom_role(world, f"Temp {i}", [PermissionSpec("getApi")])
        for i in range(count)
    ]


def delete_role(world: World, role: Role) -> Callable[[AsyncSession], Awaitable[Any]]:
    return lambda s: roles.delete_role(session=s, actor=world.owner.principal, role_id=role.id)


async def test_deleting_a_role_while_members_are_given_it(
    engine: AsyncEngine, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    temps = await custom_roles(scenario, world, PAIRS)
    people = [await scenario.member(world, "Viewer") for _ in temps]

    def assign(person: Any, role: Role) -> Callable[[AsyncSession], Awaitable[Any]]:
        return lambda s: members.update_member_role(
            session=s, actor=world.owner.principal, member_id=person.member.id, role_id=role.id
        )

    outcomes = await race(
        engine, [(delete_role(world, r), assign(p, r)) for r, p in zip(temps, people, strict=True)]
    )

    assert set(outcomes) <= {("ok", "NOT_FOUND"), ("IN_USE", "ok")}, outcomes
    for (deleted, _), role, person in zip(outcomes, temps, people, strict=True):
        held = await session.scalar(select(Member.role_id).where(Member.id == person.member.id))
        assert (held == role.id) == (deleted == "IN_USE")
        assert (await session.get(Role, role.id, populate_existing=True) is None) == (
            deleted == "ok"
        )


async def test_deleting_a_role_while_people_are_added_with_it(
    engine: AsyncEngine, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    temps = await custom_roles(scenario, world, PAIRS)

    def add(i: int, role: Role) -> Callable[[AsyncSession], Awaitable[Any]]:
        return lambda s: members.add_member(
            session=s,
            actor=world.owner.principal,
            workspace_id=world.workspace.id,
            email=f"new{i}@example.com",
            role_id=role.id,
        )

    outcomes = await race(engine, [(delete_role(world, r), add(i, r)) for i, r in enumerate(temps)])

    assert set(outcomes) <= {("ok", "NOT_FOUND"), ("IN_USE", "ok")}, outcomes
    added = sum(added == "ok" for _, added in outcomes)
    assert await count(session, Member, Member.role_id.in_([r.id for r in temps])) == added


async def test_deleting_a_role_while_api_access_keys_are_given_it(
    engine: AsyncEngine, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    temps = await custom_roles(scenario, world, PAIRS)
    keys = [
        await api_access.create_api_access(
            session=session,
            actor=world.owner.principal,
            policy=POLICY,
            workspace_id=world.workspace.id,
            name=f"key-{i}",
            role_id=world.roles["Viewer"].id,
            expires_at=NOW + timedelta(days=30),
            now=NOW,
        )
        for i in range(PAIRS // 2)
    ]

    def create(i: int, role: Role) -> Callable[[AsyncSession], Awaitable[Any]]:
        return lambda s: api_access.create_api_access(
            session=s,
            actor=world.owner.principal,
            policy=POLICY,
            workspace_id=world.workspace.id,
            name=f"new-key-{i}",
            role_id=role.id,
            expires_at=NOW + timedelta(days=30),
            now=NOW,
        )

    def update(key: api_access.IssuedApiAccess, role: Role) -> Callable[[AsyncSession], Any]:
        return lambda s: api_access.update_api_access(
            session=s,
            actor=world.owner.principal,
            api_access_id=key.api_access.id,
            role_id=role.id,
        )

    half = PAIRS // 2
    outcomes = await race(
        engine,
        [(delete_role(world, r), create(i, r)) for i, r in enumerate(temps[:half])]
        + [(delete_role(world, r), update(k, r)) for k, r in zip(keys, temps[half:], strict=True)],
    )

    assert set(outcomes) <= {("ok", "NOT_FOUND"), ("IN_USE", "ok")}, outcomes
    assigned = sum(a == "ok" for _, a in outcomes)
    assert await count(session, ApiAccess, ApiAccess.role_id.in_([r.id for r in temps])) == (
        assigned
    )


async def test_deleting_a_group_while_members_are_added_to_it(
    engine: AsyncEngine, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    person = await scenario.member(world)
    teams = [await scenario.group(world) for _ in range(PAIRS)]

    def delete(team: Any) -> Callable[[AsyncSession], Awaitable[Any]]:
        return lambda s: groups.delete_group(
            session=s, actor=world.owner.principal, group_id=team.id
        )

    def add(team: Any) -> Callable[[AsyncSession], Awaitable[Any]]:
        return lambda s: groups.add_group_members(
            session=s, actor=world.owner.principal, group_id=team.id, member_ids=[person.member.id]
        )

    outcomes = await race(engine, [(delete(t), add(t)) for t in teams])

    # Adding first, then deleting the group (and its memberships), is fine too.
    assert set(outcomes) <= {("ok", "NOT_FOUND"), ("ok", "ok")}, outcomes
    assert await count(session, GroupMember) == 0


async def test_deleting_an_api_or_a_member_while_it_is_granted(
    engine: AsyncEngine, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    targets = [await scenario.api(world) for _ in range(PAIRS // 2)]
    people = [await scenario.member(world) for _ in range(PAIRS // 2)]
    api = await scenario.api(world)

    def grant(api_id: Any, person: Any) -> Callable[[AsyncSession], Awaitable[Any]]:
        return lambda s: grants.grant_access(
            session=s,
            actor=world.owner.principal,
            api_id=api_id,
            member_ids=[person.member.id],
            group_ids=[],
        )

    def delete_api(target: Any) -> Callable[[AsyncSession], Awaitable[Any]]:
        return lambda s: apis.delete_api(session=s, actor=world.owner.principal, api_id=target.id)

    def remove(person: Any) -> Callable[[AsyncSession], Awaitable[Any]]:
        return lambda s: members.remove_member(
            session=s, actor=world.owner.principal, member_id=person.member.id
        )

    someone = await scenario.member(world)
    outcomes = await race(
        engine,
        [(delete_api(t), grant(t.id, someone)) for t in targets]
        + [(remove(p), grant(api.id, p)) for p in people],
    )

    assert set(outcomes) <= {("ok", "NOT_FOUND"), ("ok", "ok")}, outcomes
    # Whatever the order, nothing was left pointing at what is gone.
    assert await count(session, ApiGrant, ApiGrant.api_id.in_([t.id for t in targets])) == 0
    assert (
        await count(session, ApiGrant, ApiGrant.member_id.in_([p.member.id for p in people])) == 0
    )


async def test_adding_one_person_concurrently_adds_them_once(
    engine: AsyncEngine, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()

    def add(s: AsyncSession) -> Awaitable[Any]:
        return members.add_member(
            session=s,
            actor=world.owner.principal,
            workspace_id=world.workspace.id,
            email="twice@example.com",
            role_id=world.roles["Viewer"].id,
        )

    outcomes = await asyncio.gather(*(outcome(engine, add) for _ in range(PAIRS)))

    assert sorted(outcomes) == ["DUPLICATE"] * (PAIRS - 1) + ["ok"]
    assert await count(session, Member, Member.workspace_id == world.workspace.id) == 2


async def test_creating_groups_with_members_who_are_being_removed(
    engine: AsyncEngine, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    people = [await scenario.member(world) for _ in range(PAIRS)]

    def create(i: int, person: Any) -> Callable[[AsyncSession], Awaitable[Any]]:
        return lambda s: groups.create_group(
            session=s,
            actor=world.owner.principal,
            workspace_id=world.workspace.id,
            name=f"Team {i}",
            member_ids=[person.member.id],
        )

    def remove(person: Any) -> Callable[[AsyncSession], Awaitable[Any]]:
        return lambda s: members.remove_member(
            session=s, actor=world.owner.principal, member_id=person.member.id
        )

    outcomes = await race(engine, [(remove(p), create(i, p)) for i, p in enumerate(people)])

    # Created first, the group loses its member with the removal; created after, it is refused.
    assert set(outcomes) <= {("ok", "ok"), ("ok", "NOT_FOUND")}, outcomes
    assert await count(session, GroupMember) == 0


async def test_deleting_an_api_while_products_are_created_with_it(
    engine: AsyncEngine, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    targets = [await scenario.api(world) for _ in range(PAIRS)]

    def create(target: Any, i: int) -> Callable[[AsyncSession], Awaitable[Any]]:
        return lambda s: products.create_product(
            session=s,
            actor=world.owner.principal,
            workspace_id=world.workspace.id,
            name=f"Bundle {i}",
            auth_method=AuthMethod.AUTH_TOKEN,
            api_ids=[target.id],
        )

    def delete_api(target: Any) -> Callable[[AsyncSession], Awaitable[Any]]:
        return lambda s: apis.delete_api(session=s, actor=world.owner.principal, api_id=target.id)

    outcomes = await race(engine, [(delete_api(t), create(t, i)) for i, t in enumerate(targets)])

    # Never DUPLICATE (no other product has the name) nor an integrity error.
    assert set(outcomes) <= {("ok", "NOT_FOUND"), ("ok", "ok"), ("IN_USE", "ok")}, outcomes
    deleted = [t.id for t, (deletion, _) in zip(targets, outcomes, strict=True) if deletion == "ok"]
    assert deleted
    assert await count(session, ApiProductApi, col(ApiProductApi.api_id).in_(deleted)) == 0
