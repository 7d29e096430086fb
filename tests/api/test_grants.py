"""grantApiAccess, revokeApiAccess, revokeAllApiAccess, explainAccess and Member.apis."""

from __future__ import annotations

from sqlalchemy import func, select

from accessplane.models import ApiGrant, AuditEvent
from accessplane.services import groups
from tests.support.scenario import Person, Scenario, World, gid

GRANT = """
mutation Grant($input: GrantApiAccessInput!) {
  grantApiAccess(input: $input) {
    api { name peopleCount groupsCount }
    memberIds groupIds
    userErrors { field message code }
  }
}
"""
REVOKE = """
mutation Revoke($input: RevokeApiAccessInput!) {
  revokeApiAccess(input: $input) {
    api { peopleCount groupsCount } memberIds groupIds userErrors { field message code }
  }
}
"""
REVOKE_ALL = """
mutation RevokeAll($input: RevokeAllApiAccessInput!) {
  revokeAllApiAccess(input: $input) {
    api { peopleCount groupsCount } memberIds groupIds userErrors { field message code }
  }
}
"""
EXPLAIN = """
query Explain($workspace: ID!, $member: ID!, $api: ID!) {
  workspace(id: $workspace) {
    explainAccess(memberId: $member, apiId: $api) {
      hasAccess
      paths { kind group { name } role { name } grantedBy grantedAt }
    }
  }
}
"""
MEMBER_APIS = """
query MemberApis($id: ID!) {
  node(id: $id) { ... on Member { apis(first: 10) { totalCount edges { node { name } } } } }
}
"""


async def grant_count(session) -> int:  # type: ignore[no-untyped-def]
    return int(await session.scalar(select(func.count()).select_from(ApiGrant)) or 0)


async def member_api_names(graphql, viewer: Person, member: Person) -> list[str]:  # type: ignore[no-untyped-def]
    data = (await graphql.as_principal(viewer.principal).execute(MEMBER_APIS, id=member.id)).ok()
    return [e["node"]["name"] for e in data["node"]["apis"]["edges"]]


async def setup(scenario: Scenario) -> tuple[World, object, Person, object]:
    world = await scenario.workspace()
    api = await scenario.api(world, "Billing")
    person = await scenario.member(world)
    team = await scenario.group(world, "Team")
    return world, api, person, team


async def test_grant_to_members_and_groups_in_one_call(graphql, scenario, session) -> None:
    world, api, person, team = await setup(scenario)

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            GRANT,
            input={
                "apiId": gid("Api", api.id),
                "memberIds": [person.id],
                "groupIds": [gid("Group", team.id)],
            },
        )
    ).payload("grantApiAccess")

    assert payload["api"]["peopleCount"] == 1
    assert payload["api"]["groupsCount"] == 1
    assert payload["memberIds"] == [person.id]
    assert payload["groupIds"] == [gid("Group", team.id)]
    assert await grant_count(session) == 2
    assert await member_api_names(graphql, world.owner, person) == ["Billing"]
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "grantApiAccess"))
    assert event is not None
    assert event.after == {"memberIds": [str(person.member.id)], "groupIds": [str(team.id)]}


async def test_granting_twice_keeps_one_grant(graphql, scenario, session) -> None:
    world, api, person, _ = await setup(scenario)
    caller = graphql.as_principal(world.owner.principal)
    variables = {"input": {"apiId": gid("Api", api.id), "memberIds": [person.id]}}

    await caller.execute(GRANT, **variables)
    second = (await caller.execute(GRANT, **variables)).payload("grantApiAccess")

    assert second["memberIds"] == []
    assert await grant_count(session) == 1


async def test_grant_with_a_foreign_member_changes_nothing(graphql, scenario, session) -> None:
    world, api, person, _ = await setup(scenario)
    other = await scenario.workspace()
    stranger = await scenario.member(other)

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            GRANT,
            input={"apiId": gid("Api", api.id), "memberIds": [person.id, stranger.id]},
        )
    ).user_errors("grantApiAccess")

    assert [(e["field"], e["code"]) for e in errors] == [("memberIds", "NOT_FOUND")]
    assert await grant_count(session) == 0


async def test_grant_without_grantees_or_with_a_wrong_id_type(graphql, scenario, session) -> None:
    world, api, person, _ = await setup(scenario)
    caller = graphql.as_principal(world.owner.principal)

    empty = (await caller.execute(GRANT, input={"apiId": gid("Api", api.id)})).user_errors(
        "grantApiAccess"
    )
    wrong = (
        await caller.execute(GRANT, input={"apiId": gid("Api", api.id), "groupIds": [person.id]})
    ).user_errors("grantApiAccess")

    assert [(e["field"], e["code"]) for e in empty] == [("memberIds", "REQUIRED")]
    assert [(e["field"], e["code"]) for e in wrong] == [("groupIds", "INVALID_ID")]
    assert await grant_count(session) == 0


async def test_revoke_many_in_one_call(graphql, scenario, session) -> None:
    world, api, person, team = await setup(scenario)
    second = await scenario.member(world)
    await scenario.grant(world, api, people=[person, second], groups=[team])

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            REVOKE,
            input={
                "apiId": gid("Api", api.id),
                "memberIds": [person.id, second.id],
                "groupIds": [gid("Group", team.id)],
            },
        )
    ).payload("revokeApiAccess")

    assert payload["api"] == {"peopleCount": 0, "groupsCount": 0}
    assert sorted(payload["memberIds"]) == sorted([person.id, second.id])
    assert await grant_count(session) == 0


