"""Groups over GraphQL: createGroup, updateGroup, deleteGroup, addGroupMembers,
removeGroupMembers, Workspace.groups, Group.members, Group.membersCount."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.models import ApiGrant, AuditEvent, Group, GroupMember, Member
from accessplane.services.roles import PermissionSpec
from tests.support.db import count, populate
from tests.support.scenario import Person, Scenario, World, gid
from tests.support.statements import statements_per_page

GROUP_FIELDS = """
  group { id name description membersCount members(first: 50) { edges { node { id } } } }
  userErrors { field message code }
"""

CREATE_GROUP = f"""
mutation CreateGroup($input: CreateGroupInput!) {{
  createGroup(input: $input) {{ {GROUP_FIELDS} }}
}}
"""

UPDATE_GROUP = f"""
mutation UpdateGroup($input: UpdateGroupInput!) {{
  updateGroup(input: $input) {{ {GROUP_FIELDS} }}
}}
"""

DELETE_GROUP = """
mutation DeleteGroup($input: DeleteGroupInput!) {
  deleteGroup(input: $input) { deletedGroupId userErrors { field message code } }
}
"""

ADD_GROUP_MEMBERS = f"""
mutation AddGroupMembers($input: GroupMembersInput!) {{
  addGroupMembers(input: $input) {{ {GROUP_FIELDS} }}
}}
"""

REMOVE_GROUP_MEMBERS = f"""
mutation RemoveGroupMembers($input: GroupMembersInput!) {{
  removeGroupMembers(input: $input) {{ {GROUP_FIELDS} }}
}}
"""

MEMBER_APIS = """
query MemberApis($id: ID!) { node(id: $id) { ... on Member { apis { edges { node { name } } } } } }
"""

GROUPS = """
query Groups($id: ID!, $first: Int, $after: String, $search: String) {
  workspace(id: $id) {
    groups(first: $first, after: $after, search: $search) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id name membersCount } }
    }
  }
}
"""

GROUP_TABLE = """
query GroupTable($id: ID!, $first: Int!) {
  workspace(id: $id) {
    groups(first: $first) {
      totalCount
      edges { node {
        name description membersCount
        members(first: 5) { totalCount pageInfo { hasNextPage } edges { node { user { email } } } }
      } }
    }
  }
}
"""

GROUP_MEMBERS = """
query GroupMembers($id: ID!, $first: Int, $after: String) {
  node(id: $id) {
    ... on Group {
      membersCount
      members(first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { id user { email } role { name } } }
      }
    }
  }
}
"""


async def groups_of(session: AsyncSession, world: World) -> dict[str, str]:
    """name -> description of the workspace's groups, read fresh."""
    rows = await session.execute(
        select(Group.name, Group.description).where(Group.workspace_id == world.workspace.id)
    )
    return {name: description for name, description in rows.all()}


async def member_ids_of(session: AsyncSession, group_id: uuid.UUID) -> set[uuid.UUID]:
    rows = await session.scalars(
        select(GroupMember.member_id).where(GroupMember.group_id == group_id)
    )
    return set(rows.all())


async def audit(session: AsyncSession, world: World, action: str) -> list[AuditEvent]:
    rows = await session.scalars(
        select(AuditEvent).where(
            AuditEvent.workspace_id == world.workspace.id, AuditEvent.action == action
        )
    )
    return list(rows.all())


def codes(errors: list[dict[str, Any]]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in errors]


def member_gids(payload: dict[str, Any]) -> set[str]:
    return {e["node"]["id"] for e in payload["group"]["members"]["edges"]}


async def group_manager(scenario: Scenario, world: World) -> Person:
    """A member who may manage groups and nothing else of note."""
    await scenario.custom_role(
        world,
        "Group manager",
        [PermissionSpec("manageGroups"), PermissionSpec("getGroup"), PermissionSpec("getMember")],
    )
    return await scenario.member(world, "Group manager")


# createGroup


