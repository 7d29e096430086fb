"""Prometheus metrics of the decision endpoint, and the endpoint that exposes every metric.

The metrics live in a ``MetricsHub`` (``observability/metrics.py``): with one process in a
registry of their own (an application, or a test, may build several in one process, which the
global default registry refuses), with several server workers summed over all of them.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from accessplane.decision.ratelimits import FailureMode, LimiterStats
from accessplane.decision.reasons import Reason
from accessplane.observability.metrics import MetricsHub, Reading
from accessplane.observability.tracing import Tracing

ENDPOINTS = ("check", "authorize")
# A decision from the caches takes tens of microseconds; one that reads the database a few
# milliseconds. The default buckets (5 ms to 10 s) would put them all in the first bucket.
DURATION_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
)


def _by_kind(read: Callable[[], Mapping[str, int]]) -> Callable[[], Reading]:
    return lambda: {(kind,): size for kind, size in read().items()}


class DecisionMetrics:
    """Decisions by endpoint and reason and their duration; with ``cache_sizes``, the caches'
    sizes; with ``cache_lookups``, their hits and misses; with ``limiter_stats``, the outages
    of the shared rate-limit counters. ``hub`` holds them (a new one by default, which also
    exposes the process's own metrics); with ``tracing``, each decision is a span too."""

    def __init__(
        self,
        cache_sizes: Callable[[], Mapping[str, int]] | None = None,
        limiter_stats: LimiterStats | None = None,
        *,
        cache_lookups: Callable[[], Mapping[tuple[str, str], int]] | None = None,
        hub: MetricsHub | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self.hub = hub or MetricsHub()
        self.registry = self.hub.registry
        self.tracing = tracing
        self._decisions = self.hub.counter(
            "accessplane_decisions",  # exposed as accessplane_decisions_total
            "Decisions answered, by endpoint and reason.",
            ["endpoint", "reason"],
        )
        self._duration = self.hub.histogram(
            "accessplane_decision_duration_seconds",
            "Time to reach a decision, by endpoint.",
            ["endpoint"],
            buckets=DURATION_BUCKETS,
        )
        if cache_sizes is not None:
            self.hub.gauge_from(
                "accessplane_decision_cache_entries",
                "Entries held by the decision endpoint's caches (summed over the workers).",
                _by_kind(cache_sizes),
                labels=["kind"],
            )
        if cache_lookups is not None:
            self.hub.counter_from(
                "accessplane_decision_cache_lookups",
                "Look-ups in the decision caches, by cache kind and result (hit, miss).",
                lambda: {key: float(count) for key, count in cache_lookups().items()},
                labels=["kind", "result"],
            )
        if limiter_stats is not None:
            self._limiter_counters(limiter_stats)
        # Every series exists from the start (a rate over a series that appears late misses
        # its first increase), and ``observe`` finds its children by one dict lookup rather
        # than the label validation and lock of ``labels()``.
        self._counters = {
            (endpoint, reason): self._decisions.labels(endpoint, reason.value)
            for endpoint in ENDPOINTS
            for reason in Reason
        }
        self._histograms = {endpoint: self._duration.labels(endpoint) for endpoint in ENDPOINTS}

    def _limiter_counters(self, stats: LimiterStats) -> None:
        """Outages of the shared rate-limit counters and the decisions taken during them, read
        from the limiter's own counts (nothing to do per request)."""
        self.hub.counter_from(
            "accessplane_limiter_outages",  # exposed as accessplane_limiter_outages_total
            "Times the shared rate-limit counters (Redis) became unreachable.",
            lambda: {(): stats.outages},
        )
        self.hub.counter_from(
            "accessplane_limiter_unavailable_decisions",
            "Decisions with a rate limit or quota taken while the shared counters were "
            "unreachable, by failure mode (closed: refused, open: counted in memory).",
            lambda: {(mode.value,): stats.decisions[mode] for mode in FailureMode},
            labels=["mode"],
        )

    def observe(self, *, endpoint: str, reason: Reason, seconds: float) -> None:
        """Count one decision and its duration (called on every decision)."""
        counter = self._counters.get((endpoint, reason))
        if counter is None:
            counter = self._counters[(endpoint, reason)] = self._decisions.labels(
                endpoint, str(reason)
            )
        histogram = self._histograms.get(endpoint)
        if histogram is None:
            histogram = self._histograms[endpoint] = self._duration.labels(endpoint)
        counter.inc()
        histogram.observe(seconds)
        if self.tracing is not None:
            self.tracing.record(
                "decision",
                seconds=seconds,
                attributes={
                    "accessplane.decision.endpoint": endpoint,
                    "accessplane.decision.reason": str(reason),
                },
            )

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition of every metric (without scrape-time queries), and
        its content type."""
        return self.hub.render(), CONTENT_TYPE_LATEST

    async def scrape(self) -> tuple[bytes, str]:
        """What /metrics answers: ``render`` plus the hub's scrape-time queries."""
        return await self.hub.scrape()


class Scraped(Protocol):
    """What /metrics answers from (``DecisionMetrics``, or a ``MetricsHub``)."""

    async def scrape(self) -> tuple[bytes, str]: ...


def metrics_endpoint(
    metrics: Scraped, token: str | None
) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint answering the metrics. With a ``token`` (an empty one counts as
    none), only requests carrying ``Authorization: Bearer <token>`` get them; others get 401."""
    expected = token.encode() if token else None

    async def endpoint(request: Request) -> Response:
        if expected is not None and not _bearer_matches(request, expected):
            return JSONResponse(
                {"error": "unauthorized"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        payload, content_type = await metrics.scrape()
        return Response(payload, media_type=content_type)

    return endpoint


def _bearer_matches(request: Request, expected: bytes) -> bool:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    # Starlette decodes headers as Latin-1; encoding back gives the bytes that were sent.
    given = credentials.strip().encode("latin-1")
    # Compared even when the scheme is wrong, so the answer's timing says nothing of the token.
    return hmac.compare_digest(given, expected) and scheme.lower() == "bearer"
