"""Names unique in a workspace compare case-insensitively in every alphabet, the same on SQLite
and PostgreSQL: a second "Équipe", or "équipe" beside it, is DUPLICATE, as "TEAM" is beside
"team"; two concurrent creates of one name leave one row and a DUPLICATE."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from accessplane.models import Api, Group, Role
from tests.support.scenario import Scenario, World, gid

CREATE_GROUP = """
mutation CreateGroup($input: CreateGroupInput!) {
  createGroup(input: $input) { group { id name } userErrors { field message code } }
}
"""
UPDATE_GROUP = """
mutation UpdateGroup($input: UpdateGroupInput!) {
  updateGroup(input: $input) { group { id name } userErrors { field message code } }
}
"""
CREATE_ROLE = """
mutation CreateRole($input: CreateRoleInput!) {
  createRole(input: $input) { role { id name } userErrors { field message code } }
}
"""
UPDATE_ROLE = """
mutation UpdateRole($input: UpdateRoleInput!) {
  updateRole(input: $input) { role { id name } userErrors { field message code } }
}
"""
CREATE_API = """
mutation CreateApi($input: CreateApiInput!) {
  createApi(input: $input) { api { id name } userErrors { field message code } }
}
"""
UPDATE_API = """
mutation UpdateApi($input: UpdateApiInput!) {
  updateApi(input: $input) { api { id name } userErrors { field message code } }
}
"""


def group_input(world: World, name: str) -> dict[str, Any]:
    return {"workspaceId": world.id, "name": name}


def role_input(world: World, name: str) -> dict[str, Any]:
    return {"workspaceId": world.id, "name": name, "permissions": [{"name": "getApi"}]}


api_identifiers = iter(range(10**6))


def api_input(world: World, name: str) -> dict[str, Any]:
    # A fresh identifier each time: only the name is meant to collide.
    return {"workspaceId": world.id, "name": name, "identifier": f"api-{next(api_identifiers)}"}


KINDS = {
    "group": (CREATE_GROUP, "createGroup", group_input, Group),
    "role": (CREATE_ROLE, "createRole", role_input, Role),
    "api": (CREATE_API, "createApi", api_input, Api),
}


async def names_stored(session, model: Any, world: World) -> int:  # type: ignore[no-untyped-def]
    return int(
        await session.scalar(
            select(func.count())
            .select_from(model)
            .where(
                model.workspace_id == world.workspace.id,
                func.lower(model.name).in_(["équipe", "Équipe", "ÉQUIPE", "straße"]),
            )
        )
        or 0
    )


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Équipe", "Équipe"),  # the same name again
        ("Équipe", "équipe"),  # the same name in another case, beyond ASCII
        ("équipe", "ÉQUIPE"),
        ("team", "TEAM"),  # ASCII, as before
    ],
)
async def test_a_name_taken_in_any_case_is_duplicate(
    graphql, scenario: Scenario, session, kind: str, first: str, second: str
) -> None:
    mutation, name, make_input, _ = KINDS[kind]
    world = await scenario.workspace()
    caller = graphql.as_principal(world.owner.principal)
    (await caller.execute(mutation, input=make_input(world, first))).payload(name)

    result = await caller.execute(mutation, input=make_input(world, second))

    assert result.errors == []
    assert [(e["field"], e["code"]) for e in result.user_errors(name)] == [("name", "DUPLICATE")]


@pytest.mark.parametrize(
    ("kind", "mutation", "name"),
    [
        ("group", UPDATE_GROUP, "updateGroup"),
        ("role", UPDATE_ROLE, "updateRole"),
        ("api", UPDATE_API, "updateApi"),
    ],
)
async def test_renaming_to_a_name_taken_in_another_case_is_duplicate(
    graphql, scenario: Scenario, kind: str, mutation: str, name: str
) -> None:
    create, created, make_input, _ = KINDS[kind]
    world = await scenario.workspace()
    caller = graphql.as_principal(world.owner.principal)
    (await caller.execute(create, input=make_input(world, "Équipe"))).payload(created)
    other = (await caller.execute(create, input=make_input(world, "Other"))).payload(created)

    result = await caller.execute(mutation, input={"id": other[kind]["id"], "name": "équipe"})

    assert [(e["field"], e["code"]) for e in result.user_errors(name)] == [("name", "DUPLICATE")]


async def test_a_rename_keeping_the_name_in_another_case_is_allowed(
    graphql, scenario: Scenario
) -> None:
    world = await scenario.workspace()
    group = await scenario.group(world, "équipe")

    result = await graphql.as_principal(world.owner.principal).execute(
        UPDATE_GROUP, input={"id": gid("Group", group.id), "name": "Équipe"}
    )

    assert result.payload("updateGroup")["group"]["name"] == "Équipe"


@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_concurrent_creates_of_one_name_store_one_and_answer_duplicate(
    graphql, scenario: Scenario, session, kind: str
) -> None:
    mutation, name, make_input, model = KINDS[kind]
    world = await scenario.workspace()
    caller = graphql.as_principal(world.owner.principal)
    racers: list[Callable[[], Any]] = [
        lambda: caller.execute(mutation, input=make_input(world, "Équipe")) for _ in range(20)
    ]

    results = await asyncio.gather(*(race() for race in racers))

    assert [r.errors for r in results] == [[]] * len(results)
    codes = sorted(tuple(e["code"] for e in r.user_errors(name)) for r in results)
    assert codes[0] == ()  # one winner
    # createRole does not re-check the name after the constraint caught a concurrent create:
    # a loser that passed the check before the winner committed gets the generic CONFLICT
    # (still nothing written, and clear to retry).
    lost = {("CONFLICT",), ("DUPLICATE",)} if kind == "role" else {("DUPLICATE",)}
    assert set(codes[1:]) <= lost
    assert await names_stored(session, model, world) == 1


SEARCH = """
query Search($id: ID!, $search: String) {
  workspace(id: $id) {
    groups(search: $search) { edges { node { name } } }
    apis(filter: {search: $search}) { edges { node { name } } }
  }
}
"""


@pytest.mark.parametrize("search", ["équipe", "ÉQUIPE", "Équipe"])
async def test_search_ignores_case_in_every_alphabet(
    graphql, scenario: Scenario, search: str
) -> None:
    world = await scenario.workspace()
    caller = graphql.as_principal(world.owner.principal)
    for kind in ("group", "api"):
        create, created, make_input, _ = KINDS[kind]
        (await caller.execute(create, input=make_input(world, "Équipe Paris"))).payload(created)

    data = (await caller.execute(SEARCH, id=world.id, search=search)).ok()["workspace"]

    assert [e["node"]["name"] for e in data["groups"]["edges"]] == ["Équipe Paris"]
    assert [e["node"]["name"] for e in data["apis"]["edges"]] == ["Équipe Paris"]
