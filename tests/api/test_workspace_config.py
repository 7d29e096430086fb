"""applyWorkspaceConfig and exportWorkspaceConfig over GraphQL, as a CI pipeline calls them."""

from __future__ import annotations

import logging

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.models import AccessProfile, Api, AuditEvent
from tests.support.db import count
from tests.support.graphql import GraphQLClient
from tests.support.scenario import Scenario

APPLY = """
mutation Apply($input: ApplyWorkspaceConfigInput!) {
  applyWorkspaceConfig(input: $input) {
    changes { action kind name detail line }
    credentials { client app token }
    applied
    userErrors { field message code }
  }
}
"""
EXPORT = "query Export($id: ID!) { exportWorkspaceConfig(workspaceId: $id) }"

CONFIG = """
version: 1
apis:
  - {identifier: payments, name: Payments}
products:
  - {name: Payments API, authMethod: AUTH_TOKEN, apis: [payments]}
clients:
  - name: Acme
    apps:
      - {name: ci, authMethod: AUTH_TOKEN, products: [Payments API]}
"""


async def test_a_pipeline_key_plans_applies_and_exports(
    graphql: GraphQLClient,
    scenario: Scenario,
    session: AsyncSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    world = await scenario.workspace()
    ci = graphql.as_key(await scenario.api_key(world, "Owner"))
    variables = {"workspaceId": world.id, "config": CONFIG}

    dry = await ci.execute(APPLY, input={**variables, "dryRun": True})
    planned = dry.payload("applyWorkspaceConfig")
    assert [c["line"] for c in planned["changes"]] == [
        "+ api payments",
        "+ product Payments API",
        "+ client Acme",
        "+ app Acme/ci",
    ]
    assert planned["changes"][0] == {
        "action": "create",
        "kind": "api",
        "name": "payments",
        "detail": "",
        "line": "+ api payments",
    }
    assert planned["applied"] is False
    assert planned["credentials"] == []
    assert await count(session, Api) == 0

    applied = (await ci.execute(APPLY, input=variables)).payload("applyWorkspaceConfig")
    assert applied["applied"] is True
    [credential] = applied["credentials"]
    assert (credential["client"], credential["app"]) == ("Acme", "ci")
    assert credential["token"].startswith("apt_")
    assert await count(session, AccessProfile) == 1
    actor_types = (
        await session.scalars(select(AuditEvent.actor_type).where(AuditEvent.action == "createApi"))
    ).all()
    assert actor_types == ["API_ACCESS"]

    again = (await ci.execute(APPLY, input=variables)).payload("applyWorkspaceConfig")
    assert again["changes"] == []
    assert again["applied"] is False

    exported = (await ci.execute(EXPORT, id=world.id)).ok()["exportWorkspaceConfig"]
    data = yaml.safe_load(exported)
    assert data["clients"] == [
        {
            "name": "Acme",
            "apps": [{"name": "ci", "authMethod": "AUTH_TOKEN", "products": ["Payments API"]}],
        }
    ]
    assert credential["token"] not in exported
    assert credential["token"] not in caplog.text


async def test_a_bad_file_answers_user_errors_with_paths(
    graphql: GraphQLClient, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    owner = graphql.as_principal(world.owner.principal)
    config = "version: 1\napis:\n  - {identifier: ok, name: Ok}\n  - {identifier: BAD}\n"

    result = await owner.execute(APPLY, input={"workspaceId": world.id, "config": config})

    errors = result.user_errors("applyWorkspaceConfig")
    assert [(e["field"], e["code"]) for e in errors] == [
        ("apis[1].identifier", "INVALID"),
        ("apis[1].name", "INVALID"),
    ]
    assert await count(session, Api) == 0
    broken = await owner.execute(APPLY, input={"workspaceId": world.id, "config": "[: nope"})
    assert broken.user_errors("applyWorkspaceConfig")[0]["field"] is None


async def test_apply_needs_update_workspace(
    graphql: GraphQLClient, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    admin = await scenario.member(world, "Admin")

    result = await graphql.as_principal(admin.principal).execute(
        APPLY, input={"workspaceId": world.id, "config": CONFIG}
    )

    assert result.error_codes == ["FORBIDDEN"]
    assert await count(session, Api) == 0


async def test_another_workspace_is_not_found(
    graphql: GraphQLClient, scenario: Scenario, session: AsyncSession
) -> None:
    mine = await scenario.workspace()
    theirs = await scenario.workspace()
    caller = graphql.as_principal(mine.owner.principal)

    applied = await caller.execute(APPLY, input={"workspaceId": theirs.id, "config": CONFIG})
    exported = await caller.execute(EXPORT, id=theirs.id)

    assert applied.error_codes == ["NOT_FOUND"]
    assert exported.error_codes == ["NOT_FOUND"]
    assert await count(session, Api) == 0


async def test_export_needs_every_read_permission(
    graphql: GraphQLClient, scenario: Scenario
) -> None:
    world = await scenario.workspace()
    consumer = await scenario.member(world, "Consumer")

    result = await graphql.as_principal(consumer.principal).execute(EXPORT, id=world.id)

    assert result.error_codes == ["FORBIDDEN"]
