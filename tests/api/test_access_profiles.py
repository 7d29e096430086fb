"""createAccessProfile, updateAccessProfile, refreshAccessProfileToken, deleteAccessProfile
and the apps under Client.accessProfiles, over GraphQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from accessplane.auth.tokens import TokenKind, parse_token, token_digest
from accessplane.models import (
    AccessProfile,
    AccessProfileProduct,
    AccessProfileRevocation,
    AuditEvent,
    AuthMethod,
)
from tests.conftest import SECRET
from tests.support.db import count
from tests.support.scenario import Scenario, gid

FIELDS = """
  id name authMethod allowedIps trustedIssuer audience tokenClientId requiredScopes tokenHint
  client { name } plan { name } products { name }
"""
CREATE = f"""
mutation Create($input: CreateAccessProfileInput!) {{
  createAccessProfile(input: $input) {{
    token accessProfile {{ {FIELDS} }} userErrors {{ field message code }}
  }}
}}
"""
UPDATE = f"""
mutation Update($input: UpdateAccessProfileInput!) {{
  updateAccessProfile(input: $input) {{
    accessProfile {{ {FIELDS} }} userErrors {{ field message code }}
  }}
}}
"""
REFRESH = """
mutation Refresh($input: RefreshAccessProfileTokenInput!) {
  refreshAccessProfileToken(input: $input) {
    token accessProfile { id tokenHint } userErrors { field message code }
  }
}
"""
DELETE = """
mutation Delete($input: DeleteAccessProfileInput!) {
  deleteAccessProfile(input: $input) { deletedAccessProfileId userErrors { field message code } }
}
"""
NODE = "query Node($id: ID!) { node(id: $id) { id ... on AccessProfile { name tokenHint } } }"


async def stored(session: Any, profile_id: Any) -> AccessProfile:
    row = await session.get(AccessProfile, profile_id, populate_existing=True)
    await session.commit()
    assert row is not None
    return row


# --- createAccessProfile --------------------------------------------------------------------


async def test_create_an_auth_token_app_returns_its_token_once(
    graphql, scenario: Scenario, session
):
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")
    product = await scenario.product(world, "Payments")
    plan = await scenario.plan(world, "Gold")

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            CREATE,
            input={
                "clientId": gid("Client", client.id),
                "name": "Mobile",
                "authMethod": "AUTH_TOKEN",
                "allowedIps": ["203.0.113.7, 198.51.100.0/24", "2001:DB8:0:0::/32", "10.0.0.1/32"],
                "productIds": [gid("ApiProduct", product.id)],
                "planId": gid("Plan", plan.id),
            },
        )
    ).payload("createAccessProfile")

    token = payload["token"]
    assert parse_token(token) is TokenKind.ACCESS_PROFILE
    app = payload["accessProfile"]
    assert app["tokenHint"] == token[-4:]
    assert app["allowedIps"] == ["203.0.113.7", "198.51.100.0/24", "2001:db8::/32", "10.0.0.1"]
    assert (app["client"]["name"], app["plan"]["name"]) == ("Partner", "Gold")
    assert app["products"] == [{"name": "Payments"}]
    row = await session.scalar(select(AccessProfile))
    assert row is not None
    assert row.token_digest == token_digest(token, SECRET.encode())
    assert (row.client_id, row.plan_id) == (client.id, plan.id)
    assert await count(session, AccessProfileProduct) == 1
    event = await session.scalar(
        select(AuditEvent).where(AuditEvent.action == "createAccessProfile")
    )
    assert event is not None
    assert event.after is not None
    assert event.after["tokenHint"] == token[-4:]
    assert token not in str(event.after)
    # The token is never readable again.
    again = (await graphql.as_principal(world.owner.principal).execute(NODE, id=app["id"])).ok()
    assert again["node"] == {"id": app["id"], "name": "Mobile", "tokenHint": token[-4:]}


async def test_create_a_token_method_app_keeps_its_issuer_settings(graphql, scenario, session):
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            CREATE,
            input={
                "clientId": gid("Client", client.id),
                "name": "Backend",
                "authMethod": "OIDC",
                "trustedIssuer": "https://idp.partner.example",
                "audience": "payments",
                "tokenClientId": "backend-svc",
                "requiredScopes": ["payments:read", "payments:read", "refunds"],
            },
        )
    ).payload("createAccessProfile")

    assert payload["token"] is None
    assert payload["accessProfile"]["tokenHint"] is None
    row = await session.scalar(select(AccessProfile))
    assert row is not None
    assert row.token_digest is None
    assert (row.trusted_issuer, row.audience, row.token_client_id, row.required_scopes) == (
        "https://idp.partner.example",
        "payments",
        "backend-svc",
        ["payments:read", "refunds"],
    )


@pytest.mark.parametrize(
    ("override", "field", "code"),
    [
        ({"name": ""}, "name", "REQUIRED"),
        ({"name": "Taken"}, "name", "DUPLICATE"),
        ({"allowedIps": ["10.0.0.300"]}, "allowedIps", "INVALID"),
        ({"allowedIps": ["10.0.0.1/24"]}, "allowedIps", "INVALID"),  # host bits set
        ({"allowedIps": ["fe80::1/129"]}, "allowedIps", "INVALID"),
        ({"trustedIssuer": "https://idp.example"}, "trustedIssuer", "INVALID"),
        ({"authMethod": "JWT"}, "trustedIssuer", "REQUIRED"),
        ({"authMethod": "JWT", "trustedIssuer": "http://idp"}, "trustedIssuer", "INVALID"),
        ({"productIds": ["jwt"]}, "productIds", "INVALID"),
        ({"planId": "foreign"}, "planId", "NOT_FOUND"),
        # The token's client id, not the client (clientId) the app belongs to.
        (
            {
                "authMethod": "OIDC",
                "trustedIssuer": "https://idp.example",
                "tokenClientId": "c" * 256,
            },
            "tokenClientId",
            "TOO_LONG",
        ),
    ],
)
async def test_create_refuses_bad_input_and_writes_nothing(
    graphql, scenario, session, override, field, code
) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    client = await scenario.client(world, "Partner")
    await scenario.app(world, client, "Taken")
    if override.get("productIds") == ["jwt"]:
        jwt = await scenario.product(world, "Ledger", auth_method=AuthMethod.JWT)
        override = {"productIds": [gid("ApiProduct", jwt.id)]}
    if override.get("planId") == "foreign":
        override = {"planId": gid("Plan", (await scenario.plan(other)).id)}
    before = await count(session, AccessProfile), await count(session, AuditEvent)

    result = await graphql.as_principal(world.owner.principal).execute(
        CREATE,
        input={
            "clientId": gid("Client", client.id),
            "name": "Mobile",
            "authMethod": "AUTH_TOKEN",
            **override,
        },
    )

    assert [(e["field"], e["code"]) for e in result.user_errors("createAccessProfile")] == [
        (field, code)
    ]
    assert result.ok()["createAccessProfile"]["token"] is None
    assert (await count(session, AccessProfile), await count(session, AuditEvent)) == before


async def test_create_needs_manage_clients(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")
    consumer = await scenario.consumer(world, client)

    result = await graphql.as_principal(consumer.principal).execute(
        CREATE,
        input={"clientId": gid("Client", client.id), "name": "Mine", "authMethod": "AUTH_TOKEN"},
    )

    assert result.error_codes == ["FORBIDDEN"]
    assert await count(session, AccessProfile) == 0


# --- updateAccessProfile --------------------------------------------------------------------


async def test_update_changes_what_is_given_and_bumps_the_version(graphql, scenario, session):
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")
    first, second = await scenario.product(world, "A"), await scenario.product(world, "B")
    app = (await scenario.app(world, client, "Mobile", products=[first])).access_profile

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            UPDATE,
            input={
                "id": gid("AccessProfile", app.id),
                "name": "Mobile v2",
                "allowedIps": ["192.0.2.0/24,2001:db8::1"],
                "productIds": [gid("ApiProduct", second.id)],
            },
        )
    ).payload("updateAccessProfile")

    assert payload["accessProfile"]["products"] == [{"name": "B"}]
    row = await stored(session, app.id)
    assert (row.name, row.allowed_ips, row.version) == (
        "Mobile v2",
        ["192.0.2.0/24", "2001:db8::1"],
        2,
    )
    assert row.token_digest == app.token_digest  # the token does not change
    assert await count(session, AuditEvent, AuditEvent.action == "updateAccessProfile") == 1


async def test_update_refuses_bad_input_and_changes_nothing(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")
    app = (await scenario.app(world, client, "Mobile")).access_profile

    result = await graphql.as_principal(world.owner.principal).execute(
        UPDATE,
        input={
            "id": gid("AccessProfile", app.id),
            "name": "Renamed",
            "allowedIps": ["not-an-ip"],
            "audience": "x",
        },
    )

    assert {(e["field"], e["code"]) for e in result.user_errors("updateAccessProfile")} == {
        ("allowedIps", "INVALID"),
        ("trustedIssuer", "INVALID"),
    }
    row = await stored(session, app.id)
    assert (row.name, row.allowed_ips, row.version) == ("Mobile", [], 1)


# --- refreshAccessProfileToken --------------------------------------------------------------


async def test_refresh_revokes_the_old_token_and_returns_a_new_one(graphql, scenario, session):
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")
    consumer = await scenario.consumer(world, client)
    issued = await scenario.app(world, client, "Mobile")

    # The client's own consumer may rotate its app's token.
    payload = (
        await graphql.as_principal(consumer.principal).execute(
            REFRESH, input={"id": gid("AccessProfile", issued.access_profile.id)}
        )
    ).payload("refreshAccessProfileToken")

    token = payload["token"]
    assert token != issued.token
    assert parse_token(token) is TokenKind.ACCESS_PROFILE
    assert payload["accessProfile"]["tokenHint"] == token[-4:]
    row = await stored(session, issued.access_profile.id)
    assert row.token_digest == token_digest(token, SECRET.encode())
    assert row.version == 2
    revocation = await session.get(
        AccessProfileRevocation, token_digest(issued.token or "", SECRET.encode())
    )
    assert revocation is not None
    assert revocation.reason == "refreshed"
    assert await count(session, AuditEvent, AuditEvent.action == "refreshAccessProfileToken") == 1


async def test_refresh_of_a_token_method_app_is_a_user_error(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    app = (
        await scenario.app(world, await scenario.client(world), auth_method=AuthMethod.JWT)
    ).access_profile

    result = await graphql.as_principal(world.owner.principal).execute(
        REFRESH, input={"id": gid("AccessProfile", app.id)}
    )

    assert [(e["field"], e["code"]) for e in result.user_errors("refreshAccessProfileToken")] == [
        ("id", "INVALID")
    ]
    assert (await stored(session, app.id)).version == 1


async def test_refresh_of_someone_elses_app_is_not_found(graphql, scenario, session) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    issued = await scenario.app(world, await scenario.client(world, "Partner"), "Mobile")
    outsider = await scenario.consumer(world, await scenario.client(world, "Other"))

    for caller in (other.owner, outsider):
        result = await graphql.as_principal(caller.principal).execute(
            REFRESH, input={"id": gid("AccessProfile", issued.access_profile.id)}
        )
        assert result.error_codes == ["NOT_FOUND"]
    assert (await stored(session, issued.access_profile.id)).version == 1


# --- deleteAccessProfile --------------------------------------------------------------------


async def test_delete_revokes_the_token(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    issued = await scenario.app(world, await scenario.client(world), "Mobile")

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            DELETE, input={"id": gid("AccessProfile", issued.access_profile.id)}
        )
    ).payload("deleteAccessProfile")

    assert payload["deletedAccessProfileId"] == gid("AccessProfile", issued.access_profile.id)
    assert await count(session, AccessProfile) == 0
    revocation = await session.get(
        AccessProfileRevocation, token_digest(issued.token or "", SECRET.encode())
    )
    assert revocation is not None
    assert revocation.reason == "deleted"
    assert await count(session, AuditEvent, AuditEvent.action == "deleteAccessProfile") == 1


async def test_delete_with_another_types_id_is_a_user_error(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    app = (await scenario.app(world, await scenario.client(world))).access_profile

    result = await graphql.as_principal(world.owner.principal).execute(
        DELETE, input={"id": gid("Client", app.id)}
    )

    assert [(e["field"], e["code"]) for e in result.user_errors("deleteAccessProfile")] == [
        ("id", "INVALID_ID")
    ]
    assert await count(session, AccessProfile) == 1


async def test_delete_needs_manage_clients(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    client = await scenario.client(world)
    app = (await scenario.app(world, client)).access_profile
    consumer = await scenario.consumer(world, client)

    result = await graphql.as_principal(consumer.principal).execute(
        DELETE, input={"id": gid("AccessProfile", app.id)}
    )

    assert result.error_codes == ["FORBIDDEN"]
    assert await count(session, AccessProfile) == 1


# --- bounded input ----------------------------------------------------------------------------


def many_addresses(count: int) -> str:
    """``count`` distinct IPv4 addresses in one comma-separated entry."""
    return ",".join(f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}" for i in range(count))


@pytest.mark.parametrize(
    "entries",
    [
        [many_addresses(40_000)],  # one entry of about 500 KB
        [",".join(["not-an-ip"] * 40_000)],
        ["10.0.0.1"] * 101,
    ],
    ids=["40k-addresses", "40k-invalid", "101-entries"],
)
async def test_too_many_allowed_ips_are_one_user_error_before_any_is_parsed(
    graphql, scenario, session, entries: list[str]
) -> None:
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")
    app = (await scenario.app(world, client, "Mobile")).access_profile
    owner = graphql.as_principal(world.owner.principal)
    before = await count(session, AccessProfile), await count(session, AuditEvent)

    created = (
        await owner.execute(
            CREATE,
            input={
                "clientId": gid("Client", client.id),
                "name": "Web",
                "authMethod": "AUTH_TOKEN",
                "allowedIps": entries,
            },
        )
    ).user_errors("createAccessProfile")
    updated = (
        await owner.execute(
            UPDATE, input={"id": gid("AccessProfile", app.id), "allowedIps": entries}
        )
    ).user_errors("updateAccessProfile")

    given = 101 if len(entries) == 101 else 40_000
    for errors in (created, updated):
        assert errors == [
            {
                "field": "allowedIps",
                "message": f"At most 100 addresses or ranges ({given} given).",
                "code": "INVALID",
            }
        ]
    assert (await count(session, AccessProfile), await count(session, AuditEvent)) == before
    assert (await stored(session, app.id)).allowed_ips == []


async def test_a_huge_invalid_address_is_refused_with_a_short_excerpt(
    graphql, scenario, session
) -> None:
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            CREATE,
            input={
                "clientId": gid("Client", client.id),
                "name": "Web",
                "authMethod": "AUTH_TOKEN",
                "allowedIps": ["10.0.0.1", "f" * 1_000_000, "10.0.0.1/33"],
            },
        )
    ).user_errors("createAccessProfile")

    assert [(e["field"], e["code"]) for e in errors] == [("allowedIps", "INVALID")] * 2
    assert errors[0]["message"] == (
        f"'{'f' * 39}…' is not an IP address or CIDR range: it is too long."
    )
    assert errors[1]["message"].startswith("'10.0.0.1/33' is not an IP address or CIDR range")
    assert await count(session, AccessProfile) == 0


async def test_too_many_required_scopes_are_one_user_error(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            CREATE,
            input={
                "clientId": gid("Client", client.id),
                "name": "Backend",
                "authMethod": "JWT",
                "trustedIssuer": "https://idp.partner.example",
                "requiredScopes": ["bad scope"] * 10_000,
            },
        )
    ).user_errors("createAccessProfile")

    assert errors == [
        {
            "field": "requiredScopes",
            "message": "At most 50 scopes (10000 given).",
            "code": "INVALID",
        }
    ]
    assert await count(session, AccessProfile) == 0


async def test_a_huge_invalid_scope_is_echoed_as_a_short_excerpt(graphql, scenario) -> None:
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            CREATE,
            input={
                "clientId": gid("Client", client.id),
                "name": "Backend",
                "authMethod": "JWT",
                "trustedIssuer": "https://idp.partner.example",
                "requiredScopes": ['"' * 1_000_000],
            },
        )
    ).user_errors("createAccessProfile")

    assert [(e["field"], e["code"]) for e in errors] == [("requiredScopes", "INVALID")]
    assert len(errors[0]["message"]) < 100
