"""JWT credentials: apps' tokens from their trusted issuer (signature, iss, aud, exp, scopes,
mapped by client_id/azp or sub), and workspace members' OIDC tokens for the APIs granted to
them directly or through groups. The issuer is a real HTTP server with real RSA keys."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from joserfc.jwk import RSAKey
from sqlalchemy import select

from accessplane.models import Api, AuthMethod
from accessplane.services import access_profiles, grants, groups
from accessplane.settings import OidcIssuer, Settings
from tests.conftest import SECRET, QueryCounter
from tests.support.gateway import PEER, Gate
from tests.support.issuer import LocalIssuer, local_issuer
from tests.support.scenario import Person, Scenario, World

MEMBER_AUDIENCE = "urn:accessplane:api"


@pytest.fixture
async def issuer() -> AsyncIterator[LocalIssuer]:
    async with local_issuer() as running:
        yield running


@pytest.fixture
def settings(database_url: str, issuer: LocalIssuer) -> Settings:
    # The same issuer is trusted by an app and is the workspace's OpenID Provider.
    return Settings(
        environment="test",
        database_url=database_url,
        secret_key=SECRET,  # type: ignore[arg-type]
        trusted_proxies=[PEER],
        oidc_issuers=[OidcIssuer(issuer=issuer.url, audience=[MEMBER_AUDIENCE])],
    )


@pytest.fixture
async def world(scenario: Scenario) -> World:
    world = await scenario.workspace()
    await scenario.api(world, "Orders")
    await scenario.api(world, "Billing")
    return world


async def partner_app(scenario: Scenario, world: World, issuer: LocalIssuer) -> None:
    orders = await scenario.api(world, "Partner Orders")
    product = await scenario.product(world, apis=[orders], auth_method=AuthMethod.JWT)
    client = await scenario.client(world)
    await access_profiles.create_access_profile(
        session=scenario.session,
        actor=world.owner.principal,
        secret=scenario.secret,
        client_id=client.id,
        name="partner",
        auth_method=AuthMethod.JWT,
        token=access_profiles.TokenSettings(
            trusted_issuer=issuer.url,
            audience="orders-api",
            client_id="partner-app",
            required_scopes=["orders:read"],
        ),
        product_ids=[product.id],
    )


async def test_an_app_s_jwt_is_checked_like_the_issuer_means_it(
    gate: Gate, scenario: Scenario, world: World, issuer: LocalIssuer
) -> None:
    await partner_app(scenario, world, issuer)
    api = "partner-orders"

    def token(**claims: object) -> str:
        defaults: dict[str, object] = {
            "client_id": "partner-app",
            "sub": "partner-app",
            "aud": "orders-api",
            "scope": "orders:read orders:write",
        }
        return issuer.token(**{**defaults, **claims})

    assert await gate.both(token(), api=api) == "ok"
    checked = await gate.check(token(), api=api)
    assert checked["principal"]["name"] == "partner"
    # Named by azp, or by sub alone, it is the same app.
    assert await gate.both(token(client_id=None, azp="partner-app"), api=api) == "ok"
    assert await gate.both(token(client_id=None), api=api) == "ok"
    assert await gate.both(token(aud=["other", "orders-api"]), api=api) == "ok"
    assert await gate.both(token(scp=["orders:read"], scope=None), api=api) == "ok"

    assert await gate.both(token(scope="orders:write"), api=api) == "insufficient_scope"
    assert await gate.both(token(aud="billing-api"), api=api) == "invalid_token"
    assert await gate.both(token(iss=issuer.url + "/other"), api=api) == "unknown_credential"
    past = int(time.time()) - 3600
    assert await gate.both(token(exp=past, iat=past - 60), api=api) == "expired"
    forged = issuer.token(
        RSAKey.generate_key(2048, parameters={"kid": issuer.key.kid}),
        client_id="partner-app",
        aud="orders-api",
        scope="orders:read",
    )
    assert await gate.both(forged, api=api) == "invalid_token"
    # A client no app knows: this issuer is also the workspace's provider, whose tokens
    # for unknown subjects are unknown too.
    stranger = token(client_id="someone-else", sub="x", aud=MEMBER_AUDIENCE)
    assert await gate.both(stranger, api=api) == "unknown_credential"
    assert await gate.both(token(), api="orders") == "api_not_granted"


async def test_forged_jwts_cost_no_sql(
    gate: Gate,
    scenario: Scenario,
    world: World,
    issuer: LocalIssuer,
    count_queries: QueryCounter,
) -> None:
    await partner_app(scenario, world, issuer)
    claims = {"client_id": "partner-app", "aud": "orders-api", "scope": "orders:read"}
    assert await gate.both(issuer.token(**claims), api="partner-orders") == "ok"
    stranger = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    with count_queries:
        for n in range(3):
            forged = issuer.token(stranger, client_id=f"invented-{n}")
            assert await gate.both(forged, api="partner-orders") == "invalid_token"
        assert await gate.both(issuer.token(**claims), api="partner-orders") == "ok"
    assert count_queries.count == 0


async def member_of(scenario: Scenario, world: World, issuer: str, subject: str) -> Person:
    """A member who logged in through the workspace's OpenID Provider as ``subject``."""
    person = await scenario.member(world)
    person.user.issuer, person.user.subject = issuer, subject
    scenario.session.add(person.user)
    await scenario.session.commit()
    return person