async def test_create_group_with_members(graphql, scenario: Scenario, session) -> None:
    world = await scenario.workspace()
    ada, bob = await scenario.member(world), await scenario.member(world)
    manager = await group_manager(scenario, world)

    payload = (
        await graphql.as_principal(manager.principal).execute(
            CREATE_GROUP,
            input={
                "workspaceId": world.id,
                "name": " Payments ",
                "description": "The payments team",
                "memberIds": [ada.id, bob.id, ada.id],  # repeats count once
            },
        )
    ).payload("createGroup")

    group = payload["group"]
    assert (group["name"], group["description"]) == ("Payments", "The payments team")
    assert group["membersCount"] == 2
    assert member_gids(payload) == {ada.id, bob.id}
    assert await groups_of(session, world) == {"Payments": "The payments team"}
    group_id = await session.scalar(select(Group.id).where(Group.name == "Payments"))
    assert gid("Group", group_id) == group["id"]
    assert await member_ids_of(session, group_id) == {ada.member.id, bob.member.id}
    [event] = await audit(session, world, "createGroup")
    assert event.target_type == "Group"
    assert event.target_id == group_id
    assert event.actor_id == manager.member.id  # people are recorded as their member
    assert event.after is not None
    assert sorted(event.after["memberIds"]) == sorted([str(ada.member.id), str(bob.member.id)])


async def test_create_group_without_members(graphql, scenario, session) -> None:
    world = await scenario.workspace()

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            CREATE_GROUP, input={"workspaceId": world.id, "name": "Empty"}
        )
    ).payload("createGroup")

    assert payload["group"]["membersCount"] == 0
    assert await groups_of(session, world) == {"Empty": ""}


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"name": ""}, "name", "REQUIRED"),
        ({"name": "  "}, "name", "REQUIRED"),
        ({"name": "g" * 101}, "name", "TOO_LONG"),
        ({"description": "d" * 1001}, "description", "TOO_LONG"),
        ({"name": "EXISTING"}, "name", "DUPLICATE"),
        ({"memberIds": "foreign"}, "memberIds", "NOT_FOUND"),
        ({"memberIds": "unknown"}, "memberIds", "NOT_FOUND"),
        ({"memberIds": "wrong type"}, "memberIds", "INVALID_ID"),
    ],
)
async def test_create_group_refuses_bad_input_and_writes_nothing(
    graphql, scenario, session, changes: dict[str, Any], field: str, code: str
) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    await scenario.group(world, "Existing")
    person, stranger = await scenario.member(world), await scenario.member(other)
    member_ids = {
        "foreign": [person.id, stranger.id],
        "unknown": [person.id, gid("Member", uuid.uuid4())],
        "wrong type": [person.id, world.id],
    }.get(changes.get("memberIds", ""), [person.id])
    before = await groups_of(session, world)
    rows, events = await count(session, GroupMember), await count(session, AuditEvent)

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            CREATE_GROUP,
            input={"workspaceId": world.id, "name": "New", **changes, "memberIds": member_ids},
        )
    ).user_errors("createGroup")

    assert codes(errors) == [(field, code)]
    assert await groups_of(session, world) == before
    assert await count(session, GroupMember) == rows
    assert await count(session, AuditEvent) == events


async def test_create_group_reports_every_bad_field_at_once(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    await scenario.group(world, "Existing")

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            CREATE_GROUP,
            input={
                "workspaceId": world.id,
                "name": "existing",
                "description": "d" * 1001,
                "memberIds": [gid("Member", uuid.uuid4())],
            },
        )
    ).user_errors("createGroup")

    assert sorted(codes(errors)) == [
        ("description", "TOO_LONG"),
        ("memberIds", "NOT_FOUND"),
        ("name", "DUPLICATE"),
    ]
    assert await groups_of(session, world) == {"Existing": ""}


# updateGroup


async def test_update_group(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    person = await scenario.member(world)
    team = await scenario.group(world, "Team", [person])

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            UPDATE_GROUP,
            input={"id": gid("Group", team.id), "name": "Platform", "description": "Infra"},
        )
    ).payload("updateGroup")

    assert (payload["group"]["name"], payload["group"]["description"]) == ("Platform", "Infra")
    assert member_gids(payload) == {person.id}
    assert await groups_of(session, world) == {"Platform": "Infra"}
    [event] = await audit(session, world, "updateGroup")
    assert event.target_id == team.id
    assert event.before == {"name": "Team", "description": ""}
    assert event.after == {"name": "Platform", "description": "Infra"}


