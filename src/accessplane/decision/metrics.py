"""Prometheus metrics of the decision endpoint, and the endpoint that exposes them.

Each ``DecisionMetrics`` holds a registry of its own: an application (or a test) may build
several in one process, which the global default registry refuses.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterable, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from accessplane.decision.ratelimits import FailureMode, LimiterStats
from accessplane.decision.reasons import Reason

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
_CACHE_ENTRIES = "accessplane_decision_cache_entries"
_CACHE_HELP = "Entries held by the decision endpoint's caches."


class _CacheEntries(Collector):
    """A gauge per cache kind, read from the callback at each scrape (never stale)."""

    def __init__(self, cache_sizes: Callable[[], Mapping[str, int]]) -> None:
        self.cache_sizes = cache_sizes

    def describe(self) -> Iterable[Metric]:
        # Named without calling the callback: registration happens before the caches exist.
        return [GaugeMetricFamily(_CACHE_ENTRIES, _CACHE_HELP, labels=["kind"])]

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(_CACHE_ENTRIES, _CACHE_HELP, labels=["kind"])
        for kind, size in sorted(self.cache_sizes().items()):
            family.add_metric([kind], size)
        return [family]


class _LimiterCounters(Collector):
    """Outages of the shared rate-limit counters and the decisions taken during them, read
    from the limiter's own counts at each scrape (nothing to do per request)."""

    def __init__(self, stats: LimiterStats) -> None:
        self.stats = stats

    def collect(self) -> Iterable[Metric]:
        outages = CounterMetricFamily(
            "accessplane_limiter_outages",  # exposed as accessplane_limiter_outages_total
            "Times the shared rate-limit counters (Redis) became unreachable.",
            value=self.stats.outages,
        )
        decisions = CounterMetricFamily(
            "accessplane_limiter_unavailable_decisions",
            "Decisions with a rate limit or quota taken while the shared counters were "
            "unreachable, by failure mode (closed: refused, open: counted in memory).",
            labels=["mode"],
        )
        for mode in FailureMode:
            decisions.add_metric([mode.value], self.stats.decisions[mode])
        return [outages, decisions]


class DecisionMetrics:
    """Decisions by endpoint and reason, their duration, the caches' sizes and the process's
    own metrics (CPU, resident memory, open files), in a registry of its own; with
    ``limiter_stats``, the outages of the shared rate-limit counters too."""

    def __init__(
        self,
        cache_sizes: Callable[[], Mapping[str, int]] | None = None,
        limiter_stats: LimiterStats | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self._decisions = Counter(
            "accessplane_decisions",  # exposed as accessplane_decisions_total
            "Decisions answered, by endpoint and reason.",
            ["endpoint", "reason"],
            registry=self.registry,
        )
        self._duration = Histogram(
            "accessplane_decision_duration_seconds",
            "Time to reach a decision, by endpoint.",
            ["endpoint"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        if cache_sizes is not None:
            self.registry.register(_CacheEntries(cache_sizes))
        if limiter_stats is not None:
            self.registry.register(_LimiterCounters(limiter_stats))
        # Every series exists from the start (a rate over a series that appears late misses
        # its first increase), and ``observe`` finds its children by one dict lookup rather
        # than the label validation and lock of ``labels()``.
        self._counters = {
            (endpoint, reason): self._decisions.labels(endpoint, reason.value)
            for endpoint in ENDPOINTS
            for reason in Reason
        }
        self._histograms = {endpoint: self._duration.labels(endpoint) for endpoint in ENDPOINTS}

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

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition of every metric, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def metrics_endpoint(
    metrics: DecisionMetrics, token: str | None
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
        payload, content_type = metrics.render()
        return Response(payload, media_type=content_type)

    return endpoint


def _bearer_matches(request: Request, expected: bytes) -> bool:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    # Starlette decodes headers as Latin-1; encoding back gives the bytes that were sent.
    given = credentials.strip().encode("latin-1")
    # Compared even when the scheme is wrong, so the answer's timing says nothing of the token.
    return hmac.compare_digest(given, expected) and scheme.lower() == "bearer"
