"""``Workspace.calls``: the call log in GraphQL, its filter, keyset pages, related app and API
(batched), its permission and tenancy, and a fixed statement count per page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.support.calls import START, add_calls
from tests.support.scenario import Scenario, World, gid
from tests.support.statements import statements_per_page

CALLS = """
query Calls($id: ID!, $first: Int, $after: String, $filter: CallFilter) {
  workspace(id: $id) {
    calls(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node {
        id at principalType principalId apiIdentifier operationId method path ip reason allowed
        latencyMicroseconds requestId
        accessProfile { id name }
        api { id identifier }
      } }
    }
  }
}
"""


async def shop(scenario: Scenario, world: World, apps: int = 1) -> tuple[list[Any], Any]:
    """``apps`` apps of one client, and one API."""
    client = await scenario.client(world)
    product = await scenario.product(world)
    made = [
        (await scenario.app(world, client, products=[product])).access_profile for _ in range(apps)
    ]
    return made, await scenario.api(world, "Orders")


async def calls_of(caller, world: World, **variables: Any):  # type: ignore[no-untyped-def]
    return await caller.execute(CALLS, id=world.id, **variables)


async def test_a_call_shows_its_fields_its_app_and_its_api(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    (app,), api = await shop(scenario, world)
    await add_calls(
        session,
        world.workspace.id,
        principal_type="ACCESS_PROFILE",
        principal_id=app.id,
        api_id=api.id,
        api_identifier="orders",
        reason="ip_not_allowed",
        allowed=False,
        ip="2001:db8::5",
    )
    data = (await calls_of(graphql.as_principal(world.owner.principal), world)).ok()
    connection = data["workspace"]["calls"]
    assert connection["totalCount"] == 1
    node = connection["edges"][0]["node"]
    assert node["at"].startswith("2026-03-01T12:00:00")
    assert node["principalType"] == "ACCESS_PROFILE"
    assert node["principalId"] == gid("AccessProfile", app.id)
    assert node["accessProfile"] == {"id": gid("AccessProfile", app.id), "name": app.name}
    assert node["api"] == {"id": gid("Api", api.id), "identifier": api.identifier}
    assert (node["apiIdentifier"], node["method"], node["path"]) == ("orders", "GET", "/orders/0")
    assert (node["ip"], node["reason"], node["allowed"]) == ("2001:db8::5", "ip_not_allowed", False)
    assert (node["latencyMicroseconds"], node["requestId"]) == (100, "req-0")
    assert node["operationId"] is None


async def test_an_api_the_viewer_cannot_reach_and_a_member_call_show_no_link(
    graphql, scenario, session
) -> None:
    world = await scenario.workspace()
    _, api = await shop(scenario, world)
    developer = await scenario.member(world, "Developer")  # reaches no API: no grant
    await add_calls(
        session,
        world.workspace.id,
        principal_type="MEMBER",
        principal_id=developer.member.id,
        api_id=api.id,
    )
    node = (await calls_of(graphql.as_principal(developer.principal), world)).ok()["workspace"][
        "calls"
    ]["edges"][0]["node"]
    assert node["principalId"] == developer.id
    assert (node["accessProfile"], node["api"]) == (None, None)
    owner = (await calls_of(graphql.as_principal(world.owner.principal), world)).ok()
    assert owner["workspace"]["calls"]["edges"][0]["node"]["api"]["id"] == gid("Api", api.id)


async def test_the_filter_narrows_and_pages_follow_the_cursor(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    (app, other), api = await shop(scenario, world, apps=2)
    ws = world.workspace.id
    await add_calls(
        session, ws, 5, principal_type="ACCESS_PROFILE", principal_id=app.id, api_id=api.id
    )
    await add_calls(
        session,
        ws,
        2,
        start=START + timedelta(hours=1),
        principal_type="ACCESS_PROFILE",
        principal_id=other.id,
        reason="rate_limited",
        allowed=False,
        ip="203.0.113.9",
    )
    owner = graphql.as_principal(world.owner.principal)

    async def count(**filter: Any) -> int:
        data = (await calls_of(owner, world, filter=filter)).ok()
        return int(data["workspace"]["calls"]["totalCount"])

    assert await count() == 7
    assert await count(accessProfileIds=[gid("AccessProfile", app.id)]) == 5
    assert await count(apiIds=[gid("Api", api.id)]) == 5
    assert await count(reasons=["rate_limited"], allowed=False) == 2
    assert await count(ip="203.0.113.0/24") == 2
    assert await count(ip="198.51.100.4") == 5
    later = (START + timedelta(minutes=30)).isoformat()
    assert await count(**{"from": later}) == 2
    assert await count(to=later) == 5

    seen, after = [], None
    while True:
        connection = (await calls_of(owner, world, first=3, after=after)).ok()["workspace"]["calls"]
        seen += [edge["node"]["id"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 7
    newest = (await calls_of(owner, world, first=1)).ok()["workspace"]["calls"]["edges"]
    assert newest[0]["node"]["reason"] == "rate_limited"  # newest first


async def test_bad_input_is_bad_user_input_naming_the_field(graphql, scenario) -> None:
    world = await scenario.workspace()
    owner = graphql.as_principal(world.owner.principal)
    for variables, field in (
        ({"filter": {"ip": "10.0.0.0/99"}}, "ip"),
        ({"filter": {"from": "2026-03-01T12:00:00"}}, "from"),
        ({"filter": {"apiIds": [gid("Plan", world.workspace.id)]}}, "apiIds"),
        ({"first": 0}, "first"),
        ({"first": 101}, "first"),
        ({"after": "not-a-cursor"}, "after"),
    ):
        result = await calls_of(owner, world, **variables)
        assert result.error_codes == ["BAD_USER_INPUT"], (variables, result.errors)
        assert result.errors[0]["extensions"]["userErrors"][0]["field"] == field


async def test_viewers_and_other_workspaces_are_refused(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    await add_calls(session, world.workspace.id, 2)
    viewer = await scenario.member(world, "Viewer")
    result = await calls_of(graphql.as_principal(viewer.principal), world)
    assert result.error_codes == ["FORBIDDEN"]
    stranger = await scenario.workspace()
    result = await calls_of(graphql.as_principal(stranger.owner.principal), world)
    assert result.error_codes == ["NOT_FOUND"]
    # The stranger's own log holds none of them.
    own = (await calls_of(graphql.as_principal(stranger.owner.principal), stranger)).ok()
    assert own["workspace"]["calls"]["totalCount"] == 0


async def test_a_page_costs_the_same_for_1_and_50_rows(
    graphql, scenario, session, count_queries
) -> None:
    world = await scenario.workspace()
    apps, api = await shop(scenario, world, apps=5)
    for i in range(50):
        await add_calls(
            session,
            world.workspace.id,
            start=START + timedelta(seconds=i),
            principal_type="ACCESS_PROFILE",
            principal_id=apps[i % 5].id,
            api_id=api.id,
        )
    owner = graphql.as_principal(world.owner.principal)

    async def page(first: int) -> None:
        data = (await calls_of(owner, world, first=first)).ok()
        edges = data["workspace"]["calls"]["edges"]
        assert len(edges) == first
        assert all(e["node"]["accessProfile"] and e["node"]["api"] for e in edges)

    statements = await statements_per_page(count_queries, page, sizes=(1, 50))
    assert statements[1] == statements[50], count_queries.statements
    # the workspace, the page, its total, the apps, the APIs
    assert statements[50] <= 5, count_queries.statements