async def test_update_group_keeps_what_is_not_given(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    team = await scenario.group(world, "Team")

    await graphql.as_principal(world.owner.principal).execute(
        UPDATE_GROUP, input={"id": gid("Group", team.id), "description": "Now described"}
    )
    # renaming to its own name in another case is not a duplicate of itself
    (
        await graphql.as_principal(world.owner.principal).execute(
            UPDATE_GROUP, input={"id": gid("Group", team.id), "name": "TEAM"}
        )
    ).payload("updateGroup")

    assert await groups_of(session, world) == {"TEAM": "Now described"}


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"name": ""}, "name", "REQUIRED"),
        ({"name": "g" * 101}, "name", "TOO_LONG"),
        ({"name": "other"}, "name", "DUPLICATE"),
        ({"description": "d" * 1001}, "description", "TOO_LONG"),
    ],
)
async def test_update_group_refuses_bad_input_and_writes_nothing(
    graphql, scenario, session, changes: dict[str, Any], field: str, code: str
) -> None:
    world = await scenario.workspace()
    team = await scenario.group(world, "Team")
    await scenario.group(world, "Other")
    before, events = await groups_of(session, world), await count(session, AuditEvent)

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            UPDATE_GROUP, input={"id": gid("Group", team.id), **changes}
        )
    ).user_errors("updateGroup")

    assert codes(errors) == [(field, code)]
    assert await groups_of(session, world) == before
    assert await count(session, AuditEvent) == events


async def test_update_group_of_another_workspace_is_not_found(graphql, scenario, session) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    foreign = await scenario.group(other, "Team")

    for group_id in (gid("Group", foreign.id), gid("Group", uuid.uuid4())):
        result = await graphql.as_principal(world.owner.principal).execute(
            UPDATE_GROUP, input={"id": group_id, "name": "Taken"}
        )
        assert result.error_codes == ["NOT_FOUND"]

    assert await groups_of(session, other) == {"Team": ""}


# deleteGroup


async def test_delete_group_takes_its_grants_and_leaves_direct_ones(
    graphql, scenario, session
) -> None:
    world = await scenario.workspace()
    billing = await scenario.api(world, "Billing")
    direct, only_group = await scenario.member(world), await scenario.member(world)
    team = await scenario.group(world, "Team", [direct, only_group])
    kept = await scenario.group(world, "Kept", [only_group])
    await scenario.grant(world, billing, people=[direct], groups=[team, kept])

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            DELETE_GROUP, input={"id": gid("Group", team.id)}
        )
    ).payload("deleteGroup")

    assert payload["deletedGroupId"] == gid("Group", team.id)
    assert await groups_of(session, world) == {"Kept": ""}
    assert await count(session, ApiGrant, ApiGrant.group_id == team.id) == 0
    assert await count(session, GroupMember, GroupMember.group_id == team.id) == 0
    assert await count(session, ApiGrant, ApiGrant.member_id == direct.member.id) == 1
    assert await count(session, ApiGrant, ApiGrant.group_id == kept.id) == 1
    assert (
        await count(session, Member, Member.id.in_([direct.member.id, only_group.member.id])) == 2
    )
    [event] = await audit(session, world, "deleteGroup")
    assert event.target_id == team.id
    assert event.before == {"name": "Team", "description": ""}


async def test_delete_group_with_an_id_of_another_type(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    team = await scenario.group(world, "Team")

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            DELETE_GROUP, input={"id": gid("Role", team.id)}
        )
    ).user_errors("deleteGroup")

    assert codes(errors) == [("id", "INVALID_ID")]
    assert await groups_of(session, world) == {"Team": ""}


# addGroupMembers


async def test_add_group_members(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    ada = await scenario.member(world)
    bob = await scenario.member(world)
    cy = await scenario.member(world)
    team = await scenario.group(world, "Team", [ada])

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            ADD_GROUP_MEMBERS,
            input={"groupId": gid("Group", team.id), "memberIds": [ada.id, bob.id, cy.id]},
        )
    ).payload("addGroupMembers")

    assert payload["group"]["membersCount"] == 3
    assert member_gids(payload) == {ada.id, bob.id, cy.id}
    assert await member_ids_of(session, team.id) == {ada.member.id, bob.member.id, cy.member.id}
    [event] = await audit(session, world, "addGroupMembers")
    assert event.target_id == team.id
    # only the members actually added are recorded
    assert event.after is not None
    assert sorted(event.after["memberIds"]) == sorted([str(bob.member.id), str(cy.member.id)])


