"""The audit log: one event per mutation, in the mutation's transaction, and the auditEvents
list with its filters and newest-first pagination."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.models import AuditEvent, Member
from accessplane.services.roles import PermissionSpec
from tests.support.scenario import Scenario, World, gid
from tests.support.statements import statements_per_page

USER_ERRORS = "userErrors { field code }"

MUTATIONS = {
    "createRole": f"""mutation($input: CreateRoleInput!) {{
        createRole(input: $input) {{ role {{ id }} {USER_ERRORS} }} }}""",
    "updateRole": f"""mutation($input: UpdateRoleInput!) {{
        updateRole(input: $input) {{ role {{ id }} {USER_ERRORS} }} }}""",
    "deleteRole": f"""mutation($input: DeleteRoleInput!) {{
        deleteRole(input: $input) {{ deletedRoleId {USER_ERRORS} }} }}""",
    "addMember": f"""mutation($input: AddMemberInput!) {{
        addMember(input: $input) {{ member {{ id }} {USER_ERRORS} }} }}""",
    "updateMemberRole": f"""mutation($input: UpdateMemberRoleInput!) {{
        updateMemberRole(input: $input) {{ member {{ id }} {USER_ERRORS} }} }}""",
    "removeMember": f"""mutation($input: RemoveMemberInput!) {{
        removeMember(input: $input) {{ removedMemberId {USER_ERRORS} }} }}""",
    "createGroup": f"""mutation($input: CreateGroupInput!) {{
        createGroup(input: $input) {{ group {{ id }} {USER_ERRORS} }} }}""",
    "updateGroup": f"""mutation($input: UpdateGroupInput!) {{
        updateGroup(input: $input) {{ group {{ id }} {USER_ERRORS} }} }}""",
    "deleteGroup": f"""mutation($input: DeleteGroupInput!) {{
        deleteGroup(input: $input) {{ deletedGroupId {USER_ERRORS} }} }}""",
    "addGroupMembers": f"""mutation($input: GroupMembersInput!) {{
        addGroupMembers(input: $input) {{ group {{ id }} {USER_ERRORS} }} }}""",
    "removeGroupMembers": f"""mutation($input: GroupMembersInput!) {{
        removeGroupMembers(input: $input) {{ group {{ id }} {USER_ERRORS} }} }}""",
    "createWorkspace": f"""mutation($input: CreateWorkspaceInput!) {{
        createWorkspace(input: $input) {{ workspace {{ id }} {USER_ERRORS} }} }}""",
}

AUDIT_EVENTS = """
query Audit($id: ID!, $first: Int, $after: String, $filter: AuditEventFilter) {
  workspace(id: $id) {
    auditEvents(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node {
        id actorType actorId actorName action targetType targetId before after ip requestId at
      } }
    }
  }
}
"""


@dataclass
class Call:
    """One mutation call: its name, input, and the global id of the object it changes."""

    action: str
    input: dict[str, Any]
    target_type: str
    target: str | None  # None when the mutation creates it: read from the payload


Arrange = Callable[[Scenario, World], Awaitable[Call]]


async def _create_role(s: Scenario, w: World) -> Call:
    return Call(
        "createRole",
        {"workspaceId": w.id, "name": "Auditor", "permissions": [{"name": "getAuditLog"}]},
        "Role",
        None,
    )


async def _update_role(s: Scenario, w: World) -> Call:
    role = await s.custom_role(w, "Auditor", [PermissionSpec("getAuditLog")])
    return Call(
        "updateRole", {"id": gid("Role", role.id), "name": "Auditors"}, "Role", gid("Role", role.id)
    )


async def _delete_role(s: Scenario, w: World) -> Call:
    role = await s.custom_role(w, "Auditor", [PermissionSpec("getAuditLog")])
    return Call("deleteRole", {"id": gid("Role", role.id)}, "Role", gid("Role", role.id))


async def _add_member(s: Scenario, w: World) -> Call:
    return Call(
        "addMember",
        {"workspaceId": w.id, "email": "new@example.com", "roleId": w.role_id("Viewer")},
        "Member",
        None,
    )


async def _update_member_role(s: Scenario, w: World) -> Call:
    person = await s.member(w, "Viewer")
    return Call(
        "updateMemberRole", {"id": person.id, "roleId": w.role_id("Admin")}, "Member", person.id
    )


async def _remove_member(s: Scenario, w: World) -> Call:
    person = await s.member(w, "Viewer")
    return Call("removeMember", {"id": person.id}, "Member", person.id)


async def _create_group(s: Scenario, w: World) -> Call:
    person = await s.member(w)
    return Call(
        "createGroup",
        {"workspaceId": w.id, "name": "Team", "memberIds": [person.id]},
        "Group",
        None,
    )


async def _update_group(s: Scenario, w: World) -> Call:
    group = await s.group(w, "Team")
    return Call(
        "updateGroup",
        {"id": gid("Group", group.id), "name": "Crew"},
        "Group",
        gid("Group", group.id),
    )


async def _delete_group(s: Scenario, w: World) -> Call:
    group = await s.group(w, "Team")
    return Call("deleteGroup", {"id": gid("Group", group.id)}, "Group", gid("Group", group.id))


async def _add_group_members(s: Scenario, w: World) -> Call:
    group, person = await s.group(w, "Team"), await s.member(w)
    return Call(
        "addGroupMembers",
        {"groupId": gid("Group", group.id), "memberIds": [person.id]},
        "Group",
        gid("Group", group.id),
    )


async def _remove_group_members(s: Scenario, w: World) -> Call:
    person = await s.member(w)
    group = await s.group(w, "Team", [person])
    return Call(
        "removeGroupMembers",
        {"groupId": gid("Group", group.id), "memberIds": [person.id]},
        "Group",
        gid("Group", group.id),
    )


async def _create_workspace(s: Scenario, w: World) -> Call:
    return Call("createWorkspace", {"name": "Second"}, "Workspace", None)


SUCCEEDING: list[Arrange] = [
    _create_role,
    _update_role,
    _delete_role,
    _add_member,
    _update_member_role,
    _remove_member,
    _create_group,
    _update_group,
    _delete_group,
    _add_group_members,
    _remove_group_members,
    _create_workspace,
]


async def all_events(session: AsyncSession) -> list[AuditEvent]:
    return list((await session.scalars(select(AuditEvent))).all())


async def event_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def created_id(data: dict[str, Any]) -> str:
    payload = next(iter(data.values()))
    return next(v["id"] for v in payload.values() if isinstance(v, dict) and "id" in v)


@pytest.mark.parametrize("arrange", SUCCEEDING, ids=lambda a: a.__name__.strip("_"))
async def test_every_mutation_writes_exactly_one_event(
    graphql, scenario: Scenario, session, arrange: Arrange
) -> None:
    world = await scenario.workspace()
    call = await arrange(scenario, world)
    before = {e.id for e in await all_events(session)}

    result = await graphql.as_principal(world.owner.principal).execute(
        MUTATIONS[call.action], input=call.input
    )

    data = result.ok()
    assert next(iter(data.values()))["userErrors"] == []
    new = [e for e in await all_events(session) if e.id not in before]
    assert len(new) == 1, [e.action for e in new]
    [event] = new
    assert event.action == call.action
    assert event.target_type == call.target_type
    assert gid(call.target_type, event.target_id) == (call.target or created_id(data))
    # The actor is recorded as their member in the event's workspace (node() resolves it).
    actor_member = await session.scalar(
        select(Member.id).where(
            Member.workspace_id == event.workspace_id, Member.user_id == world.owner.user.id
        )
    )
    assert (event.actor_type, event.actor_id, event.actor_name) == (
        "MEMBER",
        actor_member,
        world.owner.user.email,
    )
    if call.action != "createWorkspace":
        assert event.workspace_id == world.workspace.id
    assert event.before is not None or event.after is not None
    assert event.at <= datetime.now(UTC)


async def _bad_create_role(s: Scenario, w: World) -> Call:
    return Call("createRole", {"workspaceId": w.id, "name": "", "permissions": []}, "Role", None)


async def _escalating_create_role(s: Scenario, w: World) -> Call:
    return Call(
        "createRole",
        {"workspaceId": w.id, "name": "Everything", "permissions": [], "allApis": True},
        "Role",
        None,
    )


async def _bad_update_role(s: Scenario, w: World) -> Call:
    return Call("updateRole", {"id": w.role_id("Viewer"), "name": "Mine"}, "Role", None)


async def _bad_delete_role(s: Scenario, w: World) -> Call:
    await s.custom_role(w, "Held", [PermissionSpec("getApi")])
    await s.member(w, "Held")
    return Call("deleteRole", {"id": w.role_id("Held")}, "Role", None)


async def _bad_add_member(s: Scenario, w: World) -> Call:
    return Call(
        "addMember", {"workspaceId": w.id, "email": "nope", "roleId": w.role_id("Viewer")}, "", None
    )


async def _bad_update_member_role(s: Scenario, w: World) -> Call:
    return Call("updateMemberRole", {"id": w.owner.id, "roleId": w.role_id("Viewer")}, "", None)


async def _bad_remove_member(s: Scenario, w: World) -> Call:
    return Call("removeMember", {"id": w.owner.id}, "", None)


async def _bad_create_group(s: Scenario, w: World) -> Call:
    return Call(
        "createGroup",
        {"workspaceId": w.id, "name": "Team", "memberIds": [gid("Member", uuid.uuid4())]},
        "",
        None,
    )


async def _bad_update_group(s: Scenario, w: World) -> Call:
    group = await s.group(w, "Team")
    await s.group(w, "Other")
    return Call("updateGroup", {"id": gid("Group", group.id), "name": "Other"}, "", None)


async def _bad_add_group_members(s: Scenario, w: World) -> Call:
    group, person = await s.group(w, "Team"), await s.member(w)
    missing = gid("Member", uuid.uuid4())
    return Call(
        "addGroupMembers",
        {"groupId": gid("Group", group.id), "memberIds": [person.id, missing]},
        "",
        None,
    )


async def _bad_remove_group_members(s: Scenario, w: World) -> Call:
    group = await s.group(w, "Team")
    return Call(
        "removeGroupMembers",
        {"groupId": gid("Group", group.id), "memberIds": [w.id]},
        "",
        None,
    )


async def _bad_create_workspace(s: Scenario, w: World) -> Call:
    return Call("createWorkspace", {"name": " "}, "", None)


REFUSED: list[Arrange] = [
    _bad_create_role,
    _escalating_create_role,
    _bad_update_role,
    _bad_delete_role,
    _bad_add_member,
    _bad_update_member_role,
    _bad_remove_member,
    _bad_create_group,
    _bad_update_group,
    _bad_add_group_members,
    _bad_remove_group_members,
    _bad_create_workspace,
]


@pytest.mark.parametrize("arrange", REFUSED, ids=lambda a: a.__name__.strip("_"))
async def test_a_refused_mutation_writes_no_event(
    graphql, scenario, session, arrange: Arrange
) -> None:
    world = await scenario.workspace()
    admin = await scenario.member(world, "Admin")  # cannot hand out allApis
    call = await arrange(scenario, world)
    before = await event_count(session)
    caller = admin if call.action == "createRole" else world.owner

    data = (
        await graphql.as_principal(caller.principal).execute(
            MUTATIONS[call.action], input=call.input
        )
    ).ok()

    assert next(iter(data.values()))["userErrors"] != []
    assert await event_count(session) == before


async def test_an_event_records_the_key_the_address_and_the_request_id(
    graphql, scenario, session
) -> None:
    world = await scenario.workspace()
    token = await scenario.api_key(world, "Admin", name="deploy bot")

    response = await graphql.http.post(
        "/graphql",
        json={
            "query": MUTATIONS["createGroup"],
            "variables": {"input": {"workspaceId": world.id, "name": "By bot"}},
        },
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-42"},
    )

    assert response.status_code == 200
    assert "errors" not in response.json()
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "createGroup"))
    assert event is not None
    assert (event.actor_type, event.actor_name) == ("API_ACCESS", "deploy bot")
    assert (event.ip, event.request_id) == ("203.0.113.7", "req-42")


# auditEvents


def nodes(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["node"] for e in data["workspace"]["auditEvents"]["edges"]]


async def test_audit_events_newest_first_with_filters(graphql, scenario, session) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    admin = await scenario.member(world, "Admin")
    owner = graphql.as_principal(world.owner.principal)
    first = (
        await owner.execute(MUTATIONS["createGroup"], input={"workspaceId": world.id, "name": "A"})
    ).ok()["createGroup"]["group"]["id"]
    await graphql.as_principal(admin.principal).execute(
        MUTATIONS["createGroup"], input={"workspaceId": world.id, "name": "B"}
    )
    await owner.execute(MUTATIONS["updateGroup"], input={"id": first, "name": "A2"})
    await scenario.group(other, "Foreign")

    async def listed(filter: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        data = (await owner.execute(AUDIT_EVENTS, id=world.id, first=50, filter=filter)).ok()
        assert data["workspace"]["auditEvents"]["totalCount"] == len(nodes(data))
        return nodes(data)

    everything = await listed()
    assert [e["action"] for e in everything] == [
        "updateGroup",
        "createGroup",
        "createGroup",
        "addMember",
        "createWorkspace",
    ]
    assert [e["at"] for e in everything] == sorted((e["at"] for e in everything), reverse=True)
    assert everything[0]["before"] == {"name": "A", "description": ""}
    assert everything[0]["after"] == {"name": "A2", "description": ""}

    created = await listed({"action": "createGroup"})
    assert [e["after"]["name"] for e in created] == ["B", "A"]

    by_admin = await listed({"actorId": created[0]["actorId"]})
    assert [(e["action"], e["actorName"]) for e in by_admin] == [("createGroup", admin.user.email)]

    on_first = await listed({"targetId": first})
    assert [e["action"] for e in on_first] == ["updateGroup", "createGroup"]
    assert {e["targetId"] for e in on_first} == {first}

    on_members = await listed({"targetType": "Member"})
    assert [(e["action"], e["targetId"]) for e in on_members] == [("addMember", admin.id)]

    assert await listed({"action": "createGroup", "targetId": first}) == [created[1]]
    assert await listed({"action": "deleteGroup"}) == []


async def add_events(session: AsyncSession, world: World, ats: list[datetime]) -> None:
    """Events at chosen times, inserted directly: the arrangement of time and count tests."""
    session.add_all(
        AuditEvent(
            workspace_id=world.workspace.id,
            actor_type="SYSTEM",
            actor_name="system",
            action=f"test{i}",
            target_type="Workspace",
            target_id=world.workspace.id,
            at=at,
        )
        for i, at in enumerate(ats)
    )
    await session.commit()


async def test_audit_events_since_is_inclusive_and_until_exclusive(
    graphql, scenario, session
) -> None:
    world = await scenario.workspace()
    t0 = datetime(2030, 1, 1, 12, tzinfo=UTC)
    await add_events(session, world, [t0 + timedelta(hours=h) for h in range(4)])
    caller = graphql.as_principal(world.owner.principal)

    async def actions(filter: dict[str, Any]) -> list[str]:
        data = (await caller.execute(AUDIT_EVENTS, id=world.id, filter=filter)).ok()
        return [e["action"] for e in nodes(data)]

    since, until = (t0 + timedelta(hours=1)).isoformat(), (t0 + timedelta(hours=3)).isoformat()
    assert await actions({"since": since, "until": until}) == ["test2", "test1"]
    assert await actions({"since": since}) == ["test3", "test2", "test1"]
    assert "test0" in await actions({"until": since})
    assert "test1" not in await actions({"until": since})
    # the same instant in another zone
    other_zone = (t0 + timedelta(hours=1)).astimezone(timezone(timedelta(hours=-5))).isoformat()
    assert await actions({"since": other_zone, "until": until}) == ["test2", "test1"]


async def test_audit_events_pages_newest_first(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    t0 = datetime(2030, 1, 1, tzinfo=UTC)
    # two events share an instant: the id breaks the tie, and no page loses or repeats one
    await add_events(
        session,
        world,
        [t0, t0 + timedelta(minutes=1), t0 + timedelta(minutes=1), t0 + timedelta(minutes=2)],
    )
    caller = graphql.as_principal(world.owner.principal)

    seen: list[str] = []
    after = None
    while True:
        page = (await caller.execute(AUDIT_EVENTS, id=world.id, first=2, after=after)).ok()[
            "workspace"
        ]["auditEvents"]
        assert page["totalCount"] == 5  # with createWorkspace and nothing else
        seen += [e["node"]["id"] for e in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    everything = (await caller.execute(AUDIT_EVENTS, id=world.id, first=100)).ok()
    assert seen == [n["id"] for n in nodes(everything)]
    assert len(set(seen)) == 5
    actions = [n["action"] for n in nodes(everything)]
    assert actions[0] == "test3"
    assert set(actions[1:3]) == {"test1", "test2"}
    assert actions[3:] == ["test0", "createWorkspace"]  # created now, before 2030


async def test_audit_events_refuses_a_bad_cursor(graphql, scenario) -> None:
    world = await scenario.workspace()

    result = await graphql.as_principal(world.owner.principal).execute(
        AUDIT_EVENTS, id=world.id, after="not-a-cursor"
    )

    assert result.error_codes == ["BAD_USER_INPUT"]


async def test_audit_events_with_a_time_without_zone(graphql, scenario) -> None:
    world = await scenario.workspace()

    result = await graphql.as_principal(world.owner.principal).execute(
        AUDIT_EVENTS, id=world.id, filter={"since": "2030-01-01T00:00:00"}
    )

    assert result.error_codes == ["BAD_USER_INPUT"]


async def test_audit_events_for_a_developer(graphql, scenario) -> None:
    world = await scenario.workspace()
    developer = await scenario.member(world, "Developer")

    data = (await graphql.as_principal(developer.principal).execute(AUDIT_EVENTS, id=world.id)).ok()

    assert [n["action"] for n in nodes(data)] == ["addMember", "createWorkspace"]


async def test_audit_events_costs_the_same_for_10_and_100_rows(
    graphql, scenario, session, count_queries
) -> None:
    world = await scenario.workspace()
    t0 = datetime(2030, 1, 1, tzinfo=UTC)
    await add_events(session, world, [t0 + timedelta(seconds=s) for s in range(110)])
    caller = graphql.as_principal(world.owner.principal)

    async def page(first: int) -> None:
        data = (await caller.execute(AUDIT_EVENTS, id=world.id, first=first)).ok()
        assert len(nodes(data)) == first

    statements = await statements_per_page(count_queries, page)

    assert statements[10] == statements[100]
    # the workspace, the page, its total count
    assert statements[100] <= 3, count_queries.statements


async def test_the_actor_of_an_event_is_found_by_node(graphql, scenario: Scenario) -> None:
    world = await scenario.workspace()
    await scenario.api(world, "Billing")
    caller = graphql.as_principal(world.owner.principal)
    query = """
    query($id: ID!) { workspace(id: $id) { auditEvents(first: 1, filter: {action: "createApi"}) {
      edges { node { actorId } } } } }
    """
    [edge] = (await caller.execute(query, id=world.id)).ok()["workspace"]["auditEvents"]["edges"]

    actor = (
        await caller.execute(
            "query($id: ID!) { node(id: $id) { ... on Member { user { email } } } }",
            id=edge["node"]["actorId"],
        )
    ).ok()

    assert actor["node"] == {"user": {"email": world.owner.user.email}}
