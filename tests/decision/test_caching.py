"""Warm decisions run no SQL, unknown credentials are remembered (bounded), and the endpoint
can be closed to anyone without the gateway secret."""

from __future__ import annotations

import asyncio

import httpx
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from accessplane.app import create_app
from accessplane.auth.tokens import TokenKind, issue_token
from accessplane.decision.cache import DecisionCache
from accessplane.models import CredentialUsage
from accessplane.services import access_profiles
from accessplane.settings import Settings
from tests.conftest import QueryCounter
from tests.support.gateway import PEER, Gate, Shop
from tests.support.scenario import Scenario


async def test_a_warm_decision_runs_no_sql(
    gate: Gate, shop: Shop, count_queries: QueryCounter
) -> None:
    with count_queries:
        assert await gate.both(shop.token) == "ok"
    assert count_queries.count > 0  # the first one looked the token up
    with count_queries:
        for _ in range(3):
            assert await gate.both(shop.token) == "ok"
            assert await gate.both(shop.token, api="other") == "api_not_granted"
            assert await gate.both(shop.token, ip="2001:db8::1") == "ok"
    assert count_queries.count == 0


async def test_guessing_costs_no_sql(gate: Gate, shop: Shop, count_queries: QueryCounter) -> None:
    invented = issue_token(TokenKind.ACCESS_PROFILE, b"guess").plaintext
    with count_queries:
        assert await gate.both(invented) == "unknown_credential"
    assert count_queries.count > 0
    with count_queries:
        for _ in range(3):
            assert await gate.both(invented) == "unknown_credential"
        # Tokens with a wrong checksum are refused before any look-up.
        assert await gate.both(invented[:-2] + "zz") == "unknown_credential"
        assert await gate.both("apt_" + "x" * 36) == "unknown_credential"
    assert count_queries.count == 0


async def test_a_revoked_token_stays_revoked_without_sql(
    gate: Gate, shop: Shop, scenario: Scenario, count_queries: QueryCounter
) -> None:
    await access_profiles.refresh_access_profile_token(
        session=scenario.session,
        actor=shop.world.owner.principal,
        secret=scenario.secret,
        access_profile_id=shop.app.id,
    )
    assert await gate.both(shop.token) == "revoked"
    with count_queries:
        assert await gate.both(shop.token) == "revoked"
    assert count_queries.count == 0


async def test_concurrent_first_requests_share_one_lookup(
    http: httpx.AsyncClient, shop: Shop, count_queries: QueryCounter
) -> None:
    with count_queries:
        answers = await asyncio.gather(
            *(
                http.get("/v1/authorize?api=orders", headers={"X-API-Key": shop.token})
                for _ in range(10)
            )
        )
    assert {a.status_code for a in answers} == {200}
    assert count_queries.count == 2  # the app with its plan, then its products' APIs


def test_the_caches_are_bounded() -> None:
    cache = DecisionCache(size=100, unknown_size=100, ttl=60)
    for n in range(250):
        cache.put(("k", n), n, {f"t{n % 7}"}, cache.generation)
        cache.put_unknown(("u", n), cache.generation)
    assert cache.sizes() == {"credentials": 100, "unknown": 100}
    assert cache.get(("k", 0)) is None  # the least recently used went first
    assert cache.get(("k", 249)) == 249
    assert cache.is_unknown(("u", 249))
    assert not cache.is_unknown(("u", 0))


def test_entries_expire_after_the_ttl_and_tags_drop_them() -> None:
    now = [0.0]
    cache = DecisionCache(size=10, unknown_size=10, ttl=30, clock=lambda: now[0])
    cache.put("a", 1, {"client:1"}, cache.generation)
    cache.put("b", 2, {"client:2"}, cache.generation)
    assert cache.invalidate({"client:1"}) == 1
    assert cache.get("a") is None
    assert cache.get("b") == 2
    now[0] = 31.0
    assert cache.get("b") is None


def test_a_lookup_that_straddles_a_change_is_not_cached() -> None:
    cache = DecisionCache(size=10, unknown_size=10, ttl=30)
    generation = cache.generation  # a lookup begins ...
    cache.invalidate({"access_profile:1"})  # ... a change commits meanwhile ...
    cache.put("a", "stale", {"access_profile:1"}, generation)  # ... its result is dropped
    cache.put_unknown("b", generation)
    assert cache.get("a") is None
    assert not cache.is_unknown("b")


async def test_the_gateway_secret_and_host_mapping(
    settings: Settings, engine: AsyncEngine, shop: Shop
) -> None:
    guarded = settings.model_copy(
        update={
            "decision_gateway_secret": SecretStr("gateway-secret-0123456789"),
            "decision_api_hosts": {"orders.example.com": "orders"},
        }
    )
    transport = httpx.ASGITransport(app=create_app(guarded, engine=engine), client=(PEER, 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        key = {"X-API-Key": shop.token, "X-Forwarded-Host": "orders.example.com"}
        refused = await http.get("/v1/authorize", headers=key)
        assert refused.status_code == 403
        assert refused.json()["error"] == "gateway_forbidden"
        wrong = await http.get(
            "/v1/authorize", headers={**key, "X-AccessPlane-Gateway-Secret": "nope"}
        )
        assert wrong.status_code == 403
        check = await http.post("/v1/check", json={"credential": shop.token, "api": "orders"})
        assert check.status_code == 403
        allowed = await http.get(
            "/v1/authorize",
            headers={**key, "X-AccessPlane-Gateway-Secret": "gateway-secret-0123456789"},
        )
        assert allowed.status_code == 200  # the API came from the host mapping
        assert allowed.headers["x-accessplane-reason"] == "ok"


async def test_metrics_count_decisions_by_reason(
    http: httpx.AsyncClient, gate: Gate, shop: Shop
) -> None:
    await gate.both(shop.token)
    await gate.both(None)
    text = (await http.get("/metrics")).text
    assert 'accessplane_decisions_total{endpoint="check",reason="ok"} 1.0' in text
    assert (
        'accessplane_decisions_total{endpoint="authorize",reason="missing_credential"} 1.0' in text
    )
    assert 'accessplane_decision_cache_entries{kind="credentials"} 1.0' in text


async def test_decisions_are_counted_per_app(
    app: Starlette, gate: Gate, shop: Shop, scenario: Scenario
) -> None:
    await gate.both(shop.token)
    await gate.both(shop.token, api="billing")
    await gate.both(None)  # no principal: counted in the metrics only
    assert await app.state.decision_usage.flush() == 2
    rows = (
        await scenario.session.scalars(
            select(CredentialUsage).where(CredentialUsage.principal_id == shop.app.id)
        )
    ).all()
    assert {(r.reason, r.count) for r in rows} == {("ok", 2), ("api_not_granted", 2)}
