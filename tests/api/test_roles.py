"""Roles over GraphQL: createRole, updateRole, deleteRole, Workspace.roles, permissionCatalog."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.auth.permissions import Permission
from accessplane.models import AuditEvent, Role
from accessplane.services.roles import PermissionSpec
from tests.support.scenario import Scenario, World, gid
from tests.support.statements import statements_per_page

ROLE_FIELDS = """
  role { id name description allApis builtIn permissions { name namePattern } }
  userErrors { field message code }
"""

CREATE_ROLE = f"""
mutation CreateRole($input: CreateRoleInput!) {{
  createRole(input: $input) {{ {ROLE_FIELDS} }}
}}
"""

UPDATE_ROLE = f"""
mutation UpdateRole($input: UpdateRoleInput!) {{
  updateRole(input: $input) {{ {ROLE_FIELDS} }}
}}
"""

DELETE_ROLE = """
mutation DeleteRole($input: DeleteRoleInput!) {
  deleteRole(input: $input) { deletedRoleId userErrors { field message code } }
}
"""

ROLES = """
query Roles($id: ID!, $first: Int, $after: String) {
  workspace(id: $id) {
    roles(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node { id name builtIn allApis permissions { name namePattern } } }
    }
  }
}
"""

CATALOG = "query { permissionCatalog { name description constraints } }"


def role_input(world: World, name: str = "Auditor", **extra: Any) -> dict[str, Any]:
    return {
        "workspaceId": world.id,
        "name": name,
        "permissions": [{"name": "getAuditLog"}],
        **extra,
    }


async def role_rows(session: AsyncSession, world: World) -> list[tuple[Any, ...]]:
    """(name, permissions, allApis) of every role of the workspace, read fresh."""
    rows = await session.execute(
        select(Role.name, Role.permissions, Role.all_apis)
        .where(Role.workspace_id == world.workspace.id)
        .order_by(Role.name)
    )
    return [tuple(row) for row in rows.all()]


async def events(session: AsyncSession, world: World, action: str | None = None) -> list[Any]:
    query = select(AuditEvent).where(AuditEvent.workspace_id == world.workspace.id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list((await session.scalars(query.order_by(AuditEvent.at))).all())


async def event_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


async def role_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Role)) or 0)


# createRole


async def test_create_role_stores_permissions_and_name_pattern(
    graphql, scenario: Scenario, session
) -> None:
    world = await scenario.workspace()
    caller = graphql.as_principal(world.owner.principal)

    payload = (
        await caller.execute(
            CREATE_ROLE,
            input={
                "workspaceId": world.id,
                "name": "  CI robot  ",
                "description": "Creates CI keys",
                "permissions": [
                    {"name": "getApi"},
                    {"name": "createApiAccess", "namePattern": "^ci-"},
                ],
            },
        )
    ).payload("createRole")

    role = payload["role"]
    assert role["name"] == "CI robot"  # trimmed
    assert role["description"] == "Creates CI keys"
    assert role["builtIn"] is False
    assert role["allApis"] is False
    assert {(p["name"], p["namePattern"]) for p in role["permissions"]} == {
        ("getApi", None),
        ("createApiAccess", "^ci-"),
    }
    stored = await session.scalar(select(Role).where(Role.name == "CI robot"))
    assert stored is not None
    assert stored.workspace_id == world.workspace.id
    assert gid("Role", stored.id) == role["id"]
    assert sorted(stored.permissions, key=lambda p: p["name"]) == [
        {"name": "createApiAccess", "namePattern": "^ci-"},
        {"name": "getApi"},
    ]
    [event] = await events(session, world, "createRole")
    assert event.target_type == "Role"
    assert event.target_id == stored.id
    assert event.actor_id == world.owner.member.id  # people are recorded as their member
    assert event.after is not None
    assert event.after["name"] == "CI robot"


async def test_create_role_with_an_api_key(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    token = await scenario.api_key(world, "Admin")

    payload = (
        await graphql.as_key(token).execute(CREATE_ROLE, input=role_input(world, "Auditor"))
    ).payload("createRole")

    assert payload["role"]["name"] == "Auditor"
    [event] = await events(session, world, "createRole")
    assert event.actor_type == "API_ACCESS"
    assert event.ip == "203.0.113.7"  # the client address of the HTTP request


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"name": ""}, "name", "REQUIRED"),
        ({"name": "   "}, "name", "REQUIRED"),
        ({"name": "x" * 101}, "name", "TOO_LONG"),
        ({"description": "d" * 1001}, "description", "TOO_LONG"),
        ({"name": "developer"}, "name", "DUPLICATE"),  # built-in Developer, any case
        ({"permissions": [{"name": "fly"}]}, "permissions", "INVALID"),
        (
            {"permissions": [{"name": "createApiAccess", "namePattern": "ci-(["}]},
            "permissions",
            "INVALID",
        ),
        (
            {"permissions": [{"name": "createApiAccess", "namePattern": "a" * 201}]},
            "permissions",
            "TOO_LONG",
        ),
        ({"permissions": [{"name": "getApi", "namePattern": "^x"}]}, "permissions", "INVALID"),
    ],
)
async def test_create_role_refuses_bad_input_and_writes_nothing(
    graphql, scenario, session, changes: dict[str, Any], field: str, code: str
) -> None:
    world = await scenario.workspace()
    roles_before, events_before = await role_count(session), await event_count(session)

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            CREATE_ROLE, input=role_input(world, **changes)
        )
    ).user_errors("createRole")

    assert [(e["field"], e["code"]) for e in errors] == [(field, code)]
    assert await role_count(session) == roles_before
    assert await event_count(session) == events_before


async def test_create_role_reports_every_bad_field_at_once(graphql, scenario, session) -> None:
    world = await scenario.workspace()

    result = await graphql.as_principal(world.owner.principal).execute(
        CREATE_ROLE,
        input={
            "workspaceId": world.id,
            "name": "",
            "permissions": [{"name": "nope"}, {"name": "createApiAccess", "namePattern": "("}],
        },
    )

    payload = result.ok()["createRole"]
    assert payload["role"] is None
    assert sorted((e["field"], e["code"]) for e in payload["userErrors"]) == [
        ("name", "REQUIRED"),
        ("permissions", "INVALID"),
        ("permissions", "INVALID"),
    ]


async def test_a_role_cannot_hand_out_a_permission_its_creator_lacks(
    graphql, scenario, session
) -> None:
    world = await scenario.workspace()
    await scenario.custom_role(
        world, "Role maker", [PermissionSpec("createRole"), PermissionSpec("getRole")]
    )
    maker = await scenario.member(world, "Role maker")
    roles_before, events_before = await role_count(session), await event_count(session)

    errors = (
        await graphql.as_principal(maker.principal).execute(
            CREATE_ROLE,
            input=role_input(
                world, "Deleter", permissions=[{"name": "getRole"}, {"name": "deleteApi"}]
            ),
        )
    ).user_errors("createRole")

    assert [(e["field"], e["code"]) for e in errors] == [("permissions", "OUT_OF_SCOPE_PERMISSION")]
    assert "deleteApi" in errors[0]["message"]
    assert "getRole" not in errors[0]["message"]
    assert await role_count(session) == roles_before
    assert await event_count(session) == events_before

    allowed = (
        await graphql.as_principal(maker.principal).execute(
            CREATE_ROLE, input=role_input(world, "Reader", permissions=[{"name": "getRole"}])
        )
    ).payload("createRole")
    assert allowed["role"]["name"] == "Reader"


async def test_a_name_pattern_holder_cannot_hand_out_a_wider_create_api_access(
    graphql, scenario, session
) -> None:
    world = await scenario.workspace()
    await scenario.custom_role(
        world,
        "CI maker",
        [PermissionSpec("createRole"), PermissionSpec("createApiAccess", name_pattern="^ci-")],
    )
    maker = graphql.as_principal((await scenario.member(world, "CI maker")).principal)

    for wider in [None, "^.*$", "^ci-prod-"]:  # constraints are not compared as languages
        errors = (
            await maker.execute(
                CREATE_ROLE,
                input=role_input(
                    world,
                    f"Keys {wider}",
                    permissions=[{"name": "createApiAccess", "namePattern": wider}],
                ),
            )
        ).user_errors("createRole")
        assert [(e["field"], e["code"]) for e in errors] == [
            ("permissions", "OUT_OF_SCOPE_PERMISSION")
        ], wider

    same = (
        await maker.execute(
            CREATE_ROLE,
            input=role_input(
                world, "CI keys", permissions=[{"name": "createApiAccess", "namePattern": "^ci-"}]
            ),
        )
    ).payload("createRole")
    assert same["role"]["permissions"] == [{"name": "createApiAccess", "namePattern": "^ci-"}]
    assert [r[0] for r in await role_rows(session, world)].count("CI keys") == 1


async def test_all_apis_can_be_handed_out_only_by_a_holder(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    admin = await scenario.member(world, "Admin")  # every permission but no allApis
    roles_before = await role_count(session)

    errors = (
        await graphql.as_principal(admin.principal).execute(
            CREATE_ROLE, input=role_input(world, "Everywhere", allApis=True)
        )
    ).user_errors("createRole")

    assert [(e["field"], e["code"]) for e in errors] == [("allApis", "OUT_OF_SCOPE_PERMISSION")]
    assert await role_count(session) == roles_before

    owner_made = (
        await graphql.as_principal(world.owner.principal).execute(
            CREATE_ROLE, input=role_input(world, "Everywhere", allApis=True)
        )
    ).payload("createRole")
    assert owner_made["role"]["allApis"] is True
    assert ("Everywhere", [{"name": "getAuditLog"}], True) in await role_rows(session, world)


@pytest.mark.parametrize("role", ["Developer", "Viewer", "Consumer"])
async def test_create_role_needs_the_permission(graphql, scenario, session, role: str) -> None:
    world = await scenario.workspace()
    person = await scenario.member(world, role)
    roles_before, events_before = await role_count(session), await event_count(session)

    result = await graphql.as_principal(person.principal).execute(
        CREATE_ROLE, input=role_input(world)
    )

    assert result.error_codes == ["FORBIDDEN"]
    assert await role_count(session) == roles_before
    assert await event_count(session) == events_before


async def test_holding_create_role_elsewhere_does_not_help(graphql, scenario, session) -> None:
    world, mine = await scenario.workspace(), await scenario.workspace()
    # The same person: a Viewer in ``world`` and the Owner of ``mine``.
    await scenario.member(world, "Viewer", email=mine.owner.user.email)
    person = await scenario.refresh(mine.owner)

    result = await graphql.as_principal(person.principal).execute(
        CREATE_ROLE, input=role_input(world)
    )

    assert result.error_codes == ["FORBIDDEN"]
    assert "Auditor" not in [r[0] for r in await role_rows(session, world)]


async def test_create_role_with_an_id_of_another_type(graphql, scenario) -> None:
    world = await scenario.workspace()

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            CREATE_ROLE, input={**role_input(world), "workspaceId": world.owner.id}
        )
    ).user_errors("createRole")

    assert [(e["field"], e["code"]) for e in errors] == [("workspaceId", "INVALID_ID")]


# updateRole


async def test_update_role_changes_what_was_given(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    role = await scenario.custom_role(
        world, "Auditor", [PermissionSpec("getAuditLog")], all_apis=False
    )

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            UPDATE_ROLE,
            input={
                "id": gid("Role", role.id),
                "name": "Security",
                "permissions": [
                    {"name": "getAuditLog"},
                    {"name": "createApiAccess", "namePattern": "^sec-"},
                ],
            },
        )
    ).payload("updateRole")

    assert payload["role"]["name"] == "Security"
    assert payload["role"]["description"] == ""  # not given: kept
    rows = {r[0]: r for r in await role_rows(session, world)}
    assert "Auditor" not in rows
    assert rows["Security"][1] == [
        {"name": "createApiAccess", "namePattern": "^sec-"},
        {"name": "getAuditLog"},
    ]
    [event] = await events(session, world, "updateRole")
    assert event.target_id == role.id
    assert event.before is not None
    assert event.before["name"] == "Auditor"
    assert event.after is not None
    assert event.after["name"] == "Security"


async def test_update_role_keeps_permissions_when_only_renamed(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    role = await scenario.custom_role(
        world, "Keys", [PermissionSpec("createApiAccess", name_pattern="^k-")]
    )
    # An Admin cannot hand out allApis, but renaming a role does not hand anything out.
    admin = await scenario.member(world, "Admin")

    payload = (
        await graphql.as_principal(admin.principal).execute(
            UPDATE_ROLE, input={"id": gid("Role", role.id), "description": "Key makers"}
        )
    ).payload("updateRole")

    assert payload["role"]["permissions"] == [{"name": "createApiAccess", "namePattern": "^k-"}]
    assert ("Keys", [{"name": "createApiAccess", "namePattern": "^k-"}], False) in (
        await role_rows(session, world)
    )


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"name": ""}, "name", "REQUIRED"),
        ({"name": "n" * 101}, "name", "TOO_LONG"),
        ({"name": "OWNER"}, "name", "DUPLICATE"),
        ({"permissions": [{"name": "teleport"}]}, "permissions", "INVALID"),
        (
            {"permissions": [{"name": "createApiAccess", "namePattern": "*"}]},
            "permissions",
            "INVALID",
        ),
    ],
)
async def test_update_role_refuses_bad_input_and_writes_nothing(
    graphql, scenario, session, changes: dict[str, Any], field: str, code: str
) -> None:
    world = await scenario.workspace()
    role = await scenario.custom_role(world, "Auditor", [PermissionSpec("getAuditLog")])
    before, events_before = await role_rows(session, world), await event_count(session)

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            UPDATE_ROLE, input={"id": gid("Role", role.id), **changes}
        )
    ).user_errors("updateRole")

    assert [(e["field"], e["code"]) for e in errors] == [(field, code)]
    assert await role_rows(session, world) == before
    assert await event_count(session) == events_before


async def test_update_role_cannot_add_what_the_editor_lacks(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    await scenario.custom_role(
        world, "Role editor", [PermissionSpec("updateRole"), PermissionSpec("getRole")]
    )
    target = await scenario.custom_role(world, "Reader", [PermissionSpec("getRole")])
    editor = await scenario.member(world, "Role editor")
    before = await role_rows(session, world)

    for changes in (
        {"permissions": [{"name": "getRole"}, {"name": "deleteApi"}]},
        {"allApis": True},
    ):
        errors = (
            await graphql.as_principal(editor.principal).execute(
                UPDATE_ROLE, input={"id": gid("Role", target.id), **changes}
            )
        ).user_errors("updateRole")
        assert [e["code"] for e in errors] == ["OUT_OF_SCOPE_PERMISSION"], changes

    assert await role_rows(session, world) == before


@pytest.mark.parametrize("name", ["Owner", "Admin", "Developer", "Viewer", "Consumer"])
async def test_built_in_roles_cannot_be_edited(graphql, scenario, session, name: str) -> None:
    world = await scenario.workspace()
    before = await role_rows(session, world)

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            UPDATE_ROLE, input={"id": world.role_id(name), "name": f"My {name}"}
        )
    ).user_errors("updateRole")

    assert [(e["field"], e["code"]) for e in errors] == [("id", "BUILT_IN")]
    assert await role_rows(session, world) == before


async def test_update_role_of_another_workspace_is_not_found(graphql, scenario, session) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    foreign = await scenario.custom_role(other, "Auditor", [PermissionSpec("getAuditLog")])
    before = await role_rows(session, other)

    for role_id in (gid("Role", foreign.id), gid("Role", uuid.uuid4())):
        result = await graphql.as_principal(world.owner.principal).execute(
            UPDATE_ROLE, input={"id": role_id, "name": "Taken over"}
        )
        assert result.error_codes == ["NOT_FOUND"]

    assert await role_rows(session, other) == before


# deleteRole


async def test_delete_role(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    role = await scenario.custom_role(world, "Auditor", [PermissionSpec("getAuditLog")])

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            DELETE_ROLE, input={"id": gid("Role", role.id)}
        )
    ).payload("deleteRole")

    assert payload["deletedRoleId"] == gid("Role", role.id)
    assert "Auditor" not in [r[0] for r in await role_rows(session, world)]
    [event] = await events(session, world, "deleteRole")
    assert event.target_id == role.id
    assert event.before is not None
    assert event.before["name"] == "Auditor"


@pytest.mark.parametrize("name", ["Owner", "Admin", "Developer", "Viewer", "Consumer"])
async def test_built_in_roles_cannot_be_deleted(graphql, scenario, session, name: str) -> None:
    world = await scenario.workspace()
    events_before = await event_count(session)

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            DELETE_ROLE, input={"id": world.role_id(name)}
        )
    ).user_errors("deleteRole")

    assert [(e["field"], e["code"]) for e in errors] == [("id", "BUILT_IN")]
    assert name in [r[0] for r in await role_rows(session, world)]
    assert await event_count(session) == events_before


@pytest.mark.parametrize("holder", ["member", "api key"])
async def test_a_role_in_use_cannot_be_deleted(graphql, scenario, session, holder: str) -> None:
    world = await scenario.workspace()
    role = await scenario.custom_role(world, "Auditor", [PermissionSpec("getAuditLog")])
    if holder == "member":
        await scenario.member(world, "Auditor")
    else:
        await scenario.api_key(world, "Auditor")
    events_before = await event_count(session)

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            DELETE_ROLE, input={"id": gid("Role", role.id)}
        )
    ).user_errors("deleteRole")

    assert [(e["field"], e["code"]) for e in errors] == [("id", "IN_USE")]
    assert "Auditor" in [r[0] for r in await role_rows(session, world)]
    assert await event_count(session) == events_before


# Workspace.roles


async def test_workspace_roles_lists_built_in_and_custom_roles_by_name(graphql, scenario) -> None:
    world = await scenario.workspace()
    await scenario.custom_role(
        world, "CI", [PermissionSpec("createApiAccess", name_pattern="^ci-")]
    )
    other = await scenario.workspace()
    await scenario.custom_role(other, "Hidden", [PermissionSpec("getApi")])

    data = (
        await graphql.as_principal(world.owner.principal).execute(ROLES, id=world.id, first=100)
    ).ok()

    roles = data["workspace"]["roles"]
    names = [e["node"]["name"] for e in roles["edges"]]
    assert names == ["Admin", "CI", "Consumer", "Developer", "Owner", "Viewer"]
    assert roles["totalCount"] == 6
    by_name = {e["node"]["name"]: e["node"] for e in roles["edges"]}
    assert by_name["Owner"]["builtIn"]
    assert by_name["Owner"]["allApis"]
    assert {p["name"] for p in by_name["Owner"]["permissions"]} == {p.value for p in Permission}
    assert by_name["CI"]["permissions"] == [{"name": "createApiAccess", "namePattern": "^ci-"}]
    assert not by_name["CI"]["builtIn"]


async def test_workspace_roles_pages_with_cursors(graphql, scenario) -> None:
    world = await scenario.workspace()
    caller = graphql.as_principal(world.owner.principal)

    seen: list[str] = []
    after = None
    pages = 0
    while True:
        roles = (await caller.execute(ROLES, id=world.id, first=2, after=after)).ok()["workspace"][
            "roles"
        ]
        pages += 1
        seen += [e["node"]["name"] for e in roles["edges"]]
        assert roles["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not roles["pageInfo"]["hasNextPage"]:
            break
        after = roles["pageInfo"]["endCursor"]

    assert seen == ["Admin", "Consumer", "Developer", "Owner", "Viewer"]
    assert pages == 3


@pytest.mark.parametrize("first", [0, 101, -1])
async def test_workspace_roles_bounds_the_page_size(graphql, scenario, first: int) -> None:
    world = await scenario.workspace()

    result = await graphql.as_principal(world.owner.principal).execute(
        ROLES, id=world.id, first=first
    )

    assert result.error_codes == ["BAD_USER_INPUT"]


async def add_roles(session: AsyncSession, world: World, count: int) -> None:
    """``count`` custom roles inserted at once: the arrangement of a statement-count test."""
    session.add_all(
        Role(
            workspace_id=world.workspace.id,
            name=f"Role {i:03}",
            permissions=[{"name": "getApi"}, {"name": "createApiAccess", "namePattern": f"^{i}"}],
        )
        for i in range(count)
    )
    await session.commit()


async def test_workspace_roles_costs_the_same_for_10_and_100_rows(
    graphql, scenario, session, count_queries
) -> None:
    world = await scenario.workspace()
    await add_roles(session, world, 100)
    caller = graphql.as_principal(world.owner.principal)

    async def page(first: int) -> None:
        data = (await caller.execute(ROLES, id=world.id, first=first)).ok()
        assert len(data["workspace"]["roles"]["edges"]) == first

    statements = await statements_per_page(count_queries, page)

    assert statements[10] == statements[100]
    # the workspace, the page, its total count
    assert statements[100] <= 3, count_queries.statements


# permissionCatalog


async def test_permission_catalog_lists_every_permission(graphql, scenario) -> None:
    world = await scenario.workspace()
    viewer = await scenario.member(world, "Consumer")  # the least privileged role

    catalog = (await graphql.as_principal(viewer.principal).execute(CATALOG)).ok()[
        "permissionCatalog"
    ]

    assert [p["name"] for p in catalog] == [p.value for p in Permission]
    by_name = {p["name"]: p for p in catalog}
    assert by_name["createApiAccess"]["constraints"] == ["namePattern"]
    assert all(p["constraints"] == [] for n, p in by_name.items() if n != "createApiAccess")
    assert all(p["description"] for p in catalog)


async def test_permission_catalog_answers_an_api_key(graphql, scenario) -> None:
    world = await scenario.workspace()
    token = await scenario.api_key(world, "Viewer")

    catalog = (await graphql.as_key(token).execute(CATALOG)).ok()["permissionCatalog"]

    assert len(catalog) == len(Permission)


# namePattern: RE2 syntax, bounded input


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(?=ci-)ci-.*", "invalid perl operator"),  # look-ahead: needs backtracking
        (r"(ci)-\1", "invalid escape sequence"),  # back-reference: needs backtracking
    ],
)
async def test_create_and_update_role_refuse_a_pattern_the_engine_cannot_take(
    graphql, scenario, session, pattern: str, reason: str
) -> None:
    world = await scenario.workspace()
    role = await scenario.custom_role(
        world, "Keys", [PermissionSpec("createApiAccess", name_pattern="^k-.*")]
    )
    owner = graphql.as_principal(world.owner.principal)
    permissions = [{"name": "createApiAccess", "namePattern": pattern}]
    rows_before = await role_rows(session, world)

    created = (
        await owner.execute(CREATE_ROLE, input=role_input(world, permissions=permissions))
    ).user_errors("createRole")
    updated = (
        await owner.execute(
            UPDATE_ROLE, input={"id": gid("Role", role.id), "permissions": permissions}
        )
    ).user_errors("updateRole")

    for errors in (created, updated):
        assert [(e["field"], e["code"]) for e in errors] == [("permissions", "INVALID")]
        assert errors[0]["message"].startswith(
            "namePattern of 'createApiAccess' is not a valid RE2 pattern: "
        )
        assert reason in errors[0]["message"]
    assert await role_rows(session, world) == rows_before


async def test_a_huge_pattern_or_permission_name_is_refused_with_a_short_message(
    graphql, scenario, session
) -> None:
    world = await scenario.workspace()
    events_before = await event_count(session)

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            CREATE_ROLE,
            input=role_input(
                world,
                permissions=[
                    {"name": "createApiAccess", "namePattern": "(" * 100_000},
                    {"name": "x" * 100_000},
                ],
            ),
        )
    ).user_errors("createRole")

    assert sorted((e["field"], e["code"]) for e in errors) == [
        ("permissions", "INVALID"),
        ("permissions", "TOO_LONG"),
    ]
    assert all(len(e["message"]) < 200 for e in errors)
    assert await event_count(session) == events_before


async def test_a_role_with_too_many_permission_entries_is_one_user_error(
    graphql, scenario, session
) -> None:
    world = await scenario.workspace()

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            CREATE_ROLE,
            input=role_input(world, permissions=[{"name": f"nope{i}"} for i in range(10_000)]),
        )
    ).user_errors("createRole")

    assert [(e["field"], e["code"]) for e in errors] == [("permissions", "INVALID")]
    assert errors[0]["message"].startswith("At most ")
    assert await role_count(session) == len(world.roles)
