"""Two real ``accessplane serve`` processes on one PostgreSQL and one Redis: a change made
through one applies at once there and, through PostgreSQL's NOTIFY, on the other within a
measured delay; rate limits are counted once across both (Redis)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from accessplane.models.plans import RateLimitPeriod
from accessplane.services import plans
from tests.conftest import SECRET, require_service
from tests.support.gateway import Shop, make_shop
from tests.support.scenario import Scenario, gid

REDIS_URL = os.environ.get("ACCESSPLANE_TEST_REDIS_URL")
# Far longer than the test: only a notification can explain a change seen on the other side.
CACHE_TTL = 600
# What the test accepts for the other instance (measured: a few milliseconds on loopback).
NOTIFY_BOUND = 2.0

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def instance(database_url: str, log: Path) -> AsyncIterator[str]:
    """``accessplane serve`` on a free port; yields its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "ACCESSPLANE_DATABASE_URL": database_url,
        "ACCESSPLANE_SECRET_KEY": SECRET,
        "ACCESSPLANE_PORT": str(port),
        "ACCESSPLANE_REDIS_URL": REDIS_URL or "",
        "ACCESSPLANE_DECISION_CACHE_TTL": str(CACHE_TTL),
        "ACCESSPLANE_GRAPHIQL": "false",
    }
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "accessplane.cli", "serve", env=env, stdout=output, stderr=output
        )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as http, asyncio.timeout(60):
            while True:
                assert process.returncode is None, f"serve exited early: see {log}"
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        yield url
    finally:
        process.terminate()
        await process.wait()


async def check(http: httpx.AsyncClient, url: str, token: str) -> dict[str, Any]:
    response = await http.post(f"{url}/v1/check", json={"credential": token, "api": "orders"})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def until(http: httpx.AsyncClient, url: str, token: str, reason: str) -> float:
    """Seconds until ``url`` answers ``reason`` for ``token``."""
    started = time.perf_counter()
    while (await check(http, url, token))["reason"] != reason:
        assert time.perf_counter() - started < NOTIFY_BOUND, f"{url} still allows after the bound"
        await asyncio.sleep(0.002)
    return time.perf_counter() - started


@pytest.fixture
async def pair(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    require_service("Redis", REDIS_URL is not None, "set ACCESSPLANE_TEST_REDIS_URL=redis://…")
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(instance(database_url, tmp_path / "a.log"))
        second = await stack.enter_async_context(instance(database_url, tmp_path / "b.log"))
        yield first, second


async def graphql(http: httpx.AsyncClient, url: str, key: str, query: str, **variables: Any) -> Any:
    response = await http.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {key}"},
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


REFRESH = """mutation($input: RefreshAccessProfileTokenInput!) {
  refreshAccessProfileToken(input: $input) { token userErrors { message } }
}"""
SET_ACTIVE = """mutation($input: SetClientActiveInput!) {
  setClientActive(input: $input) { userErrors { message } }
}"""


async def test_a_revocation_reaches_the_other_instance_within_the_bound(
    pair: tuple[str, str], scenario: Scenario, record_property: Any
) -> None:
    first, second = pair
    shop: Shop = await make_shop(scenario)
    key = await scenario.api_key(shop.world)
    async with httpx.AsyncClient(timeout=10) as http:
        # Both instances have the app cached.
        assert (await check(http, first, shop.token))["reason"] == "ok"
        assert (await check(http, second, shop.token))["reason"] == "ok"

        data = await graphql(
            http, first, key, REFRESH, input={"id": gid("AccessProfile", shop.app.id)}
        )
        new_token = data["refreshAccessProfileToken"]["token"]
        # At once on the instance that made the change ...
        assert (await check(http, first, shop.token))["reason"] == "revoked"
        # ... and on the other one as soon as the notification arrives.
        revoked_after = await until(http, second, shop.token, "revoked")
        assert (await check(http, second, new_token))["reason"] == "ok"

        await graphql(
            http,
            first,
            key,
            SET_ACTIVE,
            input={"id": gid("Client", shop.client.id), "active": False},
        )
        assert (await check(http, first, new_token))["reason"] == "inactive_client"
        deactivated_after = await until(http, second, new_token, "inactive_client")

    record_property("revocation_seconds", revoked_after)
    record_property("deactivation_seconds", deactivated_after)
    print(
        f"other instance: revoked after {revoked_after * 1000:.1f} ms, "
        f"deactivated after {deactivated_after * 1000:.1f} ms"
    )


async def test_rate_limits_are_counted_once_across_instances(
    pair: tuple[str, str], scenario: Scenario
) -> None:
    first, second = pair
    shop = await make_shop(scenario, rate_limit=plans.RateLimit(6, RateLimitPeriod.MINUTE))
    async with httpx.AsyncClient(timeout=10) as http:
        answers = [await check(http, (first, second)[n % 2], shop.token) for n in range(10)]
    reasons = [a["reason"] for a in answers]
    assert reasons == ["ok"] * 6 + ["rate_limited"] * 4
    assert [a["rateLimit"]["remaining"] for a in answers[:6]] == [5, 4, 3, 2, 1, 0]
