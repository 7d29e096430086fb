"""createWebhookEndpoint, updateWebhookEndpoint, rotateWebhookEndpointSecret,
deleteWebhookEndpoint, redeliverWebhook, Workspace.webhookEndpoints and
WebhookEndpoint.deliveries over GraphQL (with private targets refused, as in production)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from accessplane.models import AuditEvent, WebhookDelivery, WebhookEndpoint
from accessplane.services import webhooks
from accessplane.services.webhooks import WebhookPolicy
from accessplane.settings import Settings
from tests.support.db import count
from tests.support.scenario import Scenario, World, gid
from tests.support.statements import statements_per_page

PUBLIC = "https://93.184.215.14/hooks"  # an address literal: nothing to resolve
FIELDS = "id url description eventTypes enabled secretHint createdBy"
ERRORS = "userErrors { field message code }"
CREATE = f"""
mutation Create($input: CreateWebhookEndpointInput!) {{
  createWebhookEndpoint(input: $input) {{ secret webhookEndpoint {{ {FIELDS} }} {ERRORS} }}
}}
"""
UPDATE = f"""
mutation Update($input: UpdateWebhookEndpointInput!) {{
  updateWebhookEndpoint(input: $input) {{ webhookEndpoint {{ {FIELDS} }} {ERRORS} }}
}}
"""
ROTATE = f"""
mutation Rotate($input: RotateWebhookEndpointSecretInput!) {{
  rotateWebhookEndpointSecret(input: $input) {{ secret webhookEndpoint {{ secretHint }} {ERRORS} }}
}}
"""
DELETE = f"""
mutation Delete($input: DeleteWebhookEndpointInput!) {{
  deleteWebhookEndpoint(input: $input) {{ deletedWebhookEndpointId {ERRORS} }}
}}
"""
REDELIVER = f"""
mutation Redeliver($input: RedeliverWebhookInput!) {{
  redeliverWebhook(input: $input) {{ webhookDelivery {{ id status attempts }} {ERRORS} }}
}}
"""
LIST = """
query Endpoints($id: ID!, $first: Int!, $deliveries: Int!, $after: String) {
  workspace(id: $id) {
    webhookEndpoints(first: $first) {
      totalCount
      edges { node {
        id url eventTypes
        deliveries(first: $deliveries, after: $after) {
          totalCount
          pageInfo { hasNextPage endCursor }
          edges { node {
            id eventType messageId status attempts nextAttemptAt lastStatusCode lastError
            createdAt deliveredAt payload
          } }
        }
      } }
    }
  }
}
"""


def create_input(world: World, **override: Any) -> dict[str, Any]:
    return {
        "workspaceId": world.id,
        "url": PUBLIC,
        "eventTypes": ["api_access.*", "audit.createPlan"],
        "description": "Our SIEM",
        **override,
    }


async def an_endpoint(
    scenario: Scenario, world: World, settings: Settings, max_endpoints: int = 20
) -> webhooks.IssuedWebhookEndpoint:
    lenient = settings.model_copy(
        update={"webhook_allow_private_targets": True, "webhook_max_endpoints": max_endpoints}
    )
    return await webhooks.create_endpoint(
        session=scenario.session,
        actor=world.owner.principal,
        policy=WebhookPolicy.from_settings(lenient),
        workspace_id=world.workspace.id,
        url="https://hooks.example.com/in",
        event_types=["*"],
    )


async def test_create_returns_the_secret_once(graphql, scenario: Scenario, session) -> None:
    world = await scenario.workspace()
    caller = graphql.as_principal(world.owner.principal)

    payload = (await caller.execute(CREATE, input=create_input(world))).payload(
        "createWebhookEndpoint"
    )

    endpoint = payload["webhookEndpoint"]
    assert payload["secret"].startswith("whsec_")
    assert endpoint["secretHint"] == payload["secret"][-4:]
    assert (endpoint["url"], endpoint["enabled"]) == (PUBLIC, True)
    assert endpoint["eventTypes"] == ["api_access.*", "audit.createPlan"]
    assert endpoint["createdBy"] == world.owner.user.email
    row = await session.scalar(select(WebhookEndpoint))
    assert row is not None
    assert payload["secret"] not in row.secret_encrypted
    assert await count(session, AuditEvent, AuditEvent.action == "createWebhookEndpoint") == 1
    listed = (await caller.execute(LIST, id=world.id, first=10, deliveries=5)).ok()
    assert "secret" not in str(listed["workspace"]["webhookEndpoints"])


@pytest.mark.parametrize(
    ("override", "field", "code"),
    [
        ({"url": "ftp://example.com/"}, "url", "INVALID"),
        ({"url": "https://u:p@example.com/"}, "url", "INVALID"),
        ({"url": "http://127.0.0.1:8080/"}, "url", "INVALID"),
        ({"url": "http://[::ffff:10.0.0.1]/"}, "url", "INVALID"),
        ({"url": "http://169.254.169.254/latest/meta-data/"}, "url", "INVALID"),
        ({"url": ""}, "url", "REQUIRED"),
        ({"eventTypes": ["api_access.nope"]}, "eventTypes", "INVALID"),
        ({"eventTypes": []}, "eventTypes", "REQUIRED"),
        ({"description": "x" * 1001}, "description", "TOO_LONG"),
    ],
)
async def test_create_refuses_bad_input_and_writes_nothing(
    graphql, scenario, session, override, field, code
) -> None:
    world = await scenario.workspace()
    before = await count(session, WebhookEndpoint), await count(session, AuditEvent)

    result = await graphql.as_principal(world.owner.principal).execute(
        CREATE, input=create_input(world, **override)
    )

    errors = result.user_errors("createWebhookEndpoint")
    assert [(e["field"], e["code"]) for e in errors] == [(field, code)]
    assert result.ok()["createWebhookEndpoint"]["secret"] is None
    assert (await count(session, WebhookEndpoint), await count(session, AuditEvent)) == before


async def test_create_refuses_more_endpoints_than_allowed(
    graphql, scenario, session, settings
) -> None:
    world = await scenario.workspace()
    for _ in range(settings.webhook_max_endpoints):
        await an_endpoint(scenario, world, settings)

    result = await graphql.as_principal(world.owner.principal).execute(
        CREATE, input=create_input(world)
    )

    [error] = result.user_errors("createWebhookEndpoint")
    assert (error["field"], error["code"]) == (None, "INVALID")
    assert await count(session, WebhookEndpoint) == settings.webhook_max_endpoints


async def test_update_rotate_and_delete(graphql, scenario, session, settings) -> None:
    world = await scenario.workspace()
    issued = await an_endpoint(scenario, world, settings)
    endpoint_id = gid("WebhookEndpoint", issued.endpoint.id)
    caller = graphql.as_principal(world.owner.principal)

    updated = (
        await caller.execute(UPDATE, input={"id": endpoint_id, "enabled": False, "url": PUBLIC})
    ).payload("updateWebhookEndpoint")["webhookEndpoint"]
    assert (updated["enabled"], updated["url"], updated["eventTypes"]) == (False, PUBLIC, ["*"])

    refused = await caller.execute(UPDATE, input={"id": endpoint_id, "url": "http://10.0.0.1/"})
    assert [e["field"] for e in refused.user_errors("updateWebhookEndpoint")] == ["url"]
    row = await session.scalar(select(WebhookEndpoint).execution_options(populate_existing=True))
    assert row is not None
    assert row.url == PUBLIC

    rotated = (await caller.execute(ROTATE, input={"id": endpoint_id})).payload(
        "rotateWebhookEndpointSecret"
    )
    assert rotated["secret"] != issued.secret
    assert rotated["webhookEndpoint"]["secretHint"] == rotated["secret"][-4:]

    deleted = (await caller.execute(DELETE, input={"id": endpoint_id})).payload(
        "deleteWebhookEndpoint"
    )
    assert deleted["deletedWebhookEndpointId"] == endpoint_id
    assert await count(session, WebhookEndpoint) == 0
    assert await count(session, WebhookDelivery) == 0  # its deliveries went with it
    actions = {
        a
        for a in await session.scalars(select(AuditEvent.action))
        if "Webhook" in a  # type: ignore[operator]
    }
    assert actions == {
        "createWebhookEndpoint",
        "updateWebhookEndpoint",
        "rotateWebhookEndpointSecret",
        "deleteWebhookEndpoint",
    }


async def test_deliveries_are_listed_newest_first_with_their_outcome(
    graphql, scenario, session, settings
) -> None:
    world = await scenario.workspace()
    await an_endpoint(scenario, world, settings)
    for i in range(3):
        await scenario.plan(world, f"Plan {i}")
    caller = graphql.as_principal(world.owner.principal)

    first = (await caller.execute(LIST, id=world.id, first=10, deliveries=2)).ok()
    [endpoint] = first["workspace"]["webhookEndpoints"]["edges"]
    deliveries = endpoint["node"]["deliveries"]
    assert deliveries["totalCount"] == 4  # its own creation and three plans
    assert deliveries["pageInfo"]["hasNextPage"] is True
    shown = [d["node"] for d in deliveries["edges"]]
    assert [d["eventType"] for d in shown] == ["audit.createPlan", "audit.createPlan"]
    assert shown[0]["createdAt"] >= shown[1]["createdAt"]
    assert shown[0]["status"] == "PENDING"
    assert shown[0]["nextAttemptAt"] is not None
    assert shown[0]["messageId"].startswith("msg_")

    rest = await caller.execute(
        LIST,
        id=world.id,
        first=10,
        deliveries=5,
        after=deliveries["pageInfo"]["endCursor"],
    )
    later = rest.ok()["workspace"]["webhookEndpoints"]["edges"][0]["node"]["deliveries"]
    types = [d["node"]["eventType"] for d in later["edges"]]
    assert types == ["audit.createPlan", "audit.createWebhookEndpoint"]


async def test_redeliver_a_failed_delivery(graphql, scenario, session, settings) -> None:
    world = await scenario.workspace()
    await an_endpoint(scenario, world, settings)
    delivery = await session.scalar(select(WebhookDelivery))
    assert delivery is not None
    delivery_id = gid("WebhookDelivery", delivery.id)
    caller = graphql.as_principal(world.owner.principal)

    pending = await caller.execute(REDELIVER, input={"id": delivery_id})
    assert [e["field"] for e in pending.user_errors("redeliverWebhook")] == ["id"]

    await session.execute(
        update(WebhookDelivery).values(status="FAILED", attempts=8, last_status_code=500)
    )
    await session.commit()
    again = (await caller.execute(REDELIVER, input={"id": delivery_id})).payload("redeliverWebhook")
    assert again["webhookDelivery"] == {"id": delivery_id, "status": "PENDING", "attempts": 0}


async def test_endpoints_and_deliveries_cost_the_same_for_10_and_100_endpoints(
    graphql, scenario, settings, count_queries
) -> None:
    world = await scenario.workspace()
    for _ in range(100):
        await an_endpoint(scenario, world, settings, max_endpoints=100)
    await scenario.plan(world, "Gold")  # one more delivery to each endpoint
    caller = graphql.as_principal(world.owner.principal)

    async def page(first: int) -> None:
        data = (await caller.execute(LIST, id=world.id, first=first, deliveries=5)).ok()
        edges = data["workspace"]["webhookEndpoints"]["edges"]
        assert len(edges) == first
        assert all(e["node"]["deliveries"]["edges"] for e in edges)

    statements = await statements_per_page(count_queries, page)

    assert statements[10] == statements[100]
    # endpoint page, its count, the deliveries' page and their counts; the workspace itself.
    assert statements[100] <= 6, count_queries.statements


APPLY = f"""
mutation Apply($input: ApplyWorkspaceConfigInput!) {{
  applyWorkspaceConfig(input: $input) {{ applied {ERRORS} }}
}}
"""


async def test_a_rolled_back_mutation_writes_no_delivery(
    graphql, scenario, session, settings
) -> None:
    """A dry run of applyWorkspaceConfig records its audit events and rolls them back with
    everything else: no delivery; the real run's events are delivered."""
    world = await scenario.workspace()
    await an_endpoint(scenario, world, settings)
    caller = graphql.as_principal(world.owner.principal)
    config = "version: 1\nplans: [{name: Gold}]\n"
    before = await count(session, WebhookDelivery)

    dry = await caller.execute(
        APPLY, input={"workspaceId": world.id, "config": config, "dryRun": True}
    )
    assert dry.payload("applyWorkspaceConfig")["applied"] is False
    assert await count(session, WebhookDelivery) == before

    real = await caller.execute(APPLY, input={"workspaceId": world.id, "config": config})
    assert real.payload("applyWorkspaceConfig")["applied"] is True
    types = list(await session.scalars(select(WebhookDelivery.event_type)))
    assert types.count("audit.createPlan") == 1