async def test_add_group_members_gives_the_group_grants(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    billing = await scenario.api(world, "Billing")
    team = await scenario.group(world, "Team")
    await scenario.grant(world, billing, groups=[team])
    newcomer = await scenario.member(world)

    (
        await graphql.as_principal(world.owner.principal).execute(
            ADD_GROUP_MEMBERS, input={"groupId": gid("Group", team.id), "memberIds": [newcomer.id]}
        )
    ).payload("addGroupMembers")

    apis = (
        await graphql.as_principal(world.owner.principal).execute(
            MEMBER_APIS,
            id=newcomer.id,
        )
    ).ok()
    assert [e["node"]["name"] for e in apis["node"]["apis"]["edges"]] == ["Billing"]


@pytest.mark.parametrize(
    ("which", "code"), [("foreign", "NOT_FOUND"), ("wrong type", "INVALID_ID")]
)
async def test_add_group_members_is_all_or_nothing(
    graphql, scenario, session, which: str, code: str
) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    person, stranger = await scenario.member(world), await scenario.member(other)
    team = await scenario.group(world, "Team")
    events = await count(session, AuditEvent)
    bad = stranger.id if which == "foreign" else gid("Group", team.id)

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            ADD_GROUP_MEMBERS,
            input={"groupId": gid("Group", team.id), "memberIds": [person.id, bad]},
        )
    ).user_errors("addGroupMembers")

    assert codes(errors) == [("memberIds", code)]
    assert await member_ids_of(session, team.id) == set()
    assert await count(session, AuditEvent) == events


# removeGroupMembers


async def test_remove_group_members_keeps_direct_grants(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    billing = await scenario.api(world, "Billing")
    ada, bob = await scenario.member(world), await scenario.member(world)
    team = await scenario.group(world, "Team", [ada, bob])
    await scenario.grant(world, billing, people=[ada], groups=[team])

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            REMOVE_GROUP_MEMBERS, input={"groupId": gid("Group", team.id), "memberIds": [ada.id]}
        )
    ).payload("removeGroupMembers")

    assert member_gids(payload) == {bob.id}
    assert await member_ids_of(session, team.id) == {bob.member.id}
    assert await count(session, ApiGrant, ApiGrant.member_id == ada.member.id) == 1
    assert await count(session, ApiGrant, ApiGrant.group_id == team.id) == 1
    [event] = await audit(session, world, "removeGroupMembers")
    assert event.target_id == team.id
    assert event.before == {"memberIds": [str(ada.member.id)]}


async def test_remove_group_members_is_all_or_nothing(graphql, scenario, session) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    person, stranger = await scenario.member(world), await scenario.member(other)
    team = await scenario.group(world, "Team", [person])
    events = await count(session, AuditEvent)

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            REMOVE_GROUP_MEMBERS,
            input={"groupId": gid("Group", team.id), "memberIds": [person.id, stranger.id]},
        )
    ).user_errors("removeGroupMembers")

    assert codes(errors) == [("memberIds", "NOT_FOUND")]
    assert await member_ids_of(session, team.id) == {person.member.id}
    assert await count(session, AuditEvent) == events


