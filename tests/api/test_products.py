"""createApiProduct, updateApiProduct, deleteApiProduct and the catalogue (Workspace.products)
over GraphQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from accessplane.models import ApiProduct, ApiProductApi, AuditEvent, AuthMethod
from tests.support.db import count
from tests.support.scenario import Scenario, World, gid
from tests.support.statements import statements_per_page

FIELDS = "id name description authMethod published apis { name identifier }"
CREATE = f"""
mutation Create($input: CreateApiProductInput!) {{
  createApiProduct(input: $input) {{
    apiProduct {{ {FIELDS} }} userErrors {{ field message code }}
  }}
}}
"""
UPDATE = f"""
mutation Update($input: UpdateApiProductInput!) {{
  updateApiProduct(input: $input) {{
    apiProduct {{ {FIELDS} }} userErrors {{ field message code }}
  }}
}}
"""
DELETE = """
mutation Delete($input: DeleteApiProductInput!) {
  deleteApiProduct(input: $input) { deletedApiProductId userErrors { field message code } }
}
"""
LIST = """
query Products($id: ID!, $first: Int, $filter: ApiProductFilter) {
  workspace(id: $id) {
    products(first: $first, filter: $filter) {
      totalCount
      edges { node { name authMethod published apis { name } } }
    }
  }
}
"""
NODE = "query Node($id: ID!) { node(id: $id) { id ... on ApiProduct { name } } }"


def create_input(world: World, **overrides: Any) -> dict[str, Any]:
    return {"workspaceId": world.id, "name": "Payments", "authMethod": "AUTH_TOKEN", **overrides}


async def test_create_product_bundles_apis(graphql, scenario: Scenario, session) -> None:
    world = await scenario.workspace()
    billing, refunds = await scenario.api(world, "Billing"), await scenario.api(world, "Refunds")

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            CREATE,
            input=create_input(
                world,
                description="Take payments",
                published=True,
                apiIds=[gid("Api", refunds.id), gid("Api", billing.id)],
            ),
        )
    ).payload("createApiProduct")

    assert [a["name"] for a in payload["apiProduct"]["apis"]] == ["Billing", "Refunds"]
    row = await session.scalar(select(ApiProduct))
    assert row is not None
    assert (row.name, row.auth_method, row.published) == ("Payments", AuthMethod.AUTH_TOKEN, True)
    assert await count(session, ApiProductApi) == 2
    assert await count(session, AuditEvent, AuditEvent.action == "createApiProduct") == 1


@pytest.mark.parametrize(
    ("override", "field", "code"),
    [
        ({"name": " "}, "name", "REQUIRED"),
        ({"name": "taken"}, "name", "DUPLICATE"),
        ({"description": "x" * 2001}, "description", "TOO_LONG"),
        ({"apiIds": "foreign"}, "apiIds", "NOT_FOUND"),
    ],
)
async def test_create_product_refuses_bad_input_and_writes_nothing(
    graphql, scenario, session, override, field, code
) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    await scenario.product(world, "Taken")
    if override.get("apiIds") == "foreign":
        override = {"apiIds": [gid("Api", (await scenario.api(other)).id)]}
    before = await count(session, ApiProduct), await count(session, AuditEvent)

    result = await graphql.as_principal(world.owner.principal).execute(
        CREATE, input=create_input(world, **override)
    )

    assert [(e["field"], e["code"]) for e in result.user_errors("createApiProduct")] == [
        (field, code)
    ]
    assert (await count(session, ApiProduct), await count(session, AuditEvent)) == before


async def test_update_product_replaces_its_apis_and_publishes_it(graphql, scenario, session):
    world = await scenario.workspace()
    old, new = await scenario.api(world, "Old"), await scenario.api(world, "New")
    product = await scenario.product(world, "Payments", apis=[old], published=False)

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            UPDATE,
            input={
                "id": gid("ApiProduct", product.id),
                "published": True,
                "apiIds": [gid("Api", new.id)],
                "authMethod": "OAUTH2",
            },
        )
    ).payload("updateApiProduct")

    assert payload["apiProduct"]["apis"] == [{"name": "New", "identifier": "new"}]
    row = await session.get(ApiProduct, product.id, populate_existing=True)
    assert row is not None
    assert row.published
    assert row.auth_method is AuthMethod.OAUTH2
    assert (await session.scalars(select(ApiProductApi.api_id))).all() == [new.id]
    assert await count(session, AuditEvent, AuditEvent.action == "updateApiProduct") == 1


async def test_the_auth_method_of_a_product_in_use_cannot_change(graphql, scenario, session):
    world = await scenario.workspace()
    product = await scenario.product(world, "Payments")
    await scenario.app(world, await scenario.client(world), products=[product])

    result = await graphql.as_principal(world.owner.principal).execute(
        UPDATE, input={"id": gid("ApiProduct", product.id), "authMethod": "JWT", "name": "P2"}
    )

    assert [(e["field"], e["code"]) for e in result.user_errors("updateApiProduct")] == [
        ("authMethod", "IN_USE")
    ]
    row = await session.get(ApiProduct, product.id, populate_existing=True)
    assert row is not None
    assert (row.name, row.auth_method) == ("Payments", AuthMethod.AUTH_TOKEN)


async def test_delete_product(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    product = await scenario.product(world, "Payments", apis=[await scenario.api(world)])

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            DELETE, input={"id": gid("ApiProduct", product.id)}
        )
    ).payload("deleteApiProduct")

    assert payload["deletedApiProductId"] == gid("ApiProduct", product.id)
    assert await count(session, ApiProduct) == 0
    assert await count(session, ApiProductApi) == 0
    assert await count(session, AuditEvent, AuditEvent.action == "deleteApiProduct") == 1


async def test_a_product_held_by_an_app_cannot_be_deleted(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    product = await scenario.product(world, "Payments")
    await scenario.app(world, await scenario.client(world), products=[product])

    result = await graphql.as_principal(world.owner.principal).execute(
        DELETE, input={"id": gid("ApiProduct", product.id)}
    )

    assert [(e["field"], e["code"]) for e in result.user_errors("deleteApiProduct")] == [
        ("id", "IN_USE")
    ]
    assert await count(session, ApiProduct) == 1


async def test_consumers_see_the_published_catalogue_only(graphql, scenario) -> None:
    world = await scenario.workspace()
    await scenario.product(world, "Published")
    draft = await scenario.product(world, "Draft", published=False)
    await scenario.product(world, "Ledger", auth_method=AuthMethod.JWT)
    consumer = await scenario.consumer(world)

    def names(data: dict[str, Any]) -> list[str]:
        return [e["node"]["name"] for e in data["workspace"]["products"]["edges"]]

    seen = (await graphql.as_principal(consumer.principal).execute(LIST, id=world.id)).ok()
    assert names(seen) == ["Ledger", "Published"]
    everything = (await graphql.as_principal(world.owner.principal).execute(LIST, id=world.id)).ok()
    assert names(everything) == ["Draft", "Ledger", "Published"]
    jwt_only = (
        await graphql.as_principal(consumer.principal).execute(
            LIST, id=world.id, filter={"authMethod": "JWT"}
        )
    ).ok()
    assert names(jwt_only) == ["Ledger"]
    hidden = await graphql.as_principal(consumer.principal).execute(
        NODE, id=gid("ApiProduct", draft.id)
    )
    assert hidden.error_codes == ["NOT_FOUND"]
    outsider = await graphql.as_principal((await scenario.workspace()).owner.principal).execute(
        LIST, id=world.id
    )
    assert outsider.error_codes == ["NOT_FOUND"]


async def test_the_products_list_costs_the_same_for_10_and_100_rows(
    graphql, scenario: Scenario, count_queries
) -> None:
    world = await scenario.workspace()
    apis = [await scenario.api(world) for _ in range(3)]
    for i in range(100):
        await scenario.product(world, f"Product {i:03}", apis=apis)
    caller = graphql.as_principal(world.owner.principal)

    async def page(first: int) -> None:
        data = (await caller.execute(LIST, id=world.id, first=first)).ok()
        edges = data["workspace"]["products"]["edges"]
        assert len(edges) == first
        assert len(edges[-1]["node"]["apis"]) == 3

    statements = await statements_per_page(count_queries, page)

    assert statements[10] == statements[100] <= 6, statements
