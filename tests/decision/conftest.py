"""Fixtures of the decision tests: settings that trust the test client as the gateway's proxy,
and the ``gate`` and ``shop`` of ``tests/support/gateway.py``."""

from __future__ import annotations

import httpx
import pytest

from accessplane.models.plans import RateLimitPeriod
from accessplane.services import plans
from accessplane.settings import Settings
from tests.conftest import SECRET
from tests.support.gateway import PEER, Gate, Shop, make_shop
from tests.support.scenario import Scenario


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The test client plays the gateway, so its X-Forwarded-For is believed.
    return Settings(
        environment="test",
        database_url=database_url,
        secret_key=SECRET,  # type: ignore[arg-type]
        trusted_proxies=[PEER],
    )


@pytest.fixture
def gate(http: httpx.AsyncClient) -> Gate:
    return Gate(http)


@pytest.fixture
async def shop(scenario: Scenario) -> Shop:
    return await make_shop(scenario, rate_limit=plans.RateLimit(100, RateLimitPeriod.MINUTE))
