"""The access rules (docs/architecture.md, "Access model"), checked on the services."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.errors import Forbidden, InputError, NotFound, UserErrorCode
from accessplane.models import ApiGrant, AuditEvent
from accessplane.services import apis, grants, groups
from accessplane.services.apis import ApiFilter
from accessplane.services.grants import AccessPathKind
from accessplane.services.pagination import PageArgs
from tests.support.scenario import Person, Scenario, World


async def visible_api_names(session: AsyncSession, world: World, person: Person) -> list[str]:
    page = await apis.list_apis(
        session=session,
        actor=person.principal,
        workspace_id=world.workspace.id,
        filter=ApiFilter(),
        args=PageArgs(first=100),
    )
    return [api.name for api in page.items]


async def test_role_without_grant_does_not_reach_the_api(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    await scenario.api(world, "Billing")
    admin = await scenario.member(world, "Admin")  # every permission, yet no grant

    assert await visible_api_names(session, world, admin) == []


async def test_group_grant_reaches_current_and_future_members(session, scenario) -> None:
    world = await scenario.workspace()
    billing = await scenario.api(world, "Billing")
    early = await scenario.member(world)
    team = await scenario.group(world, "Team", [early])
    await scenario.grant(world, billing, groups=[team])
    late = await scenario.member(world)
    await groups.add_group_members(
        session=session, actor=world.owner.principal, group_id=team.id, member_ids=[late.member.id]
    )

    assert await visible_api_names(session, world, early) == ["Billing"]
    assert await visible_api_names(session, world, late) == ["Billing"]


async def test_leaving_the_group_removes_access_unless_a_direct_grant_remains(
    session, scenario
) -> None:
    world = await scenario.workspace()
    billing = await scenario.api(world, "Billing")
    direct, only_group = await scenario.member(world), await scenario.member(world)
    team = await scenario.group(world, "Team", [direct, only_group])
    await scenario.grant(world, billing, groups=[team], people=[direct])

    await groups.remove_group_members(
        session=session,
        actor=world.owner.principal,
        group_id=team.id,
        member_ids=[direct.member.id, only_group.member.id],
    )

    assert await visible_api_names(session, world, direct) == ["Billing"]
    assert await visible_api_names(session, world, only_group) == []


async def test_revoking_the_group_grant_keeps_direct_access(session, scenario) -> None:
    world = await scenario.workspace()
    billing = await scenario.api(world, "Billing")
    person = await scenario.member(world)
    team = await scenario.group(world, "Team", [person])
    await scenario.grant(world, billing, groups=[team], people=[person])

    change = await grants.revoke_access(
        session=session,
        actor=world.owner.principal,
        api_id=billing.id,
        member_ids=[],
        group_ids=[team.id],
    )

    assert change.group_ids == [team.id]
    assert await visible_api_names(session, world, person) == ["Billing"]
    explanation = await grants.explain_access(
        session=session, actor=world.owner.principal, member_id=person.member.id, api_id=billing.id
    )
    assert [p.kind for p in explanation.paths] == [AccessPathKind.DIRECT]


async def test_revoke_all_removes_direct_and_group_grants(session, scenario) -> None:
    world = await scenario.workspace()
    billing = await scenario.api(world, "Billing")
    person = await scenario.member(world)
    team = await scenario.group(world, "Team", [person])
    await scenario.grant(world, billing, groups=[team], people=[person])

    await grants.revoke_all_access(
        session=session, actor=world.owner.principal, api_id=billing.id, confirmation="REVOKE"
    )

    assert await visible_api_names(session, world, person) == []
    remaining = await session.scalar(
        select(func.count()).select_from(ApiGrant).where(ApiGrant.api_id == billing.id)
    )
    assert remaining == 0


@pytest.mark.parametrize("confirmation", ["", "revoke", "REVOKE ", "yes"])
async def test_revoke_all_without_the_literal_confirmation_changes_nothing(
    session, scenario, confirmation: str
) -> None:
    world = await scenario.workspace()
    billing = await scenario.api(world, "Billing")
    person = await scenario.member(world)
    await scenario.grant(world, billing, people=[person])
    events_before = await session.scalar(select(func.count()).select_from(AuditEvent))

    with pytest.raises(InputError) as raised:
        await grants.revoke_all_access(
            session=session,
            actor=world.owner.principal,
            api_id=billing.id,
            confirmation=confirmation,
        )

    assert raised.value.errors[0].code is UserErrorCode.CONFIRMATION_REQUIRED
    assert await visible_api_names(session, world, person) == ["Billing"]
    assert await session.scalar(select(func.count()).select_from(AuditEvent)) == events_before


async def test_explain_access_lists_every_path(session, scenario) -> None:
    world = await scenario.workspace()
    billing = await scenario.api(world, "Billing")
    person = await scenario.member(world)
    alpha = await scenario.group(world, "Alpha", [person])
    beta = await scenario.group(world, "Beta", [person])
    await scenario.grant(world, billing, groups=[beta, alpha], people=[person])

    explanation = await grants.explain_access(
        session=session, actor=world.owner.principal, member_id=person.member.id, api_id=billing.id
    )

    assert explanation.has_access
    assert [(p.kind, p.group.name if p.group else None) for p in explanation.paths] == [
        (AccessPathKind.DIRECT, None),
        (AccessPathKind.GROUP, "Alpha"),
        (AccessPathKind.GROUP, "Beta"),
    ]
    owner_view = await grants.explain_access(
        session=session,
        actor=world.owner.principal,
        member_id=world.owner.member.id,
        api_id=billing.id,
    )
    assert [p.kind for p in owner_view.paths] == [AccessPathKind.ROLE]


async def test_grant_is_all_or_nothing(session, scenario) -> None:
    world = await scenario.workspace()
    other = await scenario.workspace()
    billing = await scenario.api(world, "Billing")
    person = await scenario.member(world)
    stranger = await scenario.member(other)

    with pytest.raises(InputError) as raised:
        await grants.grant_access(
            session=session,
            actor=world.owner.principal,
            api_id=billing.id,
            member_ids=[person.member.id, stranger.member.id],
            group_ids=[],
        )

    assert raised.value.errors[0].field == "memberIds"
    assert raised.value.errors[0].code is UserErrorCode.NOT_FOUND
    assert await visible_api_names(session, world, person) == []


async def test_api_scoped_operations_need_access_to_the_api(session, scenario) -> None:
    world = await scenario.workspace()
    billing = await scenario.api(world, "Billing")
    admin = await scenario.member(world, "Admin")
    person = await scenario.member(world)

    with pytest.raises(NotFound):  # holds grantApiAccess, but cannot reach Billing
        await grants.grant_access(
            session=session,
            actor=admin.principal,
            api_id=billing.id,
            member_ids=[person.member.id],
            group_ids=[],
        )

    await scenario.grant(world, billing, people=[admin])
    change = await grants.grant_access(
        session=session,
        actor=admin.principal,
        api_id=billing.id,
        member_ids=[person.member.id],
        group_ids=[],
    )
    assert change.member_ids == [person.member.id]


async def test_permission_is_needed_as_well_as_access(session, scenario) -> None:
    world = await scenario.workspace()
    billing = await scenario.api(world, "Billing")
    viewer = await scenario.member(world, "Viewer")
    person = await scenario.member(world)
    await scenario.grant(world, billing, people=[viewer])

    with pytest.raises(Forbidden):
        await grants.grant_access(
            session=session,
            actor=viewer.principal,
            api_id=billing.id,
            member_ids=[person.member.id],
            group_ids=[],
        )


async def test_another_workspaces_api_is_not_found(session, scenario) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    foreign = await scenario.api(other, "Foreign")
    person = await scenario.member(world)

    with pytest.raises(NotFound):
        await grants.grant_access(
            session=session,
            actor=world.owner.principal,
            api_id=foreign.id,
            member_ids=[person.member.id],
            group_ids=[],
        )
