"""Role rules on the service: what may be handed out, what built-in roles hold, what stays."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from accessplane.auth.permissions import BUILT_IN_ROLES, Permission
from accessplane.errors import Forbidden, InputError, NotFound, UserErrorCode
from accessplane.models import AuditEvent, Role
from accessplane.services import roles
from accessplane.services.pagination import PageArgs
from accessplane.services.roles import PermissionSpec
from accessplane.signin.authenticate import principal_for_api_key
from tests.support.scenario import Scenario


def codes(error: InputError) -> list[tuple[str | None, UserErrorCode]]:
    return [(e.field, e.code) for e in error.errors]


async def test_built_in_roles_of_a_new_workspace(scenario: Scenario) -> None:
    world = await scenario.workspace()

    assert set(world.roles) == set(BUILT_IN_ROLES)
    owner = world.roles["Owner"]
    assert {p["name"] for p in owner.permissions} == {p.value for p in Permission}
    assert owner.all_apis
    assert owner.built_in
    assert [name for name, role in world.roles.items() if role.all_apis] == ["Owner"]
    admin = {p["name"] for p in world.roles["Admin"].permissions}
    assert Permission.UPDATE_WORKSPACE.value not in admin
    assert {p["name"] for p in world.roles["Consumer"].permissions} == {
        "getProduct",
        "requestAccess",
    }
    assert "getAuditLog" not in {p["name"] for p in world.roles["Viewer"].permissions}


async def test_an_unconstrained_holder_may_hand_out_a_constrained_permission(
    session, scenario
) -> None:
    world = await scenario.workspace()
    admin = await scenario.member(world, "Admin")

    role = await roles.create_role(
        session=session,
        actor=admin.principal,
        workspace_id=world.workspace.id,
        name="CI",
        permissions=[PermissionSpec("createApiAccess", name_pattern="^ci-")],
    )

    assert role.permissions == [{"name": "createApiAccess", "namePattern": "^ci-"}]


async def test_a_constrained_holder_may_hand_out_only_the_same_constraint(
    session, scenario
) -> None:
    world = await scenario.workspace()
    await scenario.custom_role(
        world,
        "CI lead",
        [PermissionSpec("createRole"), PermissionSpec("createApiAccess", name_pattern="^ci-")],
    )
    lead = await scenario.member(world, "CI lead")

    for pattern in (None, "^ci-prod-", "^cd-"):
        with pytest.raises(InputError) as raised:
            await roles.create_role(
                session=session,
                actor=lead.principal,
                workspace_id=world.workspace.id,
                name=f"Keys {pattern}",
                permissions=[PermissionSpec("createApiAccess", name_pattern=pattern)],
            )
        assert codes(raised.value) == [("permissions", UserErrorCode.OUT_OF_SCOPE_PERMISSION)], (
            pattern
        )

    same = await roles.create_role(
        session=session,
        actor=lead.principal,
        workspace_id=world.workspace.id,
        name="CI keys",
        permissions=[PermissionSpec("createApiAccess", name_pattern="^ci-")],
    )
    assert same.permissions == [{"name": "createApiAccess", "namePattern": "^ci-"}]


async def test_an_api_key_cannot_escalate_either(session, scenario) -> None:
    world = await scenario.workspace()
    await scenario.custom_role(
        world, "Role maker", [PermissionSpec("createRole"), PermissionSpec("getRole")]
    )
    token = await scenario.api_key(world, "Role maker")
    key = await principal_for_api_key(session, token, scenario.secret)

    with pytest.raises(InputError) as raised:
        await roles.create_role(
            session=session,
            actor=key,
            workspace_id=world.workspace.id,
            name="Deleter",
            permissions=[PermissionSpec("deleteApi")],
            all_apis=True,
        )

    assert sorted(codes(raised.value)) == [
        ("allApis", UserErrorCode.OUT_OF_SCOPE_PERMISSION),
        ("permissions", UserErrorCode.OUT_OF_SCOPE_PERMISSION),
    ]


async def test_create_role_stores_each_permission_once_in_name_order(session, scenario) -> None:
    world = await scenario.workspace()

    role = await roles.create_role(
        session=session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        name="Mixed",
        permissions=[
            PermissionSpec("getRole"),
            PermissionSpec("getApi"),
            PermissionSpec("getRole"),
        ],
    )

    stored = await session.scalar(select(Role.permissions).where(Role.id == role.id))
    assert stored == [{"name": "getApi"}, {"name": "getRole"}]


async def test_create_role_reports_every_problem_at_once(session, scenario) -> None:
    world = await scenario.workspace()
    await scenario.custom_role(world, "Taken", [])

    with pytest.raises(InputError) as raised:
        await roles.create_role(
            session=session,
            actor=world.owner.principal,
            workspace_id=world.workspace.id,
            name="taken",
            description="d" * 1001,
            permissions=[PermissionSpec("nope"), PermissionSpec("getApi", name_pattern="x")],
        )

    assert sorted(codes(raised.value)) == [
        ("description", UserErrorCode.TOO_LONG),
        ("name", UserErrorCode.DUPLICATE),
        ("permissions", UserErrorCode.INVALID),
        ("permissions", UserErrorCode.INVALID),
    ]


async def test_update_role_without_permissions_keeps_them(session, scenario) -> None:
    world = await scenario.workspace()
    role = await scenario.custom_role(
        world, "CI", [PermissionSpec("createApiAccess", name_pattern="^ci-")]
    )

    updated = await roles.update_role(
        session=session, actor=world.owner.principal, role_id=role.id, description="CI keys"
    )

    assert updated.description == "CI keys"
    assert updated.permissions == [{"name": "createApiAccess", "namePattern": "^ci-"}]


async def test_update_role_may_drop_all_apis(session, scenario) -> None:
    world = await scenario.workspace()
    role = await scenario.custom_role(world, "Everywhere", [], all_apis=True)
    admin = await scenario.member(world, "Admin")  # does not hold allApis

    updated = await roles.update_role(
        session=session, actor=admin.principal, role_id=role.id, all_apis=False
    )

    assert updated.all_apis is False


async def test_update_role_refuses_to_grant_all_apis_to_a_non_holder(session, scenario) -> None:
    world = await scenario.workspace()
    role = await scenario.custom_role(world, "Somewhere", [])
    admin = await scenario.member(world, "Admin")
    events = await session.scalar(select(func.count()).select_from(AuditEvent))

    with pytest.raises(InputError) as raised:
        await roles.update_role(
            session=session, actor=admin.principal, role_id=role.id, all_apis=True
        )

    assert codes(raised.value) == [("allApis", UserErrorCode.OUT_OF_SCOPE_PERMISSION)]
    assert await session.scalar(select(Role.all_apis).where(Role.id == role.id)) is False
    assert await session.scalar(select(func.count()).select_from(AuditEvent)) == events


async def test_delete_role_in_use_says_by_whom(session, scenario) -> None:
    world = await scenario.workspace()
    role = await scenario.custom_role(world, "Auditor", [PermissionSpec("getAuditLog")])
    await scenario.member(world, "Auditor")
    await scenario.member(world, "Auditor")
    await scenario.api_key(world, "Auditor")

    with pytest.raises(InputError) as raised:
        await roles.delete_role(session=session, actor=world.owner.principal, role_id=role.id)

    [error] = raised.value.errors
    assert error.code is UserErrorCode.IN_USE
    assert "2 member(s)" in error.message
    assert "1 API Access" in error.message


async def test_delete_role_of_another_workspace_is_not_found(session, scenario) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    role = await scenario.custom_role(other, "Auditor", [])

    with pytest.raises(NotFound):
        await roles.delete_role(session=session, actor=world.owner.principal, role_id=role.id)


async def test_list_roles_by_name_in_pages(session, scenario) -> None:
    world = await scenario.workspace()
    await scenario.custom_role(world, "Billing", [])

    first = await roles.list_roles(
        session=session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        args=PageArgs(first=4),
    )
    rest = await roles.list_roles(
        session=session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        args=PageArgs(first=4, after=first.cursors[-1]),
    )

    assert [r.name for r in first.items] == ["Admin", "Billing", "Consumer", "Developer"]
    assert first.has_next_page
    assert [r.name for r in rest.items] == ["Owner", "Viewer"]
    assert not rest.has_next_page


async def test_list_roles_needs_get_role(session, scenario) -> None:
    world = await scenario.workspace()
    consumer = await scenario.member(world, "Consumer")

    with pytest.raises(Forbidden):
        await roles.list_roles(
            session=session,
            actor=consumer.principal,
            workspace_id=world.workspace.id,
            args=PageArgs(first=10),
        )
