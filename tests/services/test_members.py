"""Member rules on the service: users by email, owners, removal, and the member list."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.errors import Forbidden, InputError, UserErrorCode
from accessplane.models import ApiGrant, GroupMember, Member, User
from accessplane.services import groups, members
from accessplane.services.members import MemberFilter
from accessplane.services.pagination import PageArgs
from accessplane.services.roles import PermissionSpec
from tests.support.scenario import Person, Scenario, World


async def emails(session, world: World, filter: MemberFilter, first: int = 100) -> list[str]:
    page = await members.list_members(
        session=session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        filter=filter,
        args=PageArgs(first=first),
    )
    rows = await session.execute(
        select(Member.id, User.email)
        .join(User, User.id == Member.user_id)
        .where(Member.id.in_([m.id for m in page.items]))
    )
    by_id = dict(rows.all())
    return [by_id[m.id] for m in page.items]


async def test_get_or_create_user_is_idempotent(session) -> None:
    first = await members.get_or_create_user(session, "ada@example.com", "Ada")
    again = await members.get_or_create_user(session, "ada@example.com", "Someone else")
    await session.commit()

    assert again.id == first.id
    assert await session.scalar(select(func.count()).select_from(User)) == 1
    assert await session.scalar(select(User.name).where(User.id == first.id)) == "Ada"


async def test_add_member_matches_known_users_whatever_the_case(
    session, scenario: Scenario
) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    known = await scenario.member(other, email="grace@example.com")

    added = await members.add_member(
        session=session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        email=" Grace@EXAMPLE.com ",
        role_id=world.roles["Viewer"].id,
    )

    assert added.user_id == known.user.id


async def test_add_member_refuses_an_over_long_name(session, scenario) -> None:
    world = await scenario.workspace()

    with pytest.raises(InputError) as raised:
        await members.add_member(
            session=session,
            actor=world.owner.principal,
            workspace_id=world.workspace.id,
            email="long@example.com",
            name="n" * 201,
            role_id=world.roles["Viewer"].id,
        )

    assert [(e.field, e.code) for e in raised.value.errors] == [("name", UserErrorCode.TOO_LONG)]
    assert await session.scalar(select(User.id).where(User.email == "long@example.com")) is None


async def test_changing_a_role_needs_get_role(session, scenario) -> None:
    world = await scenario.workspace()
    await scenario.custom_role(world, "Blind manager", [PermissionSpec("manageMembers")])
    manager = await scenario.member(world, "Blind manager")
    person = await scenario.member(world, "Viewer")

    with pytest.raises(Forbidden):
        await members.update_member_role(
            session=session,
            actor=manager.principal,
            member_id=person.member.id,
            role_id=world.roles["Blind manager"].id,
        )


async def test_owners_count_per_workspace(session, scenario) -> None:
    """Being the last Owner is decided per workspace: an Owner elsewhere does not count."""
    world, other = await scenario.workspace(), await scenario.workspace()
    await scenario.member(other, "Owner", email=world.owner.user.email)

    with pytest.raises(InputError) as raised:
        await members.remove_member(
            session=session, actor=world.owner.principal, member_id=world.owner.member.id
        )

    assert raised.value.errors[0].code is UserErrorCode.LAST_OWNER


async def test_remove_member_takes_grants_and_memberships_but_not_the_user(
    session, scenario
) -> None:
    world = await scenario.workspace()
    api = await scenario.api(world, "Billing")
    person = await scenario.member(world)
    team = await scenario.group(world, "Team", [person])
    await scenario.grant(world, api, people=[person], groups=[team])

    await members.remove_member(
        session=session, actor=world.owner.principal, member_id=person.member.id
    )

    count = select(func.count())
    assert await session.scalar(count.where(Member.id == person.member.id)) == 0
    assert await session.scalar(count.where(ApiGrant.member_id == person.member.id)) == 0
    assert await session.scalar(count.where(GroupMember.member_id == person.member.id)) == 0
    assert await session.scalar(count.where(ApiGrant.group_id == team.id)) == 1
    assert await session.scalar(count.where(User.id == person.user.id)) == 1


async def test_list_members_filters_combine(session, scenario) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    ada = await scenario.member(world, "Developer", email="ada@example.com")
    bob = await scenario.member(world, "Viewer", email="bob@example.com")
    await scenario.member(world, "Developer", email="cy@example.org")
    await scenario.member(other, "Developer", email="ada2@example.com")
    team = await scenario.group(world, "Team", [ada, bob])
    developer = world.roles["Developer"].id

    assert await emails(session, world, MemberFilter(role_ids=[developer])) == [
        "ada@example.com",
        "cy@example.org",
    ]
    assert await emails(session, world, MemberFilter(group_ids=[team.id])) == [
        "ada@example.com",
        "bob@example.com",
    ]
    assert await emails(
        session, world, MemberFilter(role_ids=[developer], group_ids=[team.id])
    ) == ["ada@example.com"]
    assert await emails(session, world, MemberFilter(search=" .ORG ")) == ["cy@example.org"]
    assert await emails(session, world, MemberFilter(role_ids=[other.roles["Developer"].id])) == []


async def test_list_members_search_takes_wildcards_literally(session, scenario) -> None:
    world = await scenario.workspace()
    await scenario.member(world, email="first_last@example.com")
    await scenario.member(world, email="firstxlast@example.com")
    await scenario.member(world, email="hundred%@example.com")

    assert await emails(session, world, MemberFilter(search="first_last")) == [
        "first_last@example.com"
    ]
    assert await emails(session, world, MemberFilter(search="%")) == ["hundred%@example.com"]
    assert await emails(session, world, MemberFilter(search="_")) == ["first_last@example.com"]


async def test_group_search_takes_wildcards_literally(session, scenario) -> None:
    world = await scenario.workspace()
    for name in ("ops_team", "opsXteam", "100% ops"):
        await scenario.group(world, name)

    async def names(search: str) -> list[str]:
        page = await groups.list_groups(
            session=session,
            actor=world.owner.principal,
            workspace_id=world.workspace.id,
            search=search,
            args=PageArgs(first=10),
        )
        return [g.name for g in page.items]

    assert await names("ops_") == ["ops_team"]
    assert await names("%") == ["100% ops"]
    assert sorted(await names("OPS")) == ["100% ops", "opsXteam", "ops_team"]


async def test_list_members_pages_by_email(session, scenario) -> None:
    world = await scenario.workspace()
    for name in ("c", "a", "b"):
        await scenario.member(world, email=f"{name}@example.com")
    viewer_filter = MemberFilter(role_ids=[world.roles["Developer"].id])

    first = await members.list_members(
        session=session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        filter=viewer_filter,
        args=PageArgs(first=2),
    )
    rest = await members.list_members(
        session=session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        filter=viewer_filter,
        args=PageArgs(first=2, after=first.cursors[-1]),
    )

    assert first.has_next_page
    assert not rest.has_next_page
    email_of = dict((await session.execute(select(User.id, User.email))).all())
    assert [email_of[m.user_id] for m in first.items + rest.items] == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
    ]


async def test_list_members_needs_get_member(session, scenario) -> None:
    world = await scenario.workspace()
    consumer = await scenario.member(world, "Consumer")

    with pytest.raises(Forbidden):
        await members.list_members(
            session=session,
            actor=consumer.principal,
            workspace_id=world.workspace.id,
            filter=MemberFilter(),
            args=PageArgs(first=10),
        )


async def test_an_admin_cannot_demote_or_remove_an_owner(session, scenario) -> None:
    world = await scenario.workspace()
    second_owner = await scenario.member(world, "Owner")
    admin = await scenario.member(world, "Admin")
    developer = await scenario.member(world, "Developer")

    with pytest.raises(InputError) as demoted:
        await members.update_member_role(
            session=session,
            actor=admin.principal,
            member_id=second_owner.member.id,
            role_id=world.roles["Viewer"].id,
        )
    with pytest.raises(InputError) as removed:
        await members.remove_member(
            session=session, actor=admin.principal, member_id=second_owner.member.id
        )

    for refusal in (demoted, removed):
        [error] = refusal.value.errors
        assert (error.field, error.code) == ("id", UserErrorCode.OUT_OF_SCOPE_PERMISSION)
    await session.refresh(second_owner.member)
    assert second_owner.member.role_id == world.roles["Owner"].id
    # ... while members whose role the Admin fully holds stay theirs to manage
    changed = await members.update_member_role(
        session=session,
        actor=admin.principal,
        member_id=developer.member.id,
        role_id=world.roles["Viewer"].id,
    )
    assert changed.role_id == world.roles["Viewer"].id


async def test_owners_removing_each_other_at_once_always_leave_one(
    engine, scenario, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks are PostgreSQL's; SQLite admits one writer at a time anyway")
    pairs = []
    for _ in range(10):  # many races at once, so unlocked reads would overlap somewhere
        world = await scenario.workspace()
        pairs.append((world, world.owner, await scenario.member(world, "Owner")))

    async def remove(by: Person, whom: Person) -> str:
        async with AsyncSession(engine, expire_on_commit=False) as own:
            try:
                await members.remove_member(
                    session=own, actor=by.principal, member_id=whom.member.id
                )
            except InputError as error:
                return error.errors[0].code.value
            return "removed"

    # Without the lock both Owners of a pair would count two, and both would go.
    results = await asyncio.gather(
        *(remove(a, b) for _, a, b in pairs), *(remove(b, a) for _, a, b in pairs)
    )

    async with AsyncSession(engine) as check:
        for world, _, _ in pairs:
            owners = await check.scalar(
                select(func.count())
                .select_from(Member)
                .where(
                    Member.workspace_id == world.workspace.id,
                    Member.role_id == world.roles["Owner"].id,
                )
            )
            assert owners == 1
    assert sorted(set(results)) == ["LAST_OWNER", "removed"]
    assert results.count("removed") == len(pairs)