async def test_revoke_with_an_unknown_group_changes_nothing(graphql, scenario, session) -> None:
    world, api, person, team = await setup(scenario)
    await scenario.grant(world, api, people=[person], groups=[team])
    other = await scenario.workspace()
    foreign_group = await scenario.group(other, "Foreign")

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            REVOKE,
            input={
                "apiId": gid("Api", api.id),
                "memberIds": [person.id],
                "groupIds": [gid("Group", foreign_group.id)],
            },
        )
    ).user_errors("revokeApiAccess")

    assert [(e["field"], e["code"]) for e in errors] == [("groupIds", "NOT_FOUND")]
    assert await grant_count(session) == 2


async def test_revoke_all_needs_the_literal_confirmation(graphql, scenario, session) -> None:
    world, api, person, team = await setup(scenario)
    await scenario.grant(world, api, people=[person], groups=[team])
    caller = graphql.as_principal(world.owner.principal)

    refused = (
        await caller.execute(
            REVOKE_ALL, input={"apiId": gid("Api", api.id), "confirmation": "revoke"}
        )
    ).user_errors("revokeAllApiAccess")
    assert [(e["field"], e["code"]) for e in refused] == [("confirmation", "CONFIRMATION_REQUIRED")]
    assert await grant_count(session) == 2

    done = (
        await caller.execute(
            REVOKE_ALL, input={"apiId": gid("Api", api.id), "confirmation": "REVOKE"}
        )
    ).payload("revokeAllApiAccess")
    assert done["api"] == {"peopleCount": 0, "groupsCount": 0}
    assert await grant_count(session) == 0
    assert await member_api_names(graphql, world.owner, person) == []


async def test_explain_access_over_graphql(graphql, scenario) -> None:
    world, api, person, team = await setup(scenario)
    await groups.add_group_members(
        session=scenario.session,
        actor=world.owner.principal,
        group_id=team.id,
        member_ids=[person.member.id],
    )
    await scenario.grant(world, api, people=[person], groups=[team])

    data = (
        await graphql.as_principal(world.owner.principal).execute(
            EXPLAIN, workspace=world.id, member=person.id, api=gid("Api", api.id)
        )
    ).ok()

    explanation = data["workspace"]["explainAccess"]
    assert explanation["hasAccess"] is True
    assert [(p["kind"], (p["group"] or {}).get("name")) for p in explanation["paths"]] == [
        ("DIRECT", None),
        ("GROUP", "Team"),
    ]
    assert explanation["paths"][0]["grantedBy"] == world.owner.user.email


async def test_explain_access_of_another_workspace_is_not_found(graphql, scenario) -> None:
    world, _, person, _ = await setup(scenario)
    other = await scenario.workspace()
    foreign_api = await scenario.api(other, "Foreign")

    result = await graphql.as_principal(world.owner.principal).execute(
        EXPLAIN, workspace=world.id, member=person.id, api=gid("Api", foreign_api.id)
    )

    assert result.error_codes == ["NOT_FOUND"]


async def test_member_apis_is_direct_union_groups_and_hides_what_the_viewer_cannot_reach(
    graphql, scenario
) -> None:
    world = await scenario.workspace()
    direct, via_group, hidden = (
        await scenario.api(world, "Direct"),
        await scenario.api(world, "Via group"),
        await scenario.api(world, "Hidden"),
    )
    person = await scenario.member(world)
    team = await scenario.group(world, "Team", [person])
    await scenario.grant(world, direct, people=[person])
    await scenario.grant(world, via_group, groups=[team])
    await scenario.grant(world, hidden, people=[person])
    colleague = await scenario.member(world, "Admin")
    await scenario.grant(world, direct, people=[colleague])
    await scenario.grant(world, via_group, people=[colleague])

    assert await member_api_names(graphql, world.owner, person) == ["Direct", "Hidden", "Via group"]
    # The colleague sees the member, but not the API they themselves cannot reach.
    assert await member_api_names(graphql, await scenario.refresh(colleague), person) == [
        "Direct",
        "Via group",
    ]


async def test_member_apis_lists_an_api_reached_twice_once_and_all_apis_for_an_owner(
    graphql, scenario
) -> None:
    world = await scenario.workspace()
    billing, orders = await scenario.api(world, "Billing"), await scenario.api(world, "Orders")
    person = await scenario.member(world)
    team = await scenario.group(world, "Team", [person])
    await scenario.grant(world, billing, people=[person], groups=[team])
    query = """query($id: ID!) { node(id: $id) { ... on Member {
      apis(first: 10) { totalCount edges { node { name } } } } } }"""
    caller = graphql.as_principal(world.owner.principal)

    reached_twice = (await caller.execute(query, id=person.id)).ok()["node"]["apis"]
    owner = (await caller.execute(query, id=world.owner.id)).ok()["node"]["apis"]

    assert reached_twice == {"totalCount": 1, "edges": [{"node": {"name": "Billing"}}]}
    assert owner["totalCount"] == 2
    assert [e["node"]["name"] for e in owner["edges"]] == [billing.name, orders.name]
