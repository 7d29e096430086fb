"""linkServiceAccount and setGroupClaimMapping over GraphQL: success, bad input, missing
permission, another workspace, no privilege escalation, audit."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.models import AuditEvent, GroupClaimMapping, Member, ServiceAccount, User
from accessplane.services.roles import PermissionSpec
from accessplane.services.service_accounts import principal_for_client
from accessplane.settings import OidcIssuer, Settings
from tests.conftest import SECRET
from tests.support.db import count
from tests.support.graphql import GraphQLClient
from tests.support.scenario import Scenario, World, gid

ISSUER = "https://idp.example/realms/acme"

LINK = """
mutation Link($input: LinkServiceAccountInput!) {
  linkServiceAccount(input: $input) {
    member { id kind user { email name } role { name } }
    userErrors { field message code }
  }
}
"""

SET_MAPPING = """
mutation Map($input: SetGroupClaimMappingInput!) {
  setGroupClaimMapping(input: $input) {
    group { id name }
    issuer
    claimValues
    userErrors { field message code }
  }
}
"""


@pytest.fixture
def settings(database_url: str) -> Settings:
    """One trusted issuer (no provider needed: these mutations only store mappings)."""
    return Settings(  # type: ignore[call-arg]
        environment="test",
        database_url=database_url,
        secret_key=SecretStr(SECRET),
        oidc_issuers=[OidcIssuer(issuer=ISSUER, client_id="accessplane")],
    )


def link_input(world: World, **changes: Any) -> dict[str, Any]:
    return {
        "workspaceId": world.id,
        "issuer": ISSUER,
        "clientId": "partner-billing",
        "roleId": world.role_id("Viewer"),
        "name": "Billing partner",
        **changes,
    }


def codes(errors: list[dict[str, Any]]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in errors]


async def test_link_service_account(
    graphql: GraphQLClient, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    workspace_id = world.workspace.id

    result = await graphql.as_principal(world.owner.principal).execute(
        LINK, input=link_input(world)
    )

    member = result.payload("linkServiceAccount")["member"]
    assert member["kind"] == "SERVICE"
    assert member["role"] == {"name": "Viewer"}
    assert member["user"]["name"] == "Billing partner"
    assert member["user"]["email"].endswith("@service-accounts.invalid")
    session.expire_all()
    link = await session.scalar(select(ServiceAccount))
    assert link is not None
    assert (link.workspace_id, link.issuer, link.client_id) == (
        workspace_id,
        ISSUER,
        "partner-billing",
    )
    assert gid("Member", link.member_id) == member["id"]
    user = await session.scalar(select(User).join(Member).where(Member.id == link.member_id))
    assert user is not None
    assert (user.issuer, user.subject) == (None, None)  # nobody can log in as it
    events = (
        await session.scalars(select(AuditEvent).where(AuditEvent.action == "linkServiceAccount"))
    ).all()
    assert [(e.target_id, e.after) for e in events] == [
        (
            link.member_id,
            {
                "issuer": ISSUER,
                "clientId": "partner-billing",
                "name": "Billing partner",
                "role": "Viewer",
            },
        )
    ]


async def test_one_client_linked_in_two_workspaces_has_both_memberships(
    graphql: GraphQLClient, scenario: Scenario, session: AsyncSession
) -> None:
    first, second = await scenario.workspace(), await scenario.workspace()
    expected = {first.workspace.id, second.workspace.id}
    for world in (first, second):
        result = await graphql.as_principal(world.owner.principal).execute(
            LINK, input=link_input(world)
        )
        result.payload("linkServiceAccount")

    principal = await principal_for_client(session, ISSUER, "partner-billing")
    assert principal is not None
    assert set(principal.memberships) == expected
    assert await count(session, User, User.email.like("%@service-accounts.invalid")) == 1


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"issuer": "https://unknown.example"}, [("issuer", "NOT_FOUND")]),
        ({"clientId": "  "}, [("clientId", "REQUIRED")]),
        ({"clientId": "x" * 256}, [("clientId", "TOO_LONG")]),
        ({"name": ""}, [("name", "REQUIRED")]),
        ({"issuer": "", "name": ""}, [("issuer", "REQUIRED"), ("name", "REQUIRED")]),
    ],
)
async def test_link_service_account_refuses_bad_input(
    graphql: GraphQLClient,
    scenario: Scenario,
    session: AsyncSession,
    changes: dict[str, Any],
    expected: list[tuple[str, str]],
) -> None:
    world = await scenario.workspace()

    result = await graphql.as_principal(world.owner.principal).execute(
        LINK, input=link_input(world, **changes)
    )

    assert codes(result.user_errors("linkServiceAccount")) == expected
    assert result.ok()["linkServiceAccount"]["member"] is None
    assert await count(session, ServiceAccount) == 0
    assert await count(session, Member, Member.kind == "SERVICE") == 0


async def test_link_service_account_refuses_a_duplicate_and_foreign_role(
    graphql: GraphQLClient, scenario: Scenario, session: AsyncSession
) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    caller = graphql.as_principal(world.owner.principal)
    (await caller.execute(LINK, input=link_input(world))).payload("linkServiceAccount")

    duplicate = await caller.execute(LINK, input=link_input(world))
    foreign_role = await caller.execute(
        LINK, input=link_input(world, clientId="other", roleId=other.role_id("Viewer"))
    )
    not_a_role = await caller.execute(LINK, input=link_input(world, roleId=world.id))

    assert codes(duplicate.user_errors("linkServiceAccount")) == [("clientId", "DUPLICATE")]
    assert codes(foreign_role.user_errors("linkServiceAccount")) == [("roleId", "NOT_FOUND")]
    assert codes(not_a_role.user_errors("linkServiceAccount")) == [("roleId", "INVALID_ID")]
    assert await count(session, ServiceAccount) == 1


async def test_link_service_account_cannot_hand_out_a_role_beyond_the_actor(
    graphql: GraphQLClient, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    await scenario.custom_role(
        world,
        "People manager",
        [PermissionSpec("manageMembers"), PermissionSpec("getRole"), PermissionSpec("getMember")],
    )
    manager = await scenario.member(world, "People manager")

    result = await graphql.as_principal(manager.principal).execute(
        LINK, input=link_input(world, roleId=world.role_id("Owner"))
    )

    assert codes(result.user_errors("linkServiceAccount")) == [
        ("roleId", "OUT_OF_SCOPE_PERMISSION"),
        ("allApis", "OUT_OF_SCOPE_PERMISSION"),
    ]
    assert await count(session, ServiceAccount) == 0


async def test_removing_the_service_member_unlinks_the_client(
    graphql: GraphQLClient, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    caller = graphql.as_principal(world.owner.principal)
    member = (await caller.execute(LINK, input=link_input(world))).payload("linkServiceAccount")

    removed = await caller.execute(
        "mutation($input: RemoveMemberInput!) { removeMember(input: $input) "
        "{ userErrors { code } } }",
        input={"id": member["member"]["id"]},
    )

    assert removed.payload("removeMember")
    assert await count(session, ServiceAccount) == 0


# setGroupClaimMapping


async def mapping_of(session: AsyncSession) -> list[tuple[str, str]]:
    session.expire_all()
    rows = await session.scalars(select(GroupClaimMapping).order_by(GroupClaimMapping.claim_value))
    return [(m.issuer, m.claim_value) for m in rows]


async def test_set_group_claim_mapping_replaces_the_values(
    graphql: GraphQLClient, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    group = await scenario.group(world, "Billing")
    caller = graphql.as_principal(world.owner.principal)
    group_id = gid("Group", group.id)

    first = await caller.execute(
        SET_MAPPING,
        input={"groupId": group_id, "issuer": ISSUER, "claimValues": ["billing", " finance "]},
    )
    second = await caller.execute(
        SET_MAPPING, input={"groupId": group_id, "issuer": ISSUER, "claimValues": ["billing"]}
    )

    assert first.payload("setGroupClaimMapping") == {
        "group": {"id": group_id, "name": "Billing"},
        "issuer": ISSUER,
        "claimValues": ["billing", "finance"],
        "userErrors": [],
    }
    assert second.payload("setGroupClaimMapping")["claimValues"] == ["billing"]
    assert await mapping_of(session) == [(ISSUER, "billing")]
    events = (
        await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "setGroupClaimMapping")
            .order_by(AuditEvent.at)
        )
    ).all()
    assert [(e.before, e.after) for e in events] == [
        (
            {"issuer": ISSUER, "claimValues": []},
            {"issuer": ISSUER, "claimValues": ["billing", "finance"]},
        ),
        (
            {"issuer": ISSUER, "claimValues": ["billing", "finance"]},
            {"issuer": ISSUER, "claimValues": ["billing"]},
        ),
    ]

    cleared = await caller.execute(
        SET_MAPPING, input={"groupId": group_id, "issuer": ISSUER, "claimValues": []}
    )
    assert cleared.payload("setGroupClaimMapping")["claimValues"] == []
    assert await mapping_of(session) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"issuer": "https://unknown.example"}, [("issuer", "NOT_FOUND")]),
        ({"claimValues": [""]}, [("claimValues", "REQUIRED")]),
        ({"claimValues": ["x" * 256]}, [("claimValues", "TOO_LONG")]),
        ({"claimValues": [f"g{i}" for i in range(51)]}, [("claimValues", "TOO_LONG")]),
        ({"groupId": "V29ya3NwYWNlOjE="}, [("groupId", "INVALID_ID")]),
    ],
)
async def test_set_group_claim_mapping_refuses_bad_input(
    graphql: GraphQLClient,
    scenario: Scenario,
    session: AsyncSession,
    changes: dict[str, Any],
    expected: list[tuple[str, str]],
) -> None:
    world = await scenario.workspace()
    group = await scenario.group(world)
    values = {"groupId": gid("Group", group.id), "issuer": ISSUER, "claimValues": ["a"]}

    result = await graphql.as_principal(world.owner.principal).execute(
        SET_MAPPING, input={**values, **changes}
    )

    assert codes(result.user_errors("setGroupClaimMapping")) == expected
    assert await mapping_of(session) == []