async def test_members_reach_the_apis_granted_to_them_directly_or_through_groups(
    gate: Gate, scenario: Scenario, world: World, issuer: LocalIssuer
) -> None:
    alice = await member_of(scenario, world, issuer.url, "alice")
    apis = {api.identifier: api for api in await _apis(scenario, world)}
    token = issuer.token(sub="alice", aud=MEMBER_AUDIENCE, email="alice@example.com")

    assert await gate.both(token) == "api_not_granted"  # a role alone grants no API
    await scenario.grant(world, apis["orders"], people=[alice])
    assert await gate.both(token) == "ok"
    checked = await gate.check(token)
    assert checked["principal"]["type"] == "MEMBER"
    assert checked["rateLimit"] is None

    # Through a group, and not after leaving it.
    team = await scenario.group(world, people=[alice])
    assert await gate.both(token, api="billing") == "api_not_granted"
    await scenario.grant(world, apis["billing"], groups=[team])
    assert await gate.both(token, api="billing") == "ok"
    await groups.remove_group_members(
        session=scenario.session,
        actor=world.owner.principal,
        group_id=team.id,
        member_ids=[alice.member.id],
    )
    assert await gate.both(token, api="billing") == "api_not_granted"

    # A revoked direct grant applies at once.
    await grants.revoke_access(
        session=scenario.session,
        actor=world.owner.principal,
        api_id=apis["orders"].id,
        member_ids=[alice.member.id],
        group_ids=[],
    )
    assert await gate.both(token) == "api_not_granted"

    # The Owner's role has allApis.
    owner = issuer.token(sub="owner", aud=MEMBER_AUDIENCE)
    assert await gate.both(owner) == "unknown_credential"  # no such subject yet
    world.owner.user.issuer, world.owner.user.subject = issuer.url, "owner"
    scenario.session.add(world.owner.user)
    await scenario.session.commit()
    assert await gate.both(owner) == "ok"


async def test_members_tokens_are_verified(
    gate: Gate, scenario: Scenario, world: World, issuer: LocalIssuer
) -> None:
    alice = await member_of(scenario, world, issuer.url, "alice")
    apis = {api.identifier: api for api in await _apis(scenario, world)}
    await scenario.grant(world, apis["orders"], people=[alice])
    past = int(time.time()) - 3600
    expired = issuer.token(sub="alice", aud=MEMBER_AUDIENCE, exp=past, iat=past - 60)
    assert await gate.both(expired) == "expired"
    assert await gate.both(issuer.token(sub="alice", aud="elsewhere")) == "invalid_token"
    stranger = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    forged = issuer.token(stranger, sub="alice", aud=MEMBER_AUDIENCE)
    assert await gate.both(forged) == "invalid_token"


async def _apis(scenario: Scenario, world: World) -> list[Api]:
    rows = await scenario.session.scalars(select(Api).where(Api.workspace_id == world.workspace.id))
    return list(rows.all())
