"""DecisionMetrics and the /metrics endpoint, read back as Prometheus would parse them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.routing import Route

from accessplane.decision.metrics import DecisionMetrics, metrics_endpoint
from accessplane.decision.reasons import Reason

TOKEN = "scrape-token-0123456789"


def samples(metrics: DecisionMetrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the exposition: (name, labels) -> value."""
    payload, _ = metrics.render()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(payload.decode())
        for sample in family.samples
    }


def labels(**values: str) -> frozenset[tuple[str, str]]:
    return frozenset(values.items())


def test_decisions_are_counted_by_endpoint_and_reason() -> None:
    metrics = DecisionMetrics()

    for _ in range(3):
        metrics.observe(endpoint="check", reason=Reason.OK, seconds=0.00005)
    metrics.observe(endpoint="check", reason=Reason.RATE_LIMITED, seconds=0.0003)
    metrics.observe(endpoint="authorize", reason=Reason.UNKNOWN_CREDENTIAL, seconds=0.2)

    found = samples(metrics)
    total = "accessplane_decisions_total"
    assert found[(total, labels(endpoint="check", reason="ok"))] == 3
    assert found[(total, labels(endpoint="check", reason="rate_limited"))] == 1
    assert found[(total, labels(endpoint="authorize", reason="unknown_credential"))] == 1
    # Every series exists from the start, at zero.
    assert found[(total, labels(endpoint="authorize", reason="ok"))] == 0
    assert found[(total, labels(endpoint="check", reason="quota_exceeded"))] == 0


def test_durations_fall_in_sub_millisecond_buckets() -> None:
    metrics = DecisionMetrics()

    metrics.observe(endpoint="check", reason=Reason.OK, seconds=0.00005)
    metrics.observe(endpoint="check", reason=Reason.OK, seconds=0.0003)
    metrics.observe(endpoint="check", reason=Reason.OK, seconds=0.02)

    found = samples(metrics)
    bucket = "accessplane_decision_duration_seconds_bucket"
    assert found[(bucket, labels(endpoint="check", le="0.0001"))] == 1
    assert found[(bucket, labels(endpoint="check", le="0.0005"))] == 2
    assert found[(bucket, labels(endpoint="check", le="0.025"))] == 3
    assert found[(bucket, labels(endpoint="check", le="+Inf"))] == 3
    assert found[("accessplane_decision_duration_seconds_count", labels(endpoint="check"))] == 3
    assert found[("accessplane_decision_duration_seconds_count", labels(endpoint="authorize"))] == 0


def test_the_cache_gauge_reads_the_callback_at_each_scrape() -> None:
    sizes = {"credentials": 12, "unknown": 3}
    calls: list[Mapping[str, int]] = []

    def cache_sizes() -> Mapping[str, int]:
        calls.append(dict(sizes))
        return sizes

    metrics = DecisionMetrics(cache_sizes)
    assert calls == []  # not read before the first scrape

    gauge = "accessplane_decision_cache_entries"
    found = samples(metrics)
    assert found[(gauge, labels(kind="credentials"))] == 12
    assert found[(gauge, labels(kind="unknown"))] == 3

    sizes["credentials"] = 40
    assert samples(metrics)[(gauge, labels(kind="credentials"))] == 40


def test_without_a_callback_there_is_no_cache_gauge() -> None:
    found = samples(DecisionMetrics())

    assert not any(name == "accessplane_decision_cache_entries" for name, _ in found)


def test_the_process_memory_is_exposed() -> None:
    found = samples(DecisionMetrics())

    assert found[("process_resident_memory_bytes", frozenset())] > 0
    assert ("python_info", labels()) not in found  # platform info carries labels
    assert any(name == "python_info" for name, _ in found)


def test_each_instance_has_its_own_registry() -> None:
    first, second = DecisionMetrics(), DecisionMetrics()  # the default registry would refuse

    first.observe(endpoint="check", reason=Reason.OK, seconds=0.001)

    key = ("accessplane_decisions_total", labels(endpoint="check", reason="ok"))
    assert (samples(first)[key], samples(second)[key]) == (1, 0)


def scraper(metrics: DecisionMetrics, token: str | None) -> httpx.AsyncClient:
    """A client of a tiny app serving only the metrics endpoint."""
    app = Starlette(routes=[Route("/metrics", metrics_endpoint(metrics, token))])
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
def metrics() -> DecisionMetrics:
    metrics = DecisionMetrics(lambda: {"credentials": 5})
    metrics.observe(endpoint="authorize", reason=Reason.IP_NOT_ALLOWED, seconds=0.001)
    return metrics


@pytest.fixture
async def open_scraper(metrics: DecisionMetrics) -> AsyncIterator[httpx.AsyncClient]:
    async with scraper(metrics, None) as client:
        yield client


@pytest.fixture
async def guarded_scraper(metrics: DecisionMetrics) -> AsyncIterator[httpx.AsyncClient]:
    async with scraper(metrics, TOKEN) as client:
        yield client


async def test_the_endpoint_answers_the_exposition_format(open_scraper) -> None:
    response = await open_scraper.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert (
        'accessplane_decisions_total{endpoint="authorize",reason="ip_not_allowed"} 1.0'
        in response.text
    )
    assert 'accessplane_decision_cache_entries{kind="credentials"} 5.0' in response.text


async def test_with_a_token_the_endpoint_answers_its_bearer(guarded_scraper) -> None:
    response = await guarded_scraper.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 200
    assert "accessplane_decisions_total" in response.text


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"X-API-Key": TOKEN},
    ],
    ids=["none", "wrong", "longer", "basic", "no-scheme", "other-header"],
)
async def test_with_a_token_other_requests_are_refused(guarded_scraper, headers) -> None:
    response = await guarded_scraper.get("/metrics", headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "accessplane_decisions_total" not in response.text


async def test_an_empty_token_leaves_the_endpoint_open(metrics: DecisionMetrics) -> None:
    """An unset setting read as "" must not demand ``Authorization: Bearer `` (nothing)."""
    async with scraper(metrics, "") as client:
        response = await client.get("/metrics")

    assert response.status_code == 200
