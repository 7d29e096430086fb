"""Operations and tokens: a JWT app's token must carry the matched operation's scopes (on top of
the app's required scopes), while workspace members' OIDC tokens keep API-level grants. The
issuer is a real HTTP server with real RSA keys (``tests/support/issuer.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from accessplane.models import Api, ApiProduct, ApiProductApi
from accessplane.settings import OidcIssuer, Settings
from tests.conftest import SECRET
from tests.decision.test_operations import ask, choose, declare
from tests.decision.test_tokens import MEMBER_AUDIENCE, member_of, partner_app
from tests.support.gateway import PEER, Gate
from tests.support.issuer import LocalIssuer, local_issuer
from tests.support.scenario import Scenario, World


@pytest.fixture
async def issuer() -> AsyncIterator[LocalIssuer]:
    async with local_issuer() as running:
        yield running


@pytest.fixture
def settings(database_url: str, issuer: LocalIssuer) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        secret_key=SECRET,  # type: ignore[arg-type]
        trusted_proxies=[PEER],
        oidc_issuers=[OidcIssuer(issuer=issuer.url, audience=[MEMBER_AUDIENCE])],
    )


@pytest.fixture
async def world(scenario: Scenario) -> World:
    return await scenario.workspace()


async def _api(scenario: Scenario, identifier: str) -> Api:
    found = await scenario.session.scalar(select(Api).where(Api.identifier == identifier))
    assert found is not None
    return found


async def test_a_jwt_needs_the_matched_operation_s_scopes(
    gate: Gate, scenario: Scenario, world: World, issuer: LocalIssuer
) -> None:
    await partner_app(scenario, world, issuer)  # requires orders:read of every token
    api = await _api(scenario, "partner-orders")
    await declare(scenario, api, "GET", "/orders/{id}")
    await declare(scenario, api, "POST", "/orders", scopes=["orders:write"])
    await declare(scenario, api, "DELETE", "/orders/{id}", scopes=["orders:write", "admin"])

    def token(scope: str) -> str:
        return issuer.token(client_id="partner-app", aud="orders-api", scope=scope)

    reader, writer = token("orders:read"), token("orders:read orders:write")
    assert await ask(gate, reader, "GET", "/orders/1", api="partner-orders") == "ok"
    assert await ask(gate, reader, "POST", "/orders", api="partner-orders") == (
        "insufficient_scope"
    )
    assert await ask(gate, writer, "POST", "/orders", api="partner-orders") == "ok"
    assert await ask(gate, writer, "DELETE", "/orders/1", api="partner-orders") == (
        "insufficient_scope"
    )
    admin = token("orders:read orders:write admin")
    assert await ask(gate, admin, "DELETE", "/orders/1", api="partner-orders") == "ok"
    # The app's own required scopes still come first.
    assert await ask(gate, token("orders:write"), "POST", "/orders", api="partner-orders") == (
        "insufficient_scope"
    )
    # A path no operation declares is not allowed, whatever the token's scopes.
    assert await ask(gate, admin, "GET", "/admin", api="partner-orders") == (
        "operation_not_allowed"
    )


async def test_an_operation_not_chosen_is_not_allowed_whatever_the_scopes(
    gate: Gate, scenario: Scenario, world: World, issuer: LocalIssuer
) -> None:
    await partner_app(scenario, world, issuer)
    api = await _api(scenario, "partner-orders")
    read = await declare(scenario, api, "GET", "/orders/{id}", scopes=["orders:read"])
    await declare(scenario, api, "POST", "/orders", scopes=["orders:write"])
    product = await scenario.session.scalar(
        select(ApiProduct)
        .join(ApiProductApi, ApiProductApi.product_id == ApiProduct.id)  # type: ignore[arg-type]
        .where(ApiProductApi.api_id == api.id)
    )
    assert product is not None
    await choose(scenario, product, read)
    every = issuer.token(
        client_id="partner-app", aud="orders-api", scope="orders:read orders:write"
    )
    assert await ask(gate, every, "GET", "/orders/1", api="partner-orders") == "ok"
    assert await ask(gate, every, "POST", "/orders", api="partner-orders") == (
        "operation_not_allowed"
    )


async def test_members_keep_api_level_grants(
    gate: Gate, scenario: Scenario, world: World, issuer: LocalIssuer
) -> None:
    orders = await scenario.api(world, "Orders")
    alice = await member_of(scenario, world, issuer.url, "alice")
    await scenario.grant(world, orders, people=[alice])
    await declare(scenario, orders, "GET", "/orders/{id}", scopes=["orders:read"])
    token = issuer.token(sub="alice", aud=MEMBER_AUDIENCE)
    # No operation check for members: any method and path, no operation scopes.
    assert await ask(gate, token, "DELETE", "/anything") == "ok"
    assert await ask(gate, token, "GET", "/orders/1") == "ok"
