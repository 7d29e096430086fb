"""createApi, updateApi, deleteApi and Workspace.apis over GraphQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from accessplane.models import Api, ApiGrant, AuditEvent
from accessplane.services import apis
from tests.support.db import count
from tests.support.scenario import Scenario, gid

CREATE = """
mutation Create($input: CreateApiInput!) {
  createApi(input: $input) {
    api { id name identifier baseUrl description }
    userErrors { field message code }
  }
}
"""
UPDATE = """
mutation Update($input: UpdateApiInput!) {
  updateApi(input: $input) { api { id name identifier } userErrors { field message code } }
}
"""
DELETE = """
mutation Delete($input: DeleteApiInput!) {
  deleteApi(input: $input) { deletedApiId userErrors { field message code } }
}
"""
LIST = """
query Apis($id: ID!, $first: Int, $after: String, $filter: ApiFilter) {
  workspace(id: $id) {
    apis(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node { name identifier } }
    }
  }
}
"""


async def test_create_api_stores_it_and_audits_it(graphql, scenario: Scenario, session) -> None:
    world = await scenario.workspace()

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            CREATE,
            input={
                "workspaceId": world.id,
                "name": "Billing",
                "identifier": "billing",
                "baseUrl": "https://billing.example.com",
                "description": "Invoices",
            },
        )
    ).payload("createApi")

    assert payload["api"]["identifier"] == "billing"
    stored = await session.scalar(select(Api).where(Api.identifier == "billing"))
    assert stored is not None
    assert stored.workspace_id == world.workspace.id
    assert stored.base_url == "https://billing.example.com"
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "createApi"))
    assert event is not None
    assert event.target_id == stored.id
    assert event.actor_id == world.owner.member.id


async def test_a_developer_who_creates_an_api_is_granted_it(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    developer = await scenario.member(world, "Developer")

    (
        await graphql.as_principal(developer.principal).execute(
            CREATE,
            input={"workspaceId": world.id, "name": "Mine", "identifier": "mine"},
        )
    ).payload("createApi")

    listed = (await graphql.as_principal(developer.principal).execute(LIST, id=world.id)).ok()
    assert [e["node"]["name"] for e in listed["workspace"]["apis"]["edges"]] == ["Mine"]
    assert await count(session, ApiGrant) == 1


@pytest.mark.parametrize(
    ("override", "field", "code"),
    [
        ({"name": "  "}, "name", "REQUIRED"),
        ({"name": "x" * 101}, "name", "TOO_LONG"),
        ({"identifier": "Not A Slug"}, "identifier", "INVALID"),
        ({"identifier": "-billing"}, "identifier", "INVALID"),
        ({"baseUrl": "ftp://example.com"}, "baseUrl", "INVALID"),
        ({"name": "Taken"}, "name", "DUPLICATE"),
        ({"identifier": "taken"}, "identifier", "DUPLICATE"),
    ],
)
async def test_create_api_refuses_bad_input_and_writes_nothing(
    graphql, scenario, session, override, field, code
) -> None:
    world = await scenario.workspace()
    await scenario.api(world, "Taken")
    apis_before, events_before = await count(session, Api), await count(session, AuditEvent)

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            CREATE,
            input={"workspaceId": world.id, "name": "Billing", "identifier": "billing", **override},
        )
    ).user_errors("createApi")

    assert [(e["field"], e["code"]) for e in errors] == [(field, code)]
    assert await count(session, Api) == apis_before
    assert await count(session, AuditEvent) == events_before


async def test_update_api(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    api = await scenario.api(world, "Billing")

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            UPDATE, input={"id": gid("Api", api.id), "name": "Invoicing"}
        )
    ).payload("updateApi")

    assert payload["api"]["name"] == "Invoicing"
    await session.refresh(api)
    assert api.name == "Invoicing"
    assert api.identifier == "billing"


async def test_update_api_refuses_a_duplicate_identifier(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    api = await scenario.api(world, "Billing")
    await scenario.api(world, "Orders")

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            UPDATE, input={"id": gid("Api", api.id), "identifier": "orders"}
        )
    ).user_errors("updateApi")

    assert [(e["field"], e["code"]) for e in errors] == [("identifier", "DUPLICATE")]
    await session.refresh(api)
    assert api.identifier == "billing"


async def test_update_api_needs_permission_and_access(graphql, scenario) -> None:
    world = await scenario.workspace()
    api = await scenario.api(world, "Billing")
    viewer = await scenario.member(world, "Viewer")
    developer = await scenario.member(world, "Developer")
    await scenario.grant(world, api, people=[viewer])
    variables = {"input": {"id": gid("Api", api.id), "name": "Renamed"}}

    forbidden = await graphql.as_principal(viewer.principal).execute(UPDATE, **variables)
    hidden = await graphql.as_principal(developer.principal).execute(UPDATE, **variables)

    assert forbidden.error_codes == ["FORBIDDEN"]
    assert hidden.error_codes == ["NOT_FOUND"]  # has updateApi, but no grant to this API


async def test_delete_api_removes_it_and_its_grants(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    api = await scenario.api(world, "Billing")
    person = await scenario.member(world)
    await scenario.grant(world, api, people=[person], groups=[await scenario.group(world)])

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            DELETE, input={"id": gid("Api", api.id)}
        )
    ).payload("deleteApi")

    assert payload["deletedApiId"] == gid("Api", api.id)
    assert await count(session, Api) == 0
    assert await count(session, ApiGrant) == 0


async def test_a_malformed_or_wrong_type_id_is_a_user_error(graphql, scenario) -> None:
    world = await scenario.workspace()

    errors = (
        await graphql.as_principal(world.owner.principal).execute(DELETE, input={"id": world.id})
    ).user_errors("deleteApi")

    assert [(e["field"], e["code"]) for e in errors] == [("id", "INVALID_ID")]


async def test_list_shows_only_reachable_apis(graphql, scenario) -> None:
    world = await scenario.workspace()
    granted, _hidden = await scenario.api(world, "Granted"), await scenario.api(world, "Hidden")
    person = await scenario.member(world)
    await scenario.grant(world, granted, people=[person])

    mine = (await graphql.as_principal(person.principal).execute(LIST, id=world.id)).ok()
    everything = (await graphql.as_principal(world.owner.principal).execute(LIST, id=world.id)).ok()

    assert [e["node"]["name"] for e in mine["workspace"]["apis"]["edges"]] == ["Granted"]
    assert mine["workspace"]["apis"]["totalCount"] == 1
    assert everything["workspace"]["apis"]["totalCount"] == 2


async def test_list_filters_by_people_groups_and_search(graphql, scenario) -> None:
    world = await scenario.workspace()
    billing, orders = await scenario.api(world, "Billing"), await scenario.api(world, "Orders")
    await scenario.api(world, "Users")
    person = await scenario.member(world)
    team = await scenario.group(world, "Team")
    await scenario.grant(world, billing, people=[person])
    await scenario.grant(world, orders, groups=[team])
    caller = graphql.as_principal(world.owner.principal)

    async def names(filter: dict) -> list[str]:  # type: ignore[type-arg]
        data = (await caller.execute(LIST, id=world.id, filter=filter)).ok()
        return [e["node"]["name"] for e in data["workspace"]["apis"]["edges"]]

    assert await names({"peopleIds": [person.id]}) == ["Billing"]
    assert await names({"groupIds": [gid("Group", team.id)]}) == ["Orders"]
    assert await names({"search": "USE"}) == ["Users"]
    assert await names({"search": "orders"}) == ["Orders"]
    assert await names({}) == ["Billing", "Orders", "Users"]


async def test_search_treats_wildcards_as_characters(graphql, scenario) -> None:
    world = await scenario.workspace()
    for name, identifier in (("Rate 100% api", "full-rate"), ("Rate 1000 api", "high-rate")):
        await apis.create_api(
            session=scenario.session,
            actor=world.owner.principal,
            workspace_id=world.workspace.id,
            name=name,
            identifier=identifier,
        )
    caller = graphql.as_principal(world.owner.principal)

    data = (await caller.execute(LIST, id=world.id, filter={"search": "100%"})).ok()

    assert [e["node"]["name"] for e in data["workspace"]["apis"]["edges"]] == ["Rate 100% api"]


async def test_list_pages_by_cursor(graphql, scenario) -> None:
    world = await scenario.workspace()
    for name in ("Delta", "Alpha", "Charlie", "Bravo", "Echo"):
        await scenario.api(world, name)
    caller = graphql.as_principal(world.owner.principal)

    seen: list[str] = []
    after = None
    while True:
        page = (await caller.execute(LIST, id=world.id, first=2, after=after)).ok()
        apis = page["workspace"]["apis"]
        seen += [e["node"]["name"] for e in apis["edges"]]
        assert apis["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not apis["pageInfo"]["hasNextPage"]:
            break
        after = apis["pageInfo"]["endCursor"]

    assert seen == ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]


@pytest.mark.parametrize("first", [0, 101, -1])
async def test_page_size_is_bounded(graphql, scenario, first: int) -> None:
    world = await scenario.workspace()

    result = await graphql.as_principal(world.owner.principal).execute(
        LIST, id=world.id, first=first
    )

    assert result.error_codes == ["BAD_USER_INPUT"]


async def test_a_forged_cursor_is_refused(graphql, scenario) -> None:
    world = await scenario.workspace()

    result = await graphql.as_principal(world.owner.principal).execute(
        LIST, id=world.id, after="not-a-cursor"
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