async def test_remove_group_members_needs_manage_groups(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    developer = await scenario.member(world, "Developer")
    team = await scenario.group(world, "Team", [developer])

    result = await graphql.as_principal(developer.principal).execute(
        REMOVE_GROUP_MEMBERS, input={"groupId": gid("Group", team.id), "memberIds": [developer.id]}
    )

    assert result.error_codes == ["FORBIDDEN"]
    assert await member_ids_of(session, team.id) == {developer.member.id}


# Workspace.groups, Group.members, Group.membersCount


async def test_workspace_groups_by_name_with_search_and_pages(graphql, scenario) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    person = await scenario.member(world)
    for name in ("Platform", "Payments", "Apps"):
        await scenario.group(world, name, [person] if name == "Apps" else [])
    await scenario.group(other, "Partners")
    caller = graphql.as_principal(world.owner.principal)

    everything = (await caller.execute(GROUPS, id=world.id, first=10)).ok()["workspace"]["groups"]
    assert [e["node"]["name"] for e in everything["edges"]] == ["Apps", "Payments", "Platform"]
    assert [e["node"]["membersCount"] for e in everything["edges"]] == [1, 0, 0]
    assert everything["totalCount"] == 3

    found = (await caller.execute(GROUPS, id=world.id, search="PA")).ok()["workspace"]["groups"]
    assert [e["node"]["name"] for e in found["edges"]] == ["Payments"]  # any case
    assert found["totalCount"] == 1

    page = (await caller.execute(GROUPS, id=world.id, first=2)).ok()["workspace"]["groups"]
    assert page["pageInfo"]["hasNextPage"]
    rest = (
        await caller.execute(GROUPS, id=world.id, first=2, after=page["pageInfo"]["endCursor"])
    ).ok()["workspace"]["groups"]
    assert [e["node"]["name"] for e in rest["edges"]] == ["Platform"]
    assert not rest["pageInfo"]["hasNextPage"]


async def test_group_members_need_get_member(graphql, scenario) -> None:
    world = await scenario.workspace()
    await scenario.custom_role(world, "Group reader", [PermissionSpec("getGroup")])
    reader = await scenario.member(world, "Group reader")
    await scenario.group(world, "Team", [reader])

    listed = await graphql.as_principal(reader.principal).execute(
        "query($id: ID!) { workspace(id: $id) { groups { edges { node { name } } } } }",
        id=world.id,
    )
    counted = await graphql.as_principal(reader.principal).execute(GROUPS, id=world.id)

    assert [e["node"]["name"] for e in listed.ok()["workspace"]["groups"]["edges"]] == ["Team"]
    assert counted.error_codes == ["FORBIDDEN"]


async def test_workspace_groups_costs_the_same_for_10_and_100_rows(
    graphql, scenario, session, count_queries
) -> None:
    world = await scenario.workspace()
    await populate(session, world, groups=110, people=7, role="Viewer")
    caller = graphql.as_principal(world.owner.principal)

    async def page(first: int) -> None:
        data = (await caller.execute(GROUP_TABLE, id=world.id, first=first)).ok()
        rows = [e["node"] for e in data["workspace"]["groups"]["edges"]]
        assert len(rows) == first
        assert all(r["membersCount"] == 7 and r["members"]["totalCount"] == 7 for r in rows)
        assert all(len(r["members"]["edges"]) == 5 for r in rows)
        assert all(r["members"]["pageInfo"]["hasNextPage"] for r in rows)

    statements = await statements_per_page(count_queries, page)

    assert statements[10] == statements[100]
    # workspace, page, total, members page, members count, their users
    assert statements[100] <= 6, count_queries.statements


async def test_group_members_costs_the_same_for_10_and_100_rows(
    graphql, scenario, session, count_queries
) -> None:
    world = await scenario.workspace()
    _, [group_id] = await populate(session, world, groups=1, people=110, role="Viewer")
    caller = graphql.as_principal(world.owner.principal)

    async def page(first: int) -> None:
        data = (await caller.execute(GROUP_MEMBERS, id=gid("Group", group_id), first=first)).ok()
        group = data["node"]
        assert group["membersCount"] == 110
        assert group["members"]["totalCount"] == 110
        assert [e["node"]["user"]["email"] for e in group["members"]["edges"]] == [
            f"bulk{i:03}@example.com" for i in range(first)
        ]
        assert {e["node"]["role"]["name"] for e in group["members"]["edges"]} == {"Viewer"}

    statements = await statements_per_page(count_queries, page)

    assert statements[10] == statements[100]
    # group, members page, count, users, roles
    assert statements[100] <= 5, count_queries.statements


async def test_group_members_pages_with_cursors(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    _, [group_id] = await populate(session, world, groups=1, people=3, role="Viewer")
    caller = graphql.as_principal(world.owner.principal)

    page = (await caller.execute(GROUP_MEMBERS, id=gid("Group", group_id), first=2)).ok()
    members = page["node"]["members"]
    rest = (
        await caller.execute(
            GROUP_MEMBERS,
            id=gid("Group", group_id),
            first=2,
            after=members["pageInfo"]["endCursor"],
        )
    ).ok()["node"]["members"]

    assert [e["node"]["user"]["email"] for e in members["edges"]] == [
        "bulk000@example.com",
        "bulk001@example.com",
    ]
    assert members["pageInfo"]["hasNextPage"]
    assert [e["node"]["user"]["email"] for e in rest["edges"]] == ["bulk002@example.com"]
    assert not rest["pageInfo"]["hasNextPage"]
