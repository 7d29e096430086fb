"""Configuration as code: export, apply (plan, dry run, prune, idempotence), bad files."""

from __future__ import annotations

import pytest
import yaml
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.auth.permissions import Permission
from accessplane.errors import Forbidden, InputError
from accessplane.models import (
    AccessProfile,
    AccessProfileProduct,
    Api,
    ApiGrant,
    ApiProduct,
    AuditEvent,
    AuthMethod,
    Client,
    ClientMember,
    Group,
    Member,
    NotificationKind,
    Plan,
    Role,
    User,
    Workspace,
)
from accessplane.models.plans import RateLimitPeriod
from accessplane.services import (
    access_profiles,
    clients,
    notifications,
    plans,
    products,
    service_accounts,
)
from accessplane.services.roles import PermissionSpec
from accessplane.services.workspace_config import (
    apply_workspace_config,
    export_workspace_config,
    system_principal,
)
from accessplane.services.workspace_config_file import config_schema
from accessplane.services.workspaces import create_workspace_rows
from tests.support.db import count
from tests.support.scenario import Scenario, World

SECRET = b"s" * 32


async def populate(scenario: Scenario, world: World) -> str:
    """A workspace with one of everything; returns the app's token."""
    session, owner = scenario.session, world.owner.principal
    ws = world.workspace.id
    await scenario.custom_role(
        world, "CI", [PermissionSpec("getApi"), PermissionSpec("createApiAccess", "^ci-")]
    )
    alice = await scenario.member(world, "Developer", email="alice@example.com")
    bob = await scenario.member(world, "CI", email="bob@example.com")
    team = await scenario.group(world, "Payments team", [alice, bob])
    payments = await scenario.api(world, "Payments")
    orders = await scenario.api(world, "Orders")
    await scenario.grant(world, payments, people=[alice], groups=[team])
    await scenario.grant(world, orders, people=[bob])
    gold = await plans.create_plan(
        session=session,
        actor=owner,
        workspace_id=ws,
        name="gold",
        rate_limit=plans.RateLimit(100, RateLimitPeriod.MINUTE),
    )
    product = await products.create_product(
        session=session,
        actor=owner,
        workspace_id=ws,
        name="Payments API",
        auth_method=AuthMethod.AUTH_TOKEN,
        api_ids=[payments.id],
        published=True,
    )
    client = await scenario.client(world, "Acme", members=[alice])
    issued = await access_profiles.create_access_profile(
        session=session,
        actor=owner,
        secret=scenario.secret,
        client_id=client.id,
        name="prod",
        auth_method=AuthMethod.AUTH_TOKEN,
        allowed_ips=["203.0.113.0/24"],
        product_ids=[product.id],
        plan_id=gold.id,
    )
    await notifications.update_notification_settings(
        session=session,
        actor=owner,
        workspace_id=ws,
        subjects={NotificationKind.APPROVE: "Approved: {{ app_name }}"},
    )
    assert issued.token is not None
    return issued.token


