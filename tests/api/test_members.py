"""Members over GraphQL: addMember, updateMemberRole, removeMember, Workspace.members,
Member.groups."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.models import (
    ApiGrant,
    AuditEvent,
    GroupMember,
    Member,
    Role,
    User,
)
from accessplane.services.roles import PermissionSpec
from tests.support.db import count, populate
from tests.support.scenario import Scenario, World, gid
from tests.support.statements import statements_per_page

MEMBER_FIELDS = """
  member { id kind user { email name } role { name } }
  userErrors { field message code }
"""

ADD_MEMBER = f"""
mutation AddMember($input: AddMemberInput!) {{ addMember(input: $input) {{ {MEMBER_FIELDS} }} }}
"""

UPDATE_MEMBER_ROLE = f"""
mutation UpdateMemberRole($input: UpdateMemberRoleInput!) {{
  updateMemberRole(input: $input) {{ {MEMBER_FIELDS} }}
}}
"""

REMOVE_MEMBER = """
mutation RemoveMember($input: RemoveMemberInput!) {
  removeMember(input: $input) { removedMemberId userErrors { field message code } }
}
"""

MEMBERS = """
query Members($id: ID!, $first: Int, $after: String, $filter: MemberFilter) {
  workspace(id: $id) {
    members(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node { id user { email } } }
    }
  }
}
"""

MEMBER_TABLE = """
query MemberTable($id: ID!, $first: Int!) {
  workspace(id: $id) {
    members(first: $first) {
      totalCount
      edges { node {
        id kind user { email name } role { name allApis }
        groups(first: 5) { totalCount pageInfo { hasNextPage } edges { node { name } } }
      } }
    }
  }
}
"""

MEMBER_GROUPS = """
query MemberGroups($id: ID!, $first: Int, $after: String) {
  node(id: $id) {
    ... on Member {
      groups(first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { name } }
      }
    }
  }
}
"""


async def members_of(session: AsyncSession, world: World) -> dict[str, str]:
    """email -> role name of every member of the workspace, read fresh."""
    rows = await session.execute(
        select(User.email, Role.name)
        .join(Member, Member.user_id == User.id)
        .join(Role, Role.id == Member.role_id)
        .where(Member.workspace_id == world.workspace.id)
    )
    return {email: role for email, role in rows.all()}


async def audit(session: AsyncSession, world: World, action: str) -> list[AuditEvent]:
    rows = await session.scalars(
        select(AuditEvent).where(
            AuditEvent.workspace_id == world.workspace.id, AuditEvent.action == action
        )
    )
    return list(rows.all())


def codes(errors: list[dict[str, Any]]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in errors]


# addMember


async def test_add_member_creates_the_user(graphql, scenario: Scenario, session) -> None:
    world = await scenario.workspace()

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            ADD_MEMBER,
            input={
                "workspaceId": world.id,
                "email": "  Ada@Example.COM ",
                "name": "Ada Lovelace",
                "roleId": world.role_id("Developer"),
            },
        )
    ).payload("addMember")

    member = payload["member"]
    assert member["user"] == {"email": "ada@example.com", "name": "Ada Lovelace"}
    assert member["role"] == {"name": "Developer"}
    assert member["kind"] == "HUMAN"
    assert (await members_of(session, world))["ada@example.com"] == "Developer"
    user_id = await session.scalar(select(User.id).where(User.email == "ada@example.com"))
    member_id = await session.scalar(select(Member.id).where(Member.user_id == user_id))
    assert member_id is not None
    assert gid("Member", member_id) == member["id"]
    [event] = await audit(session, world, "addMember")
    assert event.target_type == "Member"
    assert event.target_id == member_id
    assert event.after == {"email": "ada@example.com", "role": "Developer"}


async def test_add_member_reuses_a_known_user(graphql, scenario, session) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    known = await scenario.member(other, "Viewer", email="grace@example.com")
    users_before = await count(session, User)

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            ADD_MEMBER,
            input={
                "workspaceId": world.id,
                "email": "GRACE@example.com",
                "roleId": world.role_id("Viewer"),
            },
        )
    ).payload("addMember")

    assert payload["member"]["user"]["email"] == "grace@example.com"
    assert await count(session, User) == users_before
    assert await count(session, Member, Member.user_id == known.user.id) == 2


async def test_add_member_with_an_api_key(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    token = await scenario.api_key(world, "Admin")

    (
        await graphql.as_key(token).execute(
            ADD_MEMBER,
            input={
                "workspaceId": world.id,
                "email": "bot-added@example.com",
                "roleId": world.role_id("Viewer"),
            },
        )
    ).payload("addMember")

    assert (await members_of(session, world))["bot-added@example.com"] == "Viewer"
    [event] = await audit(session, world, "addMember")
    assert event.actor_type == "API_ACCESS"


@pytest.mark.parametrize(
    ("email", "field", "code"),
    [
        ("not-an-email", "email", "INVALID"),
        ("two@@example.com", "email", "INVALID"),
        ("spaces in@example.com", "email", "INVALID"),
        ("", "email", "REQUIRED"),
        ("a" * 250 + "@example.com", "email", "TOO_LONG"),
    ],
)
async def test_add_member_refuses_a_bad_email(
    graphql, scenario, session, email: str, field: str, code: str
) -> None:
    world = await scenario.workspace()
    users, events = await count(session, User), await count(session, AuditEvent)

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            ADD_MEMBER,
            input={"workspaceId": world.id, "email": email, "roleId": world.role_id("Viewer")},
        )
    ).user_errors("addMember")

    assert codes(errors) == [(field, code)]
    assert await count(session, User) == users
    assert await count(session, AuditEvent) == events
    assert len(await members_of(session, world)) == 1


async def test_add_member_refuses_a_duplicate(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    await scenario.member(world, "Viewer", email="dup@example.com")
    events = await count(session, AuditEvent)

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            ADD_MEMBER,
            input={
                "workspaceId": world.id,
                "email": "Dup@Example.com",
                "roleId": world.role_id("Admin"),
            },
        )
    ).user_errors("addMember")

    assert codes(errors) == [("email", "DUPLICATE")]
    assert (await members_of(session, world))["dup@example.com"] == "Viewer"
    assert await count(session, AuditEvent) == events


@pytest.mark.parametrize("which", ["foreign", "unknown"])
async def test_add_member_with_a_role_not_of_the_workspace(
    graphql, scenario, session, which: str
) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    role_id = other.role_id("Viewer") if which == "foreign" else gid("Role", uuid.uuid4())
    users = await count(session, User)

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            ADD_MEMBER,
            input={"workspaceId": world.id, "email": "new@example.com", "roleId": role_id},
        )
    ).user_errors("addMember")

    assert codes(errors) == [("roleId", "NOT_FOUND")]
    assert await count(session, User) == users
    assert "new@example.com" not in await members_of(session, world)
    assert "new@example.com" not in await members_of(session, other)


async def test_add_member_cannot_hand_out_a_role_beyond_the_actor(
    graphql, scenario, session
) -> None:
    world = await scenario.workspace()
    await scenario.custom_role(
        world,
        "People manager",
        [PermissionSpec("manageMembers"), PermissionSpec("getRole"), PermissionSpec("getMember")],
    )
    manager = graphql.as_principal((await scenario.member(world, "People manager")).principal)
    admin = graphql.as_principal((await scenario.member(world, "Admin")).principal)

    for caller, role in ((manager, "Developer"), (manager, "Admin"), (admin, "Owner")):
        errors = (
            await caller.execute(
                ADD_MEMBER,
                input={
                    "workspaceId": world.id,
                    "email": "x@example.com",
                    "roleId": world.role_id(role),
                },
            )
        ).user_errors("addMember")
        assert "OUT_OF_SCOPE_PERMISSION" in [e["code"] for e in errors], role
        assert {e["field"] for e in errors} <= {"roleId", "allApis"}

    assert "x@example.com" not in await members_of(session, world)
    # a role within the manager's own permissions is fine
    (
        await manager.execute(
            ADD_MEMBER,
            input={
                "workspaceId": world.id,
                "email": "peer@example.com",
                "roleId": world.role_id("People manager"),
            },
        )
    ).payload("addMember")
    assert (await members_of(session, world))["peer@example.com"] == "People manager"


async def test_add_member_needs_get_role_too(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    await scenario.custom_role(world, "Blind manager", [PermissionSpec("manageMembers")])
    manager = await scenario.member(world, "Blind manager")

    result = await graphql.as_principal(manager.principal).execute(
        ADD_MEMBER,
        input={
            "workspaceId": world.id,
            "email": "new@example.com",
            "roleId": world.role_id("Blind manager"),
        },
    )

    assert result.error_codes == ["FORBIDDEN"]
    assert result.errors[0]["extensions"]["permission"] == "getRole"
    assert "new@example.com" not in await members_of(session, world)


# updateMemberRole


async def test_update_member_role(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    person = await scenario.member(world, "Viewer")

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            UPDATE_MEMBER_ROLE, input={"id": person.id, "roleId": world.role_id("Developer")}
        )
    ).payload("updateMemberRole")

    assert payload["member"]["role"] == {"name": "Developer"}
    assert (await members_of(session, world))[person.user.email] == "Developer"
    [event] = await audit(session, world, "updateMemberRole")
    assert event.target_id == person.member.id
    assert (event.before, event.after) == ({"role": "Viewer"}, {"role": "Developer"})


async def test_the_last_owner_cannot_be_demoted(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    events = await count(session, AuditEvent)

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            UPDATE_MEMBER_ROLE, input={"id": world.owner.id, "roleId": world.role_id("Admin")}
        )
    ).user_errors("updateMemberRole")

    assert codes(errors) == [("roleId", "LAST_OWNER")]
    assert (await members_of(session, world))[world.owner.user.email] == "Owner"
    assert await count(session, AuditEvent) == events


async def test_an_owner_can_be_demoted_while_another_remains(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    second = await scenario.member(world, "Owner")

    (
        await graphql.as_principal(second.principal).execute(
            UPDATE_MEMBER_ROLE, input={"id": world.owner.id, "roleId": world.role_id("Viewer")}
        )
    ).payload("updateMemberRole")

    assert (await members_of(session, world))[world.owner.user.email] == "Viewer"
    # now ``second`` is the last one
    errors = (
        await graphql.as_principal(second.principal).execute(
            UPDATE_MEMBER_ROLE, input={"id": second.id, "roleId": world.role_id("Viewer")}
        )
    ).user_errors("updateMemberRole")
    assert codes(errors) == [("roleId", "LAST_OWNER")]


async def test_update_member_role_keeps_the_owner_role_when_unchanged(graphql, scenario) -> None:
    world = await scenario.workspace()

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            UPDATE_MEMBER_ROLE, input={"id": world.owner.id, "roleId": world.role_id("Owner")}
        )
    ).payload("updateMemberRole")

    assert payload["member"]["role"] == {"name": "Owner"}


@pytest.mark.parametrize("which", ["foreign", "unknown", "wrong type"])
async def test_update_member_role_with_a_bad_role(graphql, scenario, session, which: str) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    person = await scenario.member(world, "Viewer")
    role_id = {
        "foreign": other.role_id("Admin"),
        "unknown": gid("Role", uuid.uuid4()),
        "wrong type": world.id,
    }[which]

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            UPDATE_MEMBER_ROLE, input={"id": person.id, "roleId": role_id}
        )
    ).user_errors("updateMemberRole")

    assert codes(errors) == [("roleId", "INVALID_ID" if which == "wrong type" else "NOT_FOUND")]
    assert (await members_of(session, world))[person.user.email] == "Viewer"


async def test_update_member_role_cannot_escalate(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    admin = await scenario.member(world, "Admin")
    person = await scenario.member(world, "Viewer")

    for target in (person, admin):  # nor raise oneself
        errors = (
            await graphql.as_principal(admin.principal).execute(
                UPDATE_MEMBER_ROLE, input={"id": target.id, "roleId": world.role_id("Owner")}
            )
        ).user_errors("updateMemberRole")
        assert "OUT_OF_SCOPE_PERMISSION" in [e["code"] for e in errors]

    roles = await members_of(session, world)
    assert (roles[person.user.email], roles[admin.user.email]) == ("Viewer", "Admin")


async def test_update_member_role_of_another_workspace_is_not_found(
    graphql, scenario, session
) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    stranger = await scenario.member(other, "Viewer")

    for role_id in (world.role_id("Admin"), other.role_id("Admin")):
        result = await graphql.as_principal(world.owner.principal).execute(
            UPDATE_MEMBER_ROLE, input={"id": stranger.id, "roleId": role_id}
        )
        assert result.error_codes == ["NOT_FOUND"]

    assert (await members_of(session, other))[stranger.user.email] == "Viewer"


# removeMember


async def test_remove_member_drops_direct_grants_and_group_memberships(
    graphql, scenario, session
) -> None:
    world = await scenario.workspace()
    billing = await scenario.api(world, "Billing")
    leaving, staying = await scenario.member(world), await scenario.member(world)
    team = await scenario.group(world, "Team", [leaving, staying])
    await scenario.grant(world, billing, people=[leaving, staying], groups=[team])

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            REMOVE_MEMBER, input={"id": leaving.id}
        )
    ).payload("removeMember")

    assert payload["removedMemberId"] == leaving.id
    assert await count(session, Member, Member.id == leaving.member.id) == 0
    assert await count(session, ApiGrant, ApiGrant.member_id == leaving.member.id) == 0
    assert await count(session, GroupMember, GroupMember.member_id == leaving.member.id) == 0
    # the user stays (they may belong elsewhere); everyone else keeps their access
    assert await count(session, User, User.id == leaving.user.id) == 1
    assert await count(session, ApiGrant, ApiGrant.member_id == staying.member.id) == 1
    assert await count(session, ApiGrant, ApiGrant.group_id == team.id) == 1
    assert await count(session, GroupMember, GroupMember.group_id == team.id) == 1
    [event] = await audit(session, world, "removeMember")
    assert event.target_id == leaving.member.id
    assert event.before == {"email": leaving.user.email}


async def test_the_last_owner_cannot_be_removed(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    events = await count(session, AuditEvent)

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            REMOVE_MEMBER, input={"id": world.owner.id}
        )
    ).user_errors("removeMember")

    assert codes(errors) == [("id", "LAST_OWNER")]
    assert world.owner.user.email in await members_of(session, world)
    assert await count(session, AuditEvent) == events


async def test_an_owner_can_be_removed_while_another_remains(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    second = await scenario.member(world, "Owner")

    (
        await graphql.as_principal(second.principal).execute(
            REMOVE_MEMBER, input={"id": world.owner.id}
        )
    ).payload("removeMember")

    assert list(await members_of(session, world)) == [second.user.email]


async def test_remove_member_of_another_workspace_is_not_found(graphql, scenario, session) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    stranger = await scenario.member(other)

    for member_id in (stranger.id, gid("Member", uuid.uuid4())):
        result = await graphql.as_principal(world.owner.principal).execute(
            REMOVE_MEMBER, input={"id": member_id}
        )
        assert result.error_codes == ["NOT_FOUND"]

    assert stranger.user.email in await members_of(session, other)


# Workspace.members


async def test_workspace_members_by_email_with_filters(graphql, scenario) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    ada = await scenario.member(world, "Developer", email="ada@example.com")
    bob = await scenario.member(world, "Viewer", email="bob@example.com")
    cy = await scenario.member(world, "Viewer", email="cy@corp.example")
    await scenario.member(other, "Viewer", email="dee@example.com")
    team = await scenario.group(world, "Team", [ada, cy])
    caller = graphql.as_principal(world.owner.principal)

    async def emails(filter: dict[str, Any] | None) -> list[str]:
        data = (await caller.execute(MEMBERS, id=world.id, first=50, filter=filter)).ok()
        connection = data["workspace"]["members"]
        found = [e["node"]["user"]["email"] for e in connection["edges"]]
        assert connection["totalCount"] == len(found)
        return found

    owner = world.owner.user.email
    assert await emails(None) == sorted([owner, ada.user.email, bob.user.email, cy.user.email])
    assert await emails({"roleIds": [world.role_id("Viewer")]}) == [bob.user.email, cy.user.email]
    assert await emails({"roleIds": [world.role_id("Viewer"), world.role_id("Developer")]}) == [
        ada.user.email,
        bob.user.email,
        cy.user.email,
    ]
    assert await emails({"groupIds": [gid("Group", team.id)]}) == [ada.user.email, cy.user.email]
    assert await emails({"search": "CORP"}) == [cy.user.email]
    assert await emails({"search": "example.com", "groupIds": [gid("Group", team.id)]}) == [
        ada.user.email
    ]
    assert await emails({"roleIds": [other.role_id("Viewer")]}) == []


async def test_workspace_members_search_by_name(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    (
        await graphql.as_principal(world.owner.principal).execute(
            ADD_MEMBER,
            input={
                "workspaceId": world.id,
                "email": "x1@example.com",
                "name": "Grace Hopper",
                "roleId": world.role_id("Viewer"),
            },
        )
    ).payload("addMember")

    data = (
        await graphql.as_principal(world.owner.principal).execute(
            MEMBERS, id=world.id, filter={"search": "hopper"}
        )
    ).ok()

    assert [e["node"]["user"]["email"] for e in data["workspace"]["members"]["edges"]] == [
        "x1@example.com"
    ]


async def test_workspace_members_filter_with_an_id_of_another_type(graphql, scenario) -> None:
    world = await scenario.workspace()

    result = await graphql.as_principal(world.owner.principal).execute(
        MEMBERS, id=world.id, filter={"roleIds": [world.id]}
    )

    assert result.error_codes == ["BAD_USER_INPUT"]


async def test_workspace_members_pages_with_cursors(graphql, scenario) -> None:
    world = await scenario.workspace()
    for i in range(4):
        await scenario.member(world, email=f"p{i}@example.com")
    caller = graphql.as_principal(world.owner.principal)

    seen: list[str] = []
    after = None
    while True:
        members = (await caller.execute(MEMBERS, id=world.id, first=2, after=after)).ok()[
            "workspace"
        ]["members"]
        assert members["totalCount"] == 5
        assert len(members["edges"]) <= 2
        seen += [e["node"]["user"]["email"] for e in members["edges"]]
        if not members["pageInfo"]["hasNextPage"]:
            break
        after = members["pageInfo"]["endCursor"]

    assert seen == sorted([world.owner.user.email] + [f"p{i}@example.com" for i in range(4)])


async def test_workspace_members_costs_the_same_for_10_and_100_rows(
    graphql, scenario, session, count_queries
) -> None:
    world = await scenario.workspace()
    await populate(session, world, people=110, groups=7, role="Developer")
    caller = graphql.as_principal(world.owner.principal)

    async def page(first: int) -> None:
        data = (await caller.execute(MEMBER_TABLE, id=world.id, first=first)).ok()
        rows = data["workspace"]["members"]["edges"]
        assert len(rows) == first
        bulk = [r["node"] for r in rows if r["node"]["user"]["email"].startswith("bulk")]
        assert all(n["groups"]["totalCount"] == 7 for n in bulk)
        assert all(len(n["groups"]["edges"]) == 5 for n in bulk)
        assert all(n["role"]["name"] == "Developer" for n in bulk)

    statements = await statements_per_page(count_queries, page)

    assert statements[10] == statements[100]
    # workspace, page, total, users, roles, groups page, groups count
    assert statements[100] <= 7, count_queries.statements


async def test_member_groups_costs_the_same_for_10_and_100_rows(
    graphql, scenario, session, count_queries
) -> None:
    world = await scenario.workspace()
    [member_id], _ = await populate(session, world, people=1, groups=110, role="Developer")
    caller = graphql.as_principal(world.owner.principal)

    async def page(first: int) -> None:
        data = (await caller.execute(MEMBER_GROUPS, id=gid("Member", member_id), first=first)).ok()
        groups = data["node"]["groups"]
        assert [e["node"]["name"] for e in groups["edges"]] == [
            f"Team {i:03}" for i in range(first)
        ]
        assert groups["totalCount"] == 110
        assert groups["pageInfo"]["hasNextPage"]

    statements = await statements_per_page(count_queries, page)

    assert statements[10] == statements[100]
    assert statements[100] <= 3, count_queries.statements


async def test_member_groups_pages_with_cursors(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    [member_id], _ = await populate(session, world, people=1, groups=3, role="Developer")
    caller = graphql.as_principal(world.owner.principal)

    first = (await caller.execute(MEMBER_GROUPS, id=gid("Member", member_id), first=2)).ok()
    page = first["node"]["groups"]
    rest = (
        await caller.execute(
            MEMBER_GROUPS, id=gid("Member", member_id), first=2, after=page["pageInfo"]["endCursor"]
        )
    ).ok()["node"]["groups"]

    assert [e["node"]["name"] for e in page["edges"]] == ["Team 000", "Team 001"]
    assert [e["node"]["name"] for e in rest["edges"]] == ["Team 002"]
    assert rest["pageInfo"]["hasNextPage"] is False
