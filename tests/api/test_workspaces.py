"""Workspaces over GraphQL: createWorkspace, workspaces, workspace(id), node(id), viewer."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.auth.permissions import BUILT_IN_ROLES, Permission
from accessplane.auth.principals import Principal
from accessplane.models import AuditEvent, Member, Role, Workspace
from accessplane.services import members
from tests.support.db import count
from tests.support.scenario import Scenario, World, gid

CREATE_WORKSPACE = """
mutation CreateWorkspace($input: CreateWorkspaceInput!) {
  createWorkspace(input: $input) {
    workspace { id name slug }
    userErrors { field message code }
  }
}
"""

WORKSPACES = "query { workspaces { id name slug } }"

WORKSPACE = "query Workspace($id: ID!) { workspace(id: $id) { id name slug } }"

NODE = "query Node($id: ID!) { node(id: $id) { __typename id } }"

VIEWER = """
query {
  viewer {
    kind name
    memberships { workspace { id name } roleName permissions allApis }
  }
}
"""


async def newcomer(scenario: Scenario, email: str = "newcomer@example.com") -> Principal:
    """A person who belongs to no workspace yet."""
    user = await members.get_or_create_user(scenario.session, email)
    await scenario.session.commit()
    return await scenario.principal(user)


async def totals(session: AsyncSession) -> tuple[int, ...]:
    return tuple([await count(session, m) for m in (Workspace, Role, Member, AuditEvent)])


# createWorkspace


async def test_create_workspace_makes_the_creator_its_owner(
    graphql, scenario: Scenario, session
) -> None:
    person = await newcomer(scenario)

    payload = (
        await graphql.as_principal(person).execute(
            CREATE_WORKSPACE, input={"name": "  Acme Corp  "}
        )
    ).payload("createWorkspace")

    created = payload["workspace"]
    assert (created["name"], created["slug"]) == ("Acme Corp", "acme-corp")
    workspace = await session.scalar(select(Workspace).where(Workspace.slug == "acme-corp"))
    assert workspace is not None
    assert gid("Workspace", workspace.id) == created["id"]
    roles = (
        await session.execute(
            select(Role.name, Role.built_in, Role.all_apis).where(Role.workspace_id == workspace.id)
        )
    ).all()
    assert {name for name, _, _ in roles} == set(BUILT_IN_ROLES)
    assert all(built_in for _, built_in, _ in roles)
    assert {name for name, _, all_apis in roles if all_apis} == {"Owner"}
    owner_role = (
        await session.execute(
            select(Role.name)
            .join(Member, Member.role_id == Role.id)
            .where(Member.workspace_id == workspace.id, Member.user_id == person.id)
        )
    ).scalar_one()
    assert owner_role == "Owner"
    assert await count(session, Member, Member.workspace_id == workspace.id) == 1
    [event] = (
        await session.scalars(select(AuditEvent).where(AuditEvent.workspace_id == workspace.id))
    ).all()
    assert (event.action, event.target_type, event.target_id) == (
        "createWorkspace",
        "Workspace",
        workspace.id,
    )
    creator = await session.scalar(
        select(Member.id).where(Member.workspace_id == workspace.id, Member.user_id == person.id)
    )
    assert event.actor_id == creator  # the creator as the Owner member they became
    # the creator, authenticated afresh, reaches it with every permission
    again = await scenario.principal(await members.get_or_create_user(session, person.name))
    listed = (await graphql.as_principal(again).execute(WORKSPACES)).ok()["workspaces"]
    assert [w["id"] for w in listed] == [created["id"]]


async def test_create_workspace_picks_a_free_slug_or_takes_the_given_one(
    graphql, scenario, session
) -> None:
    caller = graphql.as_principal(await newcomer(scenario))

    first = (await caller.execute(CREATE_WORKSPACE, input={"name": "Acme"})).payload(
        "createWorkspace"
    )
    second = (await caller.execute(CREATE_WORKSPACE, input={"name": "ACME!"})).payload(
        "createWorkspace"
    )
    chosen = (
        await caller.execute(CREATE_WORKSPACE, input={"name": "Acme", "slug": "acme-labs"})
    ).payload("createWorkspace")

    assert [w["workspace"]["slug"] for w in (first, second, chosen)] == [
        "acme",
        "acme-2",
        "acme-labs",
    ]
    assert await count(session, Workspace) == 3


@pytest.mark.parametrize(
    ("given", "field", "code"),
    [
        ({"name": ""}, "name", "REQUIRED"),
        ({"name": "   "}, "name", "REQUIRED"),
        ({"name": "w" * 101}, "name", "TOO_LONG"),
        ({"name": "Acme", "slug": "Not A Slug"}, "slug", "INVALID"),
        ({"name": "Acme", "slug": "-edge"}, "slug", "INVALID"),
        ({"name": "Acme", "slug": "s" * 64}, "slug", "TOO_LONG"),
        ({"name": "Acme", "slug": "taken"}, "slug", "DUPLICATE"),
    ],
)
async def test_create_workspace_refuses_bad_input_and_writes_nothing(
    graphql, scenario, session, given: dict[str, Any], field: str, code: str
) -> None:
    await scenario.workspace("Taken")  # slug "taken"
    person = await newcomer(scenario)
    before = await totals(session)

    errors = (
        await graphql.as_principal(person).execute(CREATE_WORKSPACE, input=given)
    ).user_errors("createWorkspace")

    assert [(e["field"], e["code"]) for e in errors] == [(field, code)]
    assert await totals(session) == before


@pytest.mark.parametrize("role", ["Owner", "Viewer"])
async def test_api_keys_cannot_create_workspaces(graphql, scenario, session, role: str) -> None:
    world = await scenario.workspace()
    token = await scenario.api_key(world, role)
    before = await totals(session)

    result = await graphql.as_key(token).execute(CREATE_WORKSPACE, input={"name": "By a key"})

    assert result.error_codes == ["FORBIDDEN"]
    assert await totals(session) == before


# workspaces, workspace(id)


async def test_workspaces_lists_only_the_viewers_own(graphql, scenario) -> None:
    zeta, alpha, foreign = (
        await scenario.workspace("Zeta"),
        await scenario.workspace("Alpha"),
        await scenario.workspace("Foreign"),
    )
    await scenario.member(alpha, "Consumer", email=zeta.owner.user.email)
    person = await scenario.refresh(zeta.owner)

    listed = (await graphql.as_principal(person.principal).execute(WORKSPACES)).ok()["workspaces"]

    assert [(w["id"], w["name"], w["slug"]) for w in listed] == [
        (alpha.id, "Alpha", "alpha"),
        (zeta.id, "Zeta", "zeta"),
    ]
    assert foreign.id not in [w["id"] for w in listed]


async def test_workspaces_of_a_newcomer_is_empty(graphql, scenario) -> None:
    await scenario.workspace()

    listed = (await graphql.as_principal(await newcomer(scenario)).execute(WORKSPACES)).ok()

    assert listed["workspaces"] == []


async def test_workspaces_of_an_api_key_is_its_own(graphql, scenario) -> None:
    world = await scenario.workspace()
    await scenario.workspace()
    token = await scenario.api_key(world, "Viewer")

    listed = (await graphql.as_key(token).execute(WORKSPACES)).ok()["workspaces"]

    assert [w["id"] for w in listed] == [world.id]


async def test_workspace_by_id(graphql, scenario) -> None:
    world = await scenario.workspace("Acme")
    consumer = await scenario.member(world, "Consumer")

    found = (await graphql.as_principal(consumer.principal).execute(WORKSPACE, id=world.id)).ok()

    assert found["workspace"] == {"id": world.id, "name": "Acme", "slug": "acme"}


async def test_workspace_by_id_of_another_or_unknown_is_not_found(graphql, scenario) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    caller = graphql.as_principal(world.owner.principal)

    for workspace_id in (other.id, gid("Workspace", uuid.uuid4()), world.owner.id):
        result = await caller.execute(WORKSPACE, id=workspace_id)
        assert result.error_codes == ["NOT_FOUND"], workspace_id


# node(id)


async def node_ids(scenario: Scenario, session: AsyncSession, world: World) -> dict[str, str]:
    """One object of each node type in ``world``, by type name."""
    api = await scenario.api(world, "Billing")
    group = await scenario.group(world, "Team")
    event_id = await session.scalar(
        select(AuditEvent.id).where(AuditEvent.workspace_id == world.workspace.id).limit(1)
    )
    assert event_id is not None
    return {
        "Workspace": world.id,
        "Member": world.owner.id,
        "Role": world.role_id("Developer"),
        "Group": gid("Group", group.id),
        "Api": gid("Api", api.id),
        "AuditEvent": gid("AuditEvent", event_id),
    }


TYPES = ["Workspace", "Member", "Role", "Group", "Api", "AuditEvent"]


@pytest.mark.parametrize("type_name", TYPES)
async def test_node_fetches_each_type(graphql, scenario, session, type_name: str) -> None:
    world = await scenario.workspace()
    ids = await node_ids(scenario, session, world)

    node = (
        await graphql.as_principal(world.owner.principal).execute(NODE, id=ids[type_name])
    ).ok()["node"]

    assert node == {"__typename": type_name, "id": ids[type_name]}


@pytest.mark.parametrize("type_name", TYPES)
async def test_node_of_another_workspace_is_not_found(
    graphql, scenario, session, type_name: str
) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    foreign = await node_ids(scenario, session, other)

    result = await graphql.as_principal(world.owner.principal).execute(NODE, id=foreign[type_name])

    assert result.error_codes == ["NOT_FOUND"]
    assert result.data is None


@pytest.mark.parametrize("type_name", TYPES)
async def test_node_of_an_unknown_id_is_not_found(graphql, scenario, type_name: str) -> None:
    world = await scenario.workspace()

    result = await graphql.as_principal(world.owner.principal).execute(
        NODE, id=gid(type_name, uuid.uuid4())
    )

    assert result.error_codes == ["NOT_FOUND"]


@pytest.mark.parametrize("type_name", ["Member", "Role", "Group", "Api", "AuditEvent"])
async def test_node_needs_the_types_read_permission(
    graphql, scenario, session, type_name: str
) -> None:
    world = await scenario.workspace()
    ids = await node_ids(scenario, session, world)
    consumer = await scenario.member(world, "Consumer")  # getProduct and requestAccess only

    result = await graphql.as_principal(consumer.principal).execute(NODE, id=ids[type_name])

    assert result.error_codes == ["FORBIDDEN"]


async def test_node_of_an_api_needs_access_to_it(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    api = await scenario.api(world, "Billing")
    developer = await scenario.member(world, "Developer")  # holds getApi, yet no grant
    caller = graphql.as_principal(developer.principal)

    hidden = await caller.execute(NODE, id=gid("Api", api.id))
    await scenario.grant(world, api, people=[developer])
    shown = await caller.execute(NODE, id=gid("Api", api.id))

    assert hidden.error_codes == ["NOT_FOUND"]
    assert shown.ok()["node"]["__typename"] == "Api"


async def test_node_of_an_unknown_type_is_not_found(graphql, scenario) -> None:
    world = await scenario.workspace()

    result = await graphql.as_principal(world.owner.principal).execute(
        NODE, id=gid("Spaceship", uuid.uuid4())
    )

    assert result.error_codes == ["NOT_FOUND"]


# viewer


async def test_viewer_memberships_of_a_person(graphql, scenario) -> None:
    beta, alpha = await scenario.workspace("Beta"), await scenario.workspace("Alpha")
    await scenario.workspace("Elsewhere")
    await scenario.member(beta, "Viewer", email=alpha.owner.user.email)
    person = await scenario.refresh(alpha.owner)

    viewer = (await graphql.as_principal(person.principal).execute(VIEWER)).ok()["viewer"]

    assert (viewer["kind"], viewer["name"]) == ("MEMBER", alpha.owner.user.email)
    memberships = viewer["memberships"]
    assert [(m["workspace"]["id"], m["roleName"]) for m in memberships] == [
        (alpha.id, "Owner"),
        (beta.id, "Viewer"),
    ]
    assert memberships[0]["permissions"] == sorted(p.value for p in Permission)
    assert memberships[0]["allApis"] is True
    viewer_permissions = {p for p in Permission if p.value.startswith("get")} - {
        Permission.GET_AUDIT_LOG,
        Permission.GET_CALL_LOG,
    }
    assert memberships[1]["permissions"] == sorted(p.value for p in viewer_permissions)
    assert memberships[1]["allApis"] is False


async def test_viewer_of_a_newcomer_has_no_memberships(graphql, scenario) -> None:
    viewer = (await graphql.as_principal(await newcomer(scenario)).execute(VIEWER)).ok()["viewer"]

    assert viewer == {"kind": "MEMBER", "name": "newcomer@example.com", "memberships": []}


async def test_viewer_of_an_api_key(graphql, scenario) -> None:
    world = await scenario.workspace("Acme")
    token = await scenario.api_key(world, "Developer", name="ci key")

    viewer = (await graphql.as_key(token).execute(VIEWER)).ok()["viewer"]

    assert (viewer["kind"], viewer["name"]) == ("API_ACCESS", "ci key")
    [membership] = viewer["memberships"]
    assert membership["workspace"] == {"id": world.id, "name": "Acme"}
    assert membership["roleName"] == "Developer"
    assert "createApi" in membership["permissions"]
    assert "manageMembers" not in membership["permissions"]
