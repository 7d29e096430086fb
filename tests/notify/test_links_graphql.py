"""A request submitted through GraphQL is mailed with a link built from the serving app's own
settings and the ids the API itself returns."""

from __future__ import annotations

import pytest

from accessplane.notify.outbox import Worker
from accessplane.settings import Settings
from tests.notify.conftest import SmtpServer
from tests.notify.test_links import NOW, assert_links_to
from tests.support.graphql import GraphQLClient
from tests.support.scenario import Scenario, gid


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"public_url": "https://access.example.com/"})


async def test_a_request_submitted_over_graphql_links_with_the_ids_the_api_returns(
    graphql: GraphQLClient,
    scenario: Scenario,
    smtp: SmtpServer,
    worker: Worker,
) -> None:
    world = await scenario.workspace("Acme")
    client = await scenario.client(world, "Partner")
    consumer = await scenario.consumer(world, client)
    product = await scenario.product(world, "Payments")
    plan = await scenario.plan(world, "Gold")

    result = await graphql.as_principal(consumer.principal).execute(
        """
        mutation Submit($input: SubmitAccessRequestInput!) {
          submitAccessRequest(input: $input) {
            accessRequest { id }
            userErrors { field message code }
          }
        }
        """,
        input={
            "productIds": [gid("ApiProduct", product.id)],
            "planId": gid("Plan", plan.id),
            "newAccessProfile": {"clientId": gid("Client", client.id), "name": "Mobile"},
        },
    )
    request = result.payload("submitAccessRequest")["accessRequest"]
    await worker.run_once(NOW)

    [message] = smtp.messages
    assert_links_to(
        message,
        f"https://access.example.com/workspaces/{gid('Workspace', world.workspace.id)}"
        f"/access-requests/{request['id']}",
    )
