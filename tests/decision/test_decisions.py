"""Every reason of the decision endpoint, through ``POST /v1/check`` and ``GET /v1/authorize``,
for apps' ``apt_`` tokens (JWTs: test_tokens.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from accessplane.auth.tokens import TokenKind, issue_token, token_digest
from accessplane.models.plans import QuotaPeriod, RateLimitPeriod, Weekday
from accessplane.services import access_profiles, clients, plans, products
from tests.conftest import SECRET
from tests.support.gateway import Gate, Shop, make_shop
from tests.support.scenario import Scenario, gid


async def test_a_granted_app_is_allowed_with_its_principal_and_limits(
    gate: Gate, shop: Shop
) -> None:
    checked = await gate.check(shop.token)
    assert checked["allowed"] is True
    assert checked["reason"] == "ok"
    principal = checked["principal"]
    assert principal["type"] == "ACCESS_PROFILE"
    assert principal["name"] == "web"
    assert principal["id"] == gid("AccessProfile", shop.app.id)
    assert principal["clientId"] == gid("Client", shop.client.id)
    assert principal["workspaceId"] == gid("Workspace", shop.world.workspace.id)
    assert checked["rateLimit"] == {"limit": 100, "remaining": 99, "resetSeconds": 60}

    answered = await gate.authorize(shop.token)
    assert answered.status_code == 200
    assert answered.headers["x-accessplane-principal-id"] == principal["id"]
    assert answered.headers["x-accessplane-client-id"] == principal["clientId"]
    assert answered.headers["x-ratelimit-limit"] == "100"
    assert answered.headers["x-ratelimit-remaining"] == "98"
    assert 0 < int(answered.headers["x-ratelimit-reset"]) <= 60


async def test_the_key_header_works_like_a_bearer_token(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    answered = await http.get("/v1/authorize?api=orders", headers={"X-API-Key": shop.token})
    assert answered.status_code == 200


async def test_missing_unknown_and_malformed_credentials(gate: Gate, shop: Shop) -> None:
    assert await gate.both(None) == "missing_credential"
    invented = issue_token(TokenKind.ACCESS_PROFILE, b"another secret").plaintext
    assert await gate.both(invented) == "unknown_credential"
    mistyped = shop.token[:-1] + ("y" if shop.token.endswith("x") else "x")
    assert await gate.both(mistyped) == "unknown_credential"  # bad checksum
    platform_key = issue_token(TokenKind.API_ACCESS, b"x").plaintext
    assert await gate.both(platform_key) == "unknown_credential"
    assert await gate.both("not a token") == "unknown_credential"
    assert await gate.both("a.b.c") == "invalid_token"
    answered = await gate.authorize(None)
    assert answered.headers["www-authenticate"].startswith("Bearer")


async def test_a_refreshed_token_is_revoked_at_once(
    gate: Gate, shop: Shop, scenario: Scenario
) -> None:
    assert await gate.both(shop.token) == "ok"  # cached now
    issued = await access_profiles.refresh_access_profile_token(
        session=scenario.session,
        actor=shop.world.owner.principal,
        secret=scenario.secret,
        access_profile_id=shop.app.id,
    )
    assert issued.token is not None
    assert await gate.both(shop.token) == "revoked"
    assert await gate.both(issued.token) == "ok"


async def test_a_deleted_app_s_token_is_revoked(gate: Gate, shop: Shop, scenario: Scenario) -> None:
    assert await gate.both(shop.token) == "ok"
    await access_profiles.delete_access_profile(
        session=scenario.session, actor=shop.world.owner.principal, access_profile_id=shop.app.id
    )
    assert await gate.both(shop.token) == "revoked"


async def test_an_inactive_client_s_apps_are_denied_at_once(
    gate: Gate, shop: Shop, scenario: Scenario
) -> None:
    assert await gate.both(shop.token) == "ok"
    await clients.set_client_active(
        session=scenario.session,
        actor=shop.world.owner.principal,
        client_id=shop.client.id,
        active=False,
    )
    assert await gate.both(shop.token) == "inactive_client"
    await clients.set_client_active(
        session=scenario.session,
        actor=shop.world.owner.principal,
        client_id=shop.client.id,
        active=True,
    )
    assert await gate.both(shop.token) == "ok"


async def test_a_deleted_client_s_tokens_are_revoked(
    gate: Gate, shop: Shop, scenario: Scenario
) -> None:
    assert await gate.both(shop.token) == "ok"
    await clients.delete_client(
        session=scenario.session, actor=shop.world.owner.principal, client_id=shop.client.id
    )
    assert await gate.both(shop.token) == "revoked"


async def test_the_ip_allowlist_takes_ipv4_and_ipv6_ranges(
    gate: Gate, shop: Shop, scenario: Scenario
) -> None:
    assert await gate.both(shop.token, ip="192.0.2.1") == "ok"  # no allowlist: any address
    await access_profiles.update_access_profile(
        session=scenario.session,
        actor=shop.world.owner.principal,
        access_profile_id=shop.app.id,
        allowed_ips=["198.51.100.0/24", "2001:db8::/32"],
    )
    assert await gate.both(shop.token, ip="192.0.2.1") == "ip_not_allowed"
    assert await gate.both(shop.token, ip="198.51.100.77") == "ok"
    assert await gate.both(shop.token, ip="2001:db8:1::5") == "ok"
    assert await gate.both(shop.token, ip="2001:db9::5") == "ip_not_allowed"
    # Without an address /v1/check cannot vouch for one.
    assert (await gate.check(shop.token, ip=None))["reason"] == "ip_not_allowed"


async def test_the_client_address_comes_only_from_trusted_proxies(
    app: object, shop: Shop, scenario: Scenario
) -> None:
    await access_profiles.update_access_profile(
        session=scenario.session,
        actor=shop.world.owner.principal,
        access_profile_id=shop.app.id,
        allowed_ips=["198.51.100.0/24"],
    )
    # A caller that is not a trusted proxy cannot choose its address with X-Forwarded-For.
    transport = httpx.ASGITransport(app=app, client=("192.0.2.50", 1234))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        answered = await other.get(
            "/v1/authorize?api=orders",
            headers={"Authorization": f"Bearer {shop.token}", "X-Forwarded-For": "198.51.100.1"},
        )
    assert answered.headers["x-accessplane-reason"] == "ip_not_allowed"


async def test_an_api_outside_the_app_s_products_is_not_granted_until_added(
    gate: Gate, shop: Shop, scenario: Scenario
) -> None:
    billing = await scenario.api(shop.world, "Billing")
    assert await gate.both(shop.token, api="billing") == "api_not_granted"
    assert await gate.both(shop.token, api="no-such-api") == "api_not_granted"
    await products.update_product(
        session=scenario.session,
        actor=shop.world.owner.principal,
        product_id=shop.product.id,
        api_ids=[shop.api.id, billing.id],
    )
    assert await gate.both(shop.token, api="billing") == "ok"
    await products.update_product(
        session=scenario.session,
        actor=shop.world.owner.principal,
        product_id=shop.product.id,
        api_ids=[billing.id],
    )
    assert await gate.both(shop.token, api="orders") == "api_not_granted"


async def test_the_time_window_is_read_in_the_plan_s_time_zone(
    gate: Gate, app: object, scenario: Scenario
) -> None:
    shop = await make_shop(
        scenario,
        time_window=plans.TimeWindow(
            days=[Weekday.MON], start="22:00", end="06:00", time_zone="Europe/Berlin"
        ),
    )
    decider = app.state.decider  # type: ignore[attr-defined]
    # Monday 2026-11-23, 21:30 UTC is 22:30 in Berlin: inside.
    decider.clock = lambda: datetime(2026, 11, 23, 21, 30, tzinfo=UTC)
    assert await gate.both(shop.token) == "ok"
    # Tuesday 04:00 UTC is 05:00 in Berlin: the Monday window runs past midnight.
    decider.clock = lambda: datetime(2026, 11, 24, 4, 0, tzinfo=UTC)
    assert await gate.both(shop.token) == "ok"
    # Tuesday 21:30 UTC: Tuesday has no window.
    decider.clock = lambda: datetime(2026, 11, 24, 21, 30, tzinfo=UTC)
    assert await gate.both(shop.token) == "outside_time_window"
    # Monday 20:30 UTC is 21:30 in Berlin: before the start.
    decider.clock = lambda: datetime(2026, 11, 23, 20, 30, tzinfo=UTC)
    assert await gate.both(shop.token) == "outside_time_window"


async def test_the_rate_limit_answers_429_with_retry_after(gate: Gate, scenario: Scenario) -> None:
    shop = await make_shop(scenario, rate_limit=plans.RateLimit(3, RateLimitPeriod.MINUTE))
    assert (await gate.check(shop.token))["rateLimit"]["remaining"] == 2
    assert (await gate.authorize(shop.token)).headers["x-ratelimit-remaining"] == "1"
    assert (await gate.check(shop.token))["rateLimit"]["remaining"] == 0
    checked = await gate.check(shop.token)
    assert checked["reason"] == "rate_limited"
    assert checked["allowed"] is False
    answered = await gate.authorize(shop.token)
    assert answered.status_code == 429
    assert answered.headers["x-accessplane-reason"] == "rate_limited"
    assert answered.headers["x-ratelimit-remaining"] == "0"
    assert 1 <= int(answered.headers["retry-after"]) <= 60


async def test_a_plan_change_applies_to_the_next_decision(gate: Gate, scenario: Scenario) -> None:
    shop = await make_shop(scenario, rate_limit=plans.RateLimit(2, RateLimitPeriod.HOUR))
    assert await gate.both(shop.token) == "ok"
    assert await gate.both(shop.token) == "rate_limited"
    await plans.update_plan(
        session=scenario.session,
        actor=shop.world.owner.principal,
        plan_id=shop.plan.id,
        rate_limit=None,
    )
    assert await gate.both(shop.token) == "ok"


async def test_the_daily_quota_counts_calendar_days_in_utc(
    gate: Gate, app: object, scenario: Scenario
) -> None:
    shop = await make_shop(scenario, quota=plans.Quota(3, QuotaPeriod.DAY))
    decider = app.state.decider  # type: ignore[attr-defined]
    decider.clock = lambda: datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    assert (await gate.check(shop.token))["rateLimit"] == {
        "limit": 3,
        "remaining": 2,
        "resetSeconds": 3600,
    }
    assert await gate.both(shop.token) == "ok"
    assert await gate.both(shop.token) == "quota_exceeded"
    answered = await gate.authorize(shop.token)
    assert answered.headers["retry-after"] == "3600"
    # The next day starts from zero.
    decider.clock = lambda: datetime(2026, 11, 24, 0, 0, 1, tzinfo=UTC)
    assert await gate.both(shop.token) == "ok"


async def test_a_request_refused_by_the_rate_limit_does_not_use_the_quota(
    gate: Gate, app: object, scenario: Scenario
) -> None:
    shop = await make_shop(
        scenario,
        rate_limit=plans.RateLimit(2, RateLimitPeriod.HOUR),
        quota=plans.Quota(5, QuotaPeriod.MONTH),
    )
    assert await gate.both(shop.token) == "ok"
    assert await gate.both(shop.token) == "rate_limited"
    assert await gate.both(shop.token) == "rate_limited"
    decider = app.state.decider  # type: ignore[attr-defined]
    policy = decider.cache.get(bytes.fromhex(token_digest(shop.token, SECRET.encode())))
    period, _, item = policy.plan.quota.window(decider.clock())
    assert await decider.limiter.storage.get(item.key_for(str(shop.app.id), period)) == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "JSON object"),
        ([1, 2], "JSON object"),
        ({"credential": "x"}, "'api'"),
        ({"credential": "x", "api": ""}, "'api'"),
        ({"credential": 5, "api": "orders"}, "'credential'"),
        ({"credential": "x", "api": "orders", "ip": 7}, "'ip'"),
    ],
)
async def test_check_refuses_bad_requests(
    http: httpx.AsyncClient, body: object, message: str
) -> None:
    if isinstance(body, str):
        response = await http.post("/v1/check", content=body)
    else:
        response = await http.post("/v1/check", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert message in response.json()["message"]


async def test_authorize_needs_to_know_the_api(http: httpx.AsyncClient, shop: Shop) -> None:
    response = await http.get("/v1/authorize", headers={"Authorization": f"Bearer {shop.token}"})
    assert response.status_code == 400
    assert response.json()["error"] == "api_required"
    by_header = await http.get(
        "/v1/authorize",
        headers={"Authorization": f"Bearer {shop.token}", "X-AccessPlane-Api": "orders"},
    )
    assert by_header.status_code == 200


async def test_envoy_style_requests_carry_the_original_path_and_method(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    answered = await http.delete(
        "/v1/authorize/orders/42",
        headers={"Authorization": f"Bearer {shop.token}", "X-AccessPlane-Api": "orders"},
    )
    assert answered.status_code == 200
    unknown = await http.put("/v1/authorize/orders/42", headers={"X-AccessPlane-Api": "orders"})
    assert unknown.status_code == 401
    assert unknown.headers["x-accessplane-reason"] == "missing_credential"
