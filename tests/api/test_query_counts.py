"""Every list costs a fixed number of SQL statements, whatever the page size (no N+1)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from accessplane.services import groups
from tests.support.scenario import Scenario, World
from tests.support.statements import statements_per_page

API_TABLE = """
query ApiTable($id: ID!, $first: Int!) {
  workspace(id: $id) {
    apis(first: $first) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node {
        name identifier peopleCount groupsCount
        people(first: 5) { totalCount edges { node { id user { email } } } }
        groups(first: 5) { totalCount edges { node { name } } }
      } }
    }
  }
}
"""

MEMBER_APIS = """
query MemberApis($id: ID!, $first: Int!) {
  workspace(id: $id) {
    members(first: $first) {
      edges { node { id role { name } apis(first: 5) { totalCount edges { node { name } } }
                     groups(first: 5) { totalCount edges { node { name } } } } }
    }
  }
}
"""


async def populate(scenario: Scenario, world: World, apis: int) -> None:
    """``apis`` APIs, each granted to six people directly and to six groups."""
    people = [await scenario.member(world) for _ in range(6)]
    teams = [await scenario.group(world, f"Team {i}", people[i:]) for i in range(6)]
    for i in range(apis):
        api = await scenario.api(world, f"Api {i:03}")
        await scenario.grant(world, api, people=people, groups=teams)


def pages(graphql, world: World, query: str) -> Callable[[int], Awaitable[None]]:
    """One request for a page of ``first`` rows of the workspace's APIs or members."""
    caller = graphql.as_principal(world.owner.principal)

    async def page(first: int) -> None:
        data = (await caller.execute(query, id=world.id, first=first)).ok()
        workspace = data["workspace"]
        connection = workspace[next(k for k in ("apis", "members") if k in workspace)]
        assert len(connection["edges"]) == first

    return page


@pytest.mark.parametrize("query", [API_TABLE], ids=["api-table"])
async def test_api_table_costs_the_same_for_10_and_100_rows(
    graphql, scenario, count_queries, query: str
) -> None:
    world = await scenario.workspace()
    await populate(scenario, world, apis=100)

    statements = await statements_per_page(count_queries, pages(graphql, world, query))

    assert statements[10] == statements[100]
    # one each: API page, total count, people page, people count, groups page, groups count,
    # users of the people shown; the workspace itself.
    assert statements[100] <= 8, count_queries.statements


async def test_api_table_rows_carry_counts_and_first_five(graphql, scenario) -> None:
    world = await scenario.workspace()
    await populate(scenario, world, apis=3)

    data = (
        await graphql.as_principal(world.owner.principal).execute(API_TABLE, id=world.id, first=10)
    ).ok()

    rows = data["workspace"]["apis"]["edges"]
    assert [r["node"]["name"] for r in rows] == ["Api 000", "Api 001", "Api 002"]
    for row in rows:
        node = row["node"]
        assert node["peopleCount"] == 6
        assert node["groupsCount"] == 6
        assert len(node["people"]["edges"]) == 5
        assert node["people"]["totalCount"] == 6
        assert [g["node"]["name"] for g in node["groups"]["edges"]] == [
            f"Team {i}" for i in range(5)
        ]


async def test_member_apis_and_groups_cost_the_same_for_10_and_100_members(
    graphql, scenario, count_queries
) -> None:
    world = await scenario.workspace()
    team = await scenario.group(world, "Everyone")
    people = [await scenario.member(world) for _ in range(100)]
    await groups.add_group_members(
        session=scenario.session,
        actor=world.owner.principal,
        group_id=team.id,
        member_ids=[p.member.id for p in people],
    )
    for i in range(3):
        api = await scenario.api(world, f"Api {i}")
        await scenario.grant(world, api, groups=[team], people=people[:50])

    statements = await statements_per_page(count_queries, pages(graphql, world, MEMBER_APIS))

    assert statements[10] == statements[100]
    assert statements[100] <= 10, count_queries.statements
