"""Authenticating GraphQL calls with platform API keys."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from accessplane.models import AuditEvent
from accessplane.models.base import utcnow
from tests.support.scenario import Scenario

VIEWER = "{ viewer { kind name memberships { roleName allApis permissions } } }"


async def test_an_api_key_acts_with_its_role(graphql, scenario: Scenario) -> None:
    world = await scenario.workspace()
    token = await scenario.api_key(world, role="Viewer", name="ci reader")

    data = (await graphql.as_key(token).execute(VIEWER)).ok()

    assert data["viewer"]["kind"] == "API_ACCESS"
    assert data["viewer"]["name"] == "ci reader"
    [membership] = data["viewer"]["memberships"]
    assert membership["roleName"] == "Viewer"
    assert "getApi" in membership["permissions"]
    assert "createApi" not in membership["permissions"]


async def test_an_api_key_is_limited_to_its_role(graphql, scenario) -> None:
    world = await scenario.workspace()
    token = await scenario.api_key(world, role="Viewer")

    result = await graphql.as_key(token).execute(
        "mutation($i: CreateApiInput!) { createApi(input: $i) { api { id } } }",
        i={"workspaceId": world.id, "name": "Billing", "identifier": "billing"},
    )

    assert result.error_codes == ["FORBIDDEN"]


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Basic dXNlcjpwYXNz", "malformed"),
        ("Bearer ", "malformed"),
        ("Bearer apk_short", "malformed"),
        ("Bearer apk_000000000000000000000000000000000000", "malformed"),
    ],
)
async def test_bad_credentials_are_unauthenticated_with_a_reason(
    http, scenario, header: str, reason: str
) -> None:
    await scenario.workspace()

    response = await http.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": header}
    )

    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED", "reason": reason}


async def test_a_well_formed_but_unknown_key_is_unauthenticated(graphql, scenario) -> None:
    world = await scenario.workspace()
    token = await scenario.api_key(world)
    other_secret = Scenario(session=scenario.session, secret=b"another-secret" * 3)
    foreign_token = await other_secret.api_key(world)  # stored under another server secret

    result = await graphql.as_key(foreign_token).execute(VIEWER)

    assert result.errors[0]["extensions"] == {
        "code": "UNAUTHENTICATED",
        "reason": "unknown_credential",
    }
    assert (await graphql.as_key(token).execute(VIEWER)).errors == []


async def test_an_expired_key_is_unauthenticated(graphql, scenario) -> None:
    world = await scenario.workspace()
    token = await scenario.api_key(world, expires_at=utcnow() - timedelta(seconds=1))

    result = await graphql.as_key(token).execute(VIEWER)

    assert result.errors[0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "expired"}


async def test_no_credential_is_unauthenticated(graphql) -> None:
    result = await graphql.anonymous().execute(VIEWER)

    assert result.errors[0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "missing"}


async def test_the_audit_log_records_the_key_ip_and_request_id(
    graphql, scenario, http, session
) -> None:
    world = await scenario.workspace()
    token = await scenario.api_key(world, name="deployer")

    response = await http.post(
        "/graphql",
        json={
            "query": "mutation($i: CreateGroupInput!) { createGroup(input: $i) { group { id } } }",
            "variables": {"i": {"workspaceId": world.id, "name": "Ops"}},
        },
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-42"},
    )

    assert response.headers["x-request-id"] == "req-42"
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "createGroup"))
    assert event is not None
    assert (event.actor_type, event.actor_name) == ("API_ACCESS", "deployer")
    assert (event.ip, event.request_id) == ("203.0.113.7", "req-42")
