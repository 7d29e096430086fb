"""Prometheus metrics that stay right with one server process or several.

One process (``accessplane serve``, tests): every metric lives in the hub's own registry (an
application, or a test, may build several hubs in one process, which the default registry
refuses), and metrics read from in-process state (cache sizes, limiter counts) are read at
each scrape.

Several processes (``accessplane serve --workers N``): ``serve`` points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh private directory before the workers start.
prometheus-client then writes every counter and histogram to per-process files, and each scrape,
whichever worker answers it, adds up the files of all of them (``MultiProcessCollector``). State
held in one process's memory cannot be read by another, so each worker copies it into
multiprocess gauges (summed over live workers) and counters every ``SAMPLE_SECONDS``, and the
worker answering a scrape copies its own first. Database-wide figures (the outbox backlog) are
queried once per scrape by the answering worker and never summed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Literal

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from accessplane.periodic import flushing

logger = logging.getLogger(__name__)

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# How stale a worker's in-memory figures may be in a scrape answered by another worker.
SAMPLE_SECONDS = 5.0
# A scrape-time database query taking longer is abandoned (and reported as down).
SCRAPE_QUERY_SECONDS = 2.0

# A reading: label values -> value (``()`` for a metric without labels).
Reading = Mapping[tuple[str, ...], float]
ScrapeQuery = Callable[[], Awaitable[Iterable[Metric]]]
# "livesum": added up over the workers alive; "liveall": one series per worker (label pid).
GaugeMode = Literal["livesum", "liveall", "livemax", "livemin"]

_LIVE_FILE = re.compile(r"^gauge_live\w+?_(\d+)\.db$")


def multiprocess_dir() -> str | None:
    """The directory shared by the workers of ``serve --workers N``, if this is one of them."""
    return os.environ.get(MULTIPROCESS_DIR) or None


@dataclass(frozen=True)
class _Callback:
    name: str
    documentation: str
    labels: tuple[str, ...]
    read: Callable[[], Reading]
    counter: bool
    mode: GaugeMode

    def family(self) -> GaugeMetricFamily | CounterMetricFamily:
        kind = CounterMetricFamily if self.counter else GaugeMetricFamily
        return kind(self.name, self.documentation, labels=list(self.labels))


class _CallbackCollector(Collector):
    """One process: the callback is read at each scrape, so the value is never stale."""

    def __init__(self, spec: _Callback) -> None:
        self.spec = spec

    def describe(self) -> Iterable[Metric]:
        # Named without calling the callback: registration happens before its state exists.
        return [self.spec.family()]

    def collect(self) -> Iterable[Metric]:
        family = self.spec.family()
        for key, value in sorted(self.spec.read().items()):
            family.add_metric(list(key), value)
        return [family]


@dataclass
class _Sampled:
    """Several processes: the callback's reading copied into a multiprocess metric; counts
    that only grow (drops, outages) are added as their increase since the last copy."""

    spec: _Callback
    metric: Gauge | Counter
    seen: dict[tuple[str, ...], float] = field(default_factory=dict)

    def sample(self) -> None:
        for key, value in self.spec.read().items():
            child = self.metric.labels(*key) if key else self.metric
            if isinstance(child, Gauge):
                child.set(value)
                continue
            increase = value - self.seen.get(key, 0.0)
            if increase > 0:
                child.inc(increase)
            self.seen[key] = value


class _Fixed(Collector):
    def __init__(self, metrics: Sequence[Metric]) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self.metrics


class MetricsHub:
    """The metrics of one application: counters and histograms made through it, metrics read
    from callbacks, and database queries run at scrape time; ``scrape`` answers /metrics."""

    def __init__(self, directory: str | None = None) -> None:
        self.directory = directory if directory is not None else multiprocess_dir()
        self.registry = CollectorRegistry()
        self._sampled: list[_Sampled] = []
        self._queries: list[tuple[str, ScrapeQuery]] = []
        if self.directory is None:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
        else:
            self._worker_gauges()

    @property
    def multiprocess(self) -> bool:
        """Whether this process is one of several server workers sharing their metrics."""
        return self.directory is not None

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        """A counter, summed over the workers."""
        return Counter(name, documentation, labels, registry=self.registry)

    def histogram(
        self,
        name: str,
        documentation: str,
        labels: Sequence[str] = (),
        *,
        buckets: Sequence[float],
    ) -> Histogram:
        """A histogram, its buckets summed over the workers."""
        return Histogram(name, documentation, labels, buckets=buckets, registry=self.registry)

    def gauge_from(
        self,
        name: str,
        documentation: str,
        read: Callable[[], Reading],
        *,
        labels: Sequence[str] = (),
        mode: GaugeMode = "livesum",
    ) -> None:
        """A gauge read from ``read`` (in-process state); with several workers, combined by
        ``mode`` over the live ones."""
        self._add(_Callback(name, documentation, tuple(labels), read, False, mode))

    def counter_from(
        self,
        name: str,
        documentation: str,
        read: Callable[[], Reading],
        *,
        labels: Sequence[str] = (),
    ) -> None:
        """A counter read from ``read``, a count that only grows (exposed as ``<name>_total``)."""
        self._add(_Callback(name, documentation, tuple(labels), read, True, "livesum"))

    def _add(self, spec: _Callback) -> None:
        if self.directory is None:
            self.registry.register(_CallbackCollector(spec))
            return
        metric: Gauge | Counter
        if spec.counter:
            metric = Counter(spec.name, spec.documentation, spec.labels, registry=self.registry)
        else:
            metric = Gauge(
                spec.name,
                spec.documentation,
                spec.labels,
                registry=self.registry,
                multiprocess_mode=spec.mode,
            )
        self._sampled.append(_Sampled(spec, metric))

    def add_query(self, name: str, query: ScrapeQuery) -> None:
        """A database query run once per scrape (by the worker answering it), for figures that
        are the same for every worker; bounded by ``SCRAPE_QUERY_SECONDS``."""
        self._queries.append((name, query))

    def sample(self) -> None:
        """Copy this process's in-memory figures into the multiprocess files."""
        for sampled in self._sampled:
            sampled.sample()

    @asynccontextmanager
    async def sampling(self, interval: float = SAMPLE_SECONDS) -> AsyncIterator[None]:
        """With several workers, keep this worker's figures current while inside, and drop
        its live gauges on the way out (a worker that stopped holds no cache)."""
        if self.directory is None:
            yield
            return
        forget_dead_workers(self.directory)  # those a crash left behind, before a restart

        async def sample() -> None:
            self.sample()

        try:
            async with flushing(sample, interval, name="metrics-sampling"):
                yield
        finally:
            # prometheus-client's multiprocess module has no type hints.
            mark_process_dead(os.getpid(), self.directory)  # type: ignore[no-untyped-call]

    async def scrape(self) -> tuple[bytes, str]:
        """The exposition of every metric (all workers' counts, this scrape's queries)."""
        self.sample()
        live = await self._run_queries()
        return self.render(live), CONTENT_TYPE_LATEST

    def render(self, extra: Sequence[Metric] = ()) -> bytes:
        """The Prometheus text exposition, without the scrape-time queries unless given."""
        if self.directory is None:
            registry = self.registry
        else:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=self.directory)  # type: ignore[no-untyped-call]
        payload = generate_latest(registry)
        if extra:
            fixed = CollectorRegistry()
            fixed.register(_Fixed(extra))
            payload += generate_latest(fixed)
        return payload

    async def _run_queries(self) -> list[Metric]:
        found: list[Metric] = []
        up = GaugeMetricFamily(
            "accessplane_metrics_query_up",
            "Whether the scrape-time query answered (1) or failed or timed out (0).",
            labels=["query"],
        )
        for name, query in self._queries:
            try:
                async with asyncio.timeout(SCRAPE_QUERY_SECONDS):
                    found.extend(await query())
            except Exception:  # a scrape reports a failed query instead of failing whole
                logger.warning("metrics query %s failed", name, exc_info=True)
                up.add_metric([name], 0)
            else:
                up.add_metric([name], 1)
        return [*found, up] if self._queries else found

    def _worker_gauges(self) -> None:
        """Each worker's own memory, CPU and open files (labelled by pid): the process
        collector would report only the worker answering the scrape."""
        process = ProcessCollector(registry=None)

        def reading(sample: str) -> Callable[[], Reading]:
            def read() -> Reading:
                values = {s.name: s.value for f in process.collect() for s in f.samples}
                return {(): values[sample]} if sample in values else {}

            return read

        for name, sample, documentation in (
            ("resident_memory_bytes", "process_resident_memory_bytes", "Resident memory."),
            ("cpu_seconds", "process_cpu_seconds_total", "CPU time used since the start."),
            ("open_fds", "process_open_fds", "Open file descriptors."),
        ):
            self.gauge_from(
                f"accessplane_worker_{name}",
                f"{documentation} One series per server worker (label pid).",
                reading(sample),
                mode="liveall",
            )


def forget_dead_workers(directory: str) -> list[int]:
    """Remove the live gauges of workers that are gone (their counters stay: counts never go
    back); returns their pids."""
    gone = set()
    for name in os.listdir(directory):
        found = _LIVE_FILE.match(name)
        if found and not _alive(int(found.group(1))):
            gone.add(int(found.group(1)))
    for pid in gone:
        # Two workers starting together may both clean up after the same gone one.
        with suppress(FileNotFoundError):
            mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]  # (no type hints)
    return sorted(gone)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
