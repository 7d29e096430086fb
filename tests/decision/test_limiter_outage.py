"""Redis, holding the shared rate-limit counters, goes down and comes back under the decision
endpoint: a real ``redis-server`` of the test's own, killed and restarted on the same port.

Failing closed, limited credentials are answered ``limiter_unavailable`` (503 with the usual
body on /v1/check, 503 on forward auth); failing open, they are counted in memory. Either way
the outage is logged once when it starts and once when it ends, and counted for Prometheus."""

from __future__ import annotations

import asyncio
import logging
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import SimpleNamespace

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

from accessplane.decision.metrics import DecisionMetrics
from accessplane.decision.policies import PlanPolicy
from accessplane.decision.ratelimits import FailureMode, Limiter, storage_for
from accessplane.decision.reasons import Reason
from accessplane.models.plans import QuotaPeriod, RateLimitPeriod
from accessplane.services import plans
from accessplane.settings import Settings
from tests.conftest import require_service
from tests.notify.conftest import eventually, free_port
from tests.support.gateway import Gate, Shop, make_shop
from tests.support.scenario import Scenario, gid

LIMITER_LOGGER = "accessplane.decision.ratelimits"


class RedisServer:
    """A ``redis-server`` on a fixed loopback port, without persistence, that tests stop
    (as abruptly as a crash) and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            stdout=asyncio.subprocess.DEVNULL,
        )
        async with asyncio.timeout(10):
            while True:
                try:
                    reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                except OSError:
                    await asyncio.sleep(0.01)
                    continue
                writer.write(b"PING\r\n")
                answer = await reader.readline()
                writer.close()
                await writer.wait_closed()
                if answer == b"+PONG\r\n":
                    return

    async def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            await self._process.wait()
            self._process = None


@pytest.fixture
async def redis() -> AsyncIterator[RedisServer]:
    require_service("redis-server", shutil.which("redis-server") is not None, "not installed")
    server = RedisServer()
    await server.start()
    yield server
    await server.kill()


@pytest.fixture
def failure_mode() -> str:
    return "closed"


@pytest.fixture
def settings(settings: Settings, redis: RedisServer, failure_mode: str) -> Settings:
    return settings.model_copy(
        update={"redis_url": redis.url, "limiter_failure_mode": failure_mode}
    )


@pytest.fixture
async def gate(app: Starlette, http: httpx.AsyncClient) -> AsyncIterator[Gate]:
    yield Gate(http)
    await app.state.decider.limiter.aclose()


def limiter_records(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LIMITER_LOGGER]


async def answers_ok(gate: Gate, shop: Shop) -> bool:
    response = await gate.http.post("/v1/check", json={"credential": shop.token, "api": "orders"})
    return response.status_code == 200 and response.json()["reason"] == "ok"


async def until_ok(gate: Gate, shop: Shop) -> None:
    """Poll until the decision endpoint has found Redis again (it retries once a second)."""
    await eventually(lambda: answers_ok(gate, shop))


def decisions(metrics_text: str, reason: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics_text)
        for sample in family.samples
        if sample.name == "accessplane_decisions_total" and sample.labels["reason"] == reason
    )


async def test_failing_closed_answers_503_limiter_unavailable_until_redis_returns(
    scenario: Scenario,
    gate: Gate,
    http: httpx.AsyncClient,
    redis: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LIMITER_LOGGER)
    limited = await make_shop(scenario, rate_limit=plans.RateLimit(100, RateLimitPeriod.MINUTE))
    unlimited = await make_shop(scenario)
    assert await gate.both(limited.token) == "ok"

    await redis.kill()
    checked = await http.post("/v1/check", json={"credential": limited.token, "api": "orders"})
    authorized = await gate.authorize(limited.token)
    for _ in range(5):
        again = await http.post("/v1/check", json={"credential": limited.token, "api": "orders"})
        assert again.status_code == 503

    assert checked.status_code == 503
    assert checked.headers["content-type"] == "application/json"
    body = checked.json()
    assert (body["allowed"], body["reason"], body["rateLimit"]) == (
        False,
        "limiter_unavailable",
        None,
    )
    assert body["principal"]["id"] == gid("AccessProfile", limited.app.id)
    assert authorized.status_code == 503
    assert authorized.headers["x-accessplane-reason"] == "limiter_unavailable"
    assert authorized.json()["reason"] == "limiter_unavailable"
    # Credentials without limits need no counters: the outage does not touch them.
    assert await gate.both(unlimited.token) == "ok"
    [down] = limiter_records(caplog)
    assert "unreachable" in down
    assert "failing closed" in down
    assert not any(r.exc_info for r in caplog.records)  # Redis's outage is not our bug
    scraped = (await http.get("/metrics")).text
    assert decisions(scraped, "limiter_unavailable") == 7
    outages = [
        sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
        if sample.name == "accessplane_limiter_outages_total"
    ]
    assert outages == [1]  # the application's /metrics shows the limiter's own counts

    await redis.start()
    await until_ok(gate, limited)

    assert await gate.both(limited.token) == "ok"
    down_again, up = limiter_records(caplog)
    assert down_again == down
    assert "reachable again" in up


@pytest.mark.parametrize("failure_mode", ["open"])
async def test_failing_open_counts_in_memory_during_the_outage(
    scenario: Scenario, gate: Gate, redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LIMITER_LOGGER)
    shop = await make_shop(scenario, rate_limit=plans.RateLimit(4, RateLimitPeriod.MINUTE))
    assert (await gate.check(shop.token))["rateLimit"]["remaining"] == 3

    await redis.kill()
    # Counted afresh in this instance's memory: four more, then the limit.
    answers = [await gate.check(shop.token) for _ in range(5)]

    assert [a["reason"] for a in answers] == ["ok"] * 4 + ["rate_limited"]
    assert [a["rateLimit"]["remaining"] for a in answers] == [3, 2, 1, 0, 0]
    [down] = limiter_records(caplog)
    assert "failing open" in down

    await redis.start()
    await until_ok(gate, shop)

    assert len(limiter_records(caplog)) == 2
    assert "reachable again" in limiter_records(caplog)[1]


async def test_an_unreachable_redis_is_counted_for_prometheus(redis: RedisServer) -> None:
    limiter = Limiter(storage_for(redis.url), failure_mode=FailureMode.CLOSED, retry_seconds=0)
    metrics = DecisionMetrics(limiter_stats=limiter.stats)
    plan = PlanPolicy.from_row(
        SimpleNamespace(
            id=uuid.uuid4(),
            rate_limit_requests=10,
            rate_limit_period=RateLimitPeriod.MINUTE,
            quota_requests=1000,
            quota_period=QuotaPeriod.DAY,
            time_window=None,
        )
    )
    subject, now = uuid.uuid4(), datetime.now(UTC)
    assert (await limiter.check(plan, subject, now)).reason is None

    await redis.kill()
    refused = [(await limiter.check(plan, subject, now)).reason for _ in range(3)]
    await redis.start()
    recovered = await limiter.check(plan, subject, now)
    await redis.kill()
    refused_again = await limiter.check(plan, subject, now)

    await limiter.aclose()

    assert refused == [Reason.LIMITER_UNAVAILABLE] * 3
    assert recovered.reason is None
    assert recovered.state is not None  # counted in Redis again (a fresh one: it kept nothing)
    assert recovered.state.remaining == 9
    assert refused_again.reason is Reason.LIMITER_UNAVAILABLE
    found = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(metrics.render()[0].decode())
        for sample in family.samples
    }
    assert found[("accessplane_limiter_outages_total", ())] == 2
    unavailable = "accessplane_limiter_unavailable_decisions_total"
    assert found[(unavailable, (("mode", "closed"),))] == 4
    assert found[(unavailable, (("mode", "open"),))] == 0