async def test_export_apply_on_an_empty_workspace_gives_the_same_file(
    scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    ws = world.workspace.id
    token = await populate(scenario, world)
    exported = await export_workspace_config(
        session=session, actor=world.owner.principal, workspace_id=ws
    )
    assert token not in exported
    assert "apt_" not in exported
    data = yaml.safe_load(exported)
    assert exported.startswith("# yaml-language-server: $schema=")
    assert data["workspace"] == world.workspace.slug
    assert data["grants"] == {
        "members": {"alice@example.com": ["payments"], "bob@example.com": ["orders"]},
        "groups": {"Payments team": ["payments"]},
    }
    assert data["clients"][0]["apps"][0]["plan"] == "gold"
    assert data["plans"][0]["rateLimit"] == {"requests": 100, "period": "MINUTE"}

    # The same slug on a workspace of its own, empty: apply as the system recreates it all.
    slug = world.workspace.slug
    await session.execute(delete(Workspace).where(Workspace.id == ws))
    await session.commit()
    fresh, _ = await create_workspace_rows(session, name="Fresh", slug=slug)
    await session.commit()
    system = await system_principal(session, fresh.id)
    result = await apply_workspace_config(
        session=session, actor=system, workspace_id=fresh.id, text=exported, secret=SECRET
    )
    assert result.applied
    lines = [c.line() for c in result.changes]
    assert "+ api payments" in lines
    assert "+ role CI" in lines
    assert [(c.client, c.app) for c in result.credentials] == [("Acme", "prod")]
    assert result.credentials[0].token.startswith("apt_")
    again = await export_workspace_config(session=session, actor=system, workspace_id=fresh.id)
    assert again == exported
    # Audited as the system, in the workspace.
    actors = (
        await session.scalars(
            select(AuditEvent.actor_type).where(AuditEvent.workspace_id == fresh.id)
        )
    ).all()
    assert actors
    assert set(actors) == {"SYSTEM"}

    second = await apply_workspace_config(
        session=session, actor=system, workspace_id=fresh.id, text=exported, secret=SECRET
    )
    assert second.changes == []
    assert not second.applied
    events = await count(session, AuditEvent)
    assert events == len(actors)


async def test_drift_shows_as_an_update_and_apply_restores_it(
    scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    ws = world.workspace.id
    await populate(scenario, world)
    owner = world.owner.principal
    text = await export_workspace_config(session=session, actor=owner, workspace_id=ws)
    gold_id = await session.scalar(select(Plan.id).where(Plan.workspace_id == ws))
    assert gold_id is not None
    await plans.update_plan(
        session=session,
        actor=owner,
        plan_id=gold_id,
        rate_limit=plans.RateLimit(200, RateLimitPeriod.MINUTE),
    )
    dry = await apply_workspace_config(
        session=session,
        actor=owner,
        workspace_id=ws,
        text=text,
        secret=SECRET,
        dry_run=True,
    )
    assert [c.line() for c in dry.changes] == ["~ plan gold: rateLimit.requests 200 -> 100"]
    assert not dry.applied
    session.expunge_all()
    stored = await session.get(Plan, gold_id)
    assert stored is not None
    assert stored.rate_limit_requests == 200
    result = await apply_workspace_config(
        session=session, actor=owner, workspace_id=ws, text=text, secret=SECRET
    )
    assert result.applied
    session.expunge_all()
    stored = await session.get(Plan, gold_id)
    assert stored is not None
    assert stored.rate_limit_requests == 100


async def test_prune_deletes_what_the_file_leaves_out(
    scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    ws = world.workspace.id
    await populate(scenario, world)
    owner = world.owner.principal
    data = yaml.safe_load(
        await export_workspace_config(session=session, actor=owner, workspace_id=ws)
    )
    data["apis"] = [a for a in data["apis"] if a["identifier"] != "orders"]
    data["grants"]["members"].pop("bob@example.com")
    data["groups"] = []
    data["grants"]["groups"] = {}
    text = yaml.safe_dump(data)

    kept = await apply_workspace_config(
        session=session, actor=owner, workspace_id=ws, text=text, secret=SECRET
    )
    assert kept.changes == []  # without --prune nothing is deleted
    result = await apply_workspace_config(
        session=session,
        actor=owner,
        workspace_id=ws,
        text=text,
        secret=SECRET,
        prune=True,
    )
    lines = [c.line() for c in result.changes]
    assert "- api orders" in lines
    assert "- group Payments team" in lines
    # The API and the group take their grants along: no separate revokes.
    assert not any(line.startswith("- grant") for line in lines)
    session.expunge_all()
    identifiers = (
        await session.scalars(select(Api.identifier).where(Api.workspace_id == ws))
    ).all()
    assert identifiers == ["payments"]
    assert await count(session, Group) == 0
    assert await count(session, ApiGrant) == 1


async def test_a_bad_file_names_each_error_and_writes_nothing(
    scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    ws = world.workspace.id
    before = await count(session, AuditEvent)
    text = """
version: 1
apis:
  - identifier: good
    name: Good
  - identifier: Not A Slug
    name: Bad
  - identifier: other
plans:
  - name: p
    rateLimit: {requests: 0, period: MINUTE}
"""
    with pytest.raises(InputError) as caught:
        await apply_workspace_config(
            session=session,
            actor=world.owner.principal,
            workspace_id=ws,
            text=text,
            secret=SECRET,
        )
    fields = [e.field for e in caught.value.errors]
    assert fields == ["apis[1].identifier", "apis[2].name", "plans[0].rateLimit.requests"]
    assert await count(session, Api) == 0
    assert await count(session, AuditEvent) == before


async def test_a_service_error_midway_rolls_back_every_change(
    scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    ws = world.workspace.id
    text = """
version: 1
apis:
  - {identifier: one, name: One}
grants:
  members:
    nobody@example.com: [one]
"""
    with pytest.raises(InputError) as caught:
        await apply_workspace_config(
            session=session,
            actor=world.owner.principal,
            workspace_id=ws,
            text=text,
            secret=SECRET,
        )
    assert [e.field for e in caught.value.errors] == ["grants.members.nobody@example.com"]
    assert await count(session, Api) == 0  # the API created first was rolled back


async def test_a_service_refusal_names_the_path_in_the_file(
    scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    text = """
version: 1
plans:
  - name: night
    timeWindow: {days: [MON], start: "22:00", end: "06:00", timeZone: Mars/Olympus}
"""
    with pytest.raises(InputError) as caught:
        await apply_workspace_config(
            session=session,
            actor=world.owner.principal,
            workspace_id=world.workspace.id,
            text=text,
            secret=SECRET,
        )
    assert [e.field for e in caught.value.errors] == ["plans[0].timeWindow.timeZone"]
    assert await count(session, Plan) == 0


async def test_apply_needs_update_workspace_and_each_change_its_permission(
    scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    ws = world.workspace.id
    admin = await scenario.member(world, "Admin")
    text = "version: 1\napis:\n  - {identifier: one, name: One}\n"
    with pytest.raises(Forbidden):
        await apply_workspace_config(
            session=session,
            actor=admin.principal,
            workspace_id=ws,
            text=text,
            secret=SECRET,
        )
    assert await count(session, Api) == 0


async def test_the_file_must_name_the_workspace_it_is_applied_to(
    scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    ws = world.workspace.id
    with pytest.raises(InputError) as caught:
        await apply_workspace_config(
            session=session,
            actor=world.owner.principal,
            workspace_id=ws,
            text="version: 1\nworkspace: elsewhere\n",
            secret=SECRET,
        )
    assert caught.value.errors[0].field == "workspace"


async def test_app_plan_and_product_changes_are_planned_by_name(
    scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    ws = world.workspace.id
    await populate(scenario, world)
    owner = world.owner.principal
    data = yaml.safe_load(
        await export_workspace_config(session=session, actor=owner, workspace_id=ws)
    )
    data["plans"].append({"name": "silver"})
    data["clients"][0]["apps"][0]["plan"] = "silver"
    data["clients"][0]["apps"][0]["allowedIps"] = ["10.0.0.1/32"]
    result = await apply_workspace_config(
        session=session,
        actor=owner,
        workspace_id=ws,
        text=yaml.safe_dump(data),
        secret=SECRET,
    )
    lines = [c.line() for c in result.changes]
    assert lines == [
        "+ plan silver",
        '~ app Acme/prod: allowedIps +10.0.0.1 -203.0.113.0/24; plan "gold" -> "silver"',
    ]
    assert result.credentials == []  # an edited app keeps its token
    session.expunge_all()
    app = await session.scalar(select(AccessProfile))
    assert app is not None
    assert app.allowed_ips == ["10.0.0.1"]
    again = await apply_workspace_config(
        session=session,
        actor=owner,
        workspace_id=ws,
        text=yaml.safe_dump(data),
        secret=SECRET,
    )
    assert again.changes == []


def test_the_committed_json_schema_is_current() -> None:
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "docs" / "workspace-config.schema.json"
    assert path.read_text(encoding="utf-8") == config_schema(), (
        "Regenerate it: accessplane config-schema > docs/workspace-config.schema.json"
    )


async def test_group_members_change_as_a_set_and_an_app_keeps_its_method(
    scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    ws = world.workspace.id
    await populate(scenario, world)
    owner = world.owner.principal
    data = yaml.safe_load(
        await export_workspace_config(session=session, actor=owner, workspace_id=ws)
    )
    data["groups"][0]["members"] = ["bob@example.com", world.owner.user.email]
    result = await apply_workspace_config(
        session=session, actor=owner, workspace_id=ws, text=yaml.safe_dump(data), secret=SECRET
    )
    assert [c.line() for c in result.changes] == [
        f"~ group Payments team: members +{world.owner.user.email} -alice@example.com"
    ]

    data["clients"][0]["apps"][0]["authMethod"] = "JWT"
    events = await count(session, AuditEvent)
    with pytest.raises(InputError) as caught:
        await apply_workspace_config(
            session=session,
            actor=owner,
            workspace_id=ws,
            text=yaml.safe_dump(data),
            secret=SECRET,
            dry_run=True,
        )
    assert [e.field for e in caught.value.errors] == ["clients[0].apps[0].authMethod"]
    assert await count(session, AuditEvent) == events


async def test_a_client_keeps_its_service_members_that_the_file_leaves_out(
    scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    ws = world.workspace.id
    await populate(scenario, world)
    owner = world.owner.principal
    developer = await session.scalar(
        select(Role.id).where(Role.workspace_id == ws, Role.name == "Developer")
    )
    assert developer is not None
    robot = await service_accounts.link_service_account(
        session=session,
        actor=owner,
        workspace_id=ws,
        issuer="https://issuer.example",
        client_id="robot",
        role_id=developer,
        name="Robot",
        known_issuers={"https://issuer.example"},
    )
    acme = await session.scalar(select(Client).where(Client.workspace_id == ws))
    assert acme is not None
    alice = await session.scalar(select(User.id).where(User.email == "alice@example.com"))
    alice_member = await session.scalar(
        select(Member.id).where(Member.workspace_id == ws, Member.user_id == alice)
    )
    assert alice_member is not None
    await clients.update_client(
        session=session, actor=owner, client_id=acme.id, member_ids=[alice_member, robot.id]
    )
    text = await export_workspace_config(session=session, actor=owner, workspace_id=ws)
    data = yaml.safe_load(text)
    assert data["clients"][0]["members"] == ["alice@example.com"]  # service members stay out
    data["clients"][0]["members"] = ["alice@example.com", "bob@example.com"]

    result = await apply_workspace_config(
        session=session, actor=owner, workspace_id=ws, text=yaml.safe_dump(data), secret=SECRET
    )

    assert result.applied
    linked = set(
        (
            await session.scalars(
                select(ClientMember.member_id).where(ClientMember.client_id == acme.id)
            )
        ).all()
    )
    assert robot.id in linked
    assert len(linked) == 3


async def test_an_app_keeps_the_draft_products_its_applier_cannot_see(
    scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    ws = world.workspace.id
    await populate(scenario, world)
    owner = world.owner.principal
    app = await session.scalar(select(AccessProfile).where(AccessProfile.workspace_id == ws))
    published = await session.scalar(select(ApiProduct.id).where(ApiProduct.workspace_id == ws))
    assert app is not None
    assert published is not None
    draft = await products.create_product(
        session=session,
        actor=owner,
        workspace_id=ws,
        name="Refunds beta",
        auth_method=AuthMethod.AUTH_TOKEN,
        published=False,
    )
    await access_profiles.update_access_profile(
        session=session, actor=owner, access_profile_id=app.id, product_ids=[published, draft.id]
    )
    # Everything but manageProducts: drafts are invisible to this operator.
    everything = [
        PermissionSpec(p.value) for p in Permission if p is not Permission.MANAGE_PRODUCTS
    ]
    await scenario.custom_role(world, "Operator", everything, all_apis=True)
    operator = await scenario.member(world, "Operator", email="op@example.com")
    text = await export_workspace_config(session=session, actor=operator.principal, workspace_id=ws)
    data = yaml.safe_load(text)
    assert data["clients"][0]["apps"][0]["products"] == ["Payments API"]
    data["clients"][0]["apps"][0]["allowedIps"] = ["198.51.100.0/24"]

    result = await apply_workspace_config(
        session=session,
        actor=operator.principal,
        workspace_id=ws,
        text=yaml.safe_dump(data),
        secret=SECRET,
    )

    assert result.applied
    linked = set(
        (
            await session.scalars(
                select(AccessProfileProduct.product_id).where(
                    AccessProfileProduct.access_profile_id == app.id
                )
            )
        ).all()
    )
    assert linked == {published, draft.id}