async def test_the_event_types_an_endpoint_may_subscribe_to(graphql, scenario) -> None:
    world = await scenario.workspace()
    query = "query T($id: ID!) { workspace(id: $id) { webhookEventTypes } }"

    data = (await graphql.as_principal(world.owner.principal).execute(query, id=world.id)).ok()

    types = data["workspace"]["webhookEventTypes"]
    assert types == sorted(types)
    assert {"alert.raised", "api_access.expiring", "audit.createPlan"} <= set(types)


@pytest.mark.parametrize(
    ("mutation", "name", "extra"),
    [
        (UPDATE, "updateWebhookEndpoint", {"enabled": False}),
        (ROTATE, "rotateWebhookEndpointSecret", {}),
        (DELETE, "deleteWebhookEndpoint", {}),
        (REDELIVER, "redeliverWebhook", {}),
    ],
)
async def test_an_id_of_another_type_is_a_user_error_and_changes_nothing(
    graphql, scenario, session, settings, mutation, name, extra
) -> None:
    world = await scenario.workspace()
    issued = await an_endpoint(scenario, world, settings)
    before = (
        await count(session, WebhookEndpoint),
        await count(session, WebhookDelivery),
        await count(session, AuditEvent),
    )

    # The endpoint's id where a delivery's is expected, and a workspace's elsewhere.
    wrong = gid("WebhookEndpoint", issued.endpoint.id) if name == "redeliverWebhook" else world.id
    result = await graphql.as_principal(world.owner.principal).execute(
        mutation, input={"id": wrong, **extra}
    )

    assert [(e["field"], e["code"]) for e in result.user_errors(name)] == [("id", "INVALID_ID")]
    after = (
        await count(session, WebhookEndpoint),
        await count(session, WebhookDelivery),
        await count(session, AuditEvent),
    )
    assert after == before
    row = await session.scalar(select(WebhookEndpoint).execution_options(populate_existing=True))
    assert row is not None
    assert (row.enabled, row.secret_encrypted) == (True, issued.endpoint.secret_encrypted)


async def test_update_refuses_bad_event_types_and_keeps_the_endpoint(
    graphql, scenario, session, settings
) -> None:
    world = await scenario.workspace()
    issued = await an_endpoint(scenario, world, settings)
    caller = graphql.as_principal(world.owner.principal)
    endpoint_id = gid("WebhookEndpoint", issued.endpoint.id)

    for event_types, code in (([], "REQUIRED"), (["api_access.nope"], "INVALID")):
        result = await caller.execute(
            UPDATE, input={"id": endpoint_id, "eventTypes": event_types, "description": "x"}
        )
        errors = result.user_errors("updateWebhookEndpoint")
        assert [(e["field"], e["code"]) for e in errors] == [("eventTypes", code)]

    row = await session.scalar(select(WebhookEndpoint).execution_options(populate_existing=True))
    assert row is not None
    assert (row.event_types, row.description) == (["*"], "")
