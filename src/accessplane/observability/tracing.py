"""Optional OpenTelemetry tracing (``ACCESSPLANE_OTEL_ENABLED``): spans for HTTP requests,
GraphQL operations and decisions, exported over OTLP/HTTP.

Off by default; then nothing of OpenTelemetry is imported and nothing is sent. The packages
come with the ``otel`` extra (``pip install 'accessplane[otel]'``). Each application has its
own tracer provider (never the global one), so tests may build several.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from accessplane import __version__
from accessplane.settings import ConfigurationError, Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span, Tracer

Attributes = Mapping[str, str | int | float | bool]


class Tracing:
    """Makes spans with one application's tracer; ``shutdown`` sends what is left."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self.tracer: Tracer = provider.get_tracer("accessplane", __version__)

    @contextmanager
    def span(
        self,
        name: str,
        *,
        attributes: Attributes | None = None,
        headers: Mapping[str, str] | None = None,
        server: bool = False,
    ) -> Iterator[Span]:
        """A span around the block, the current one inside it. With ``headers``, continues the
        caller's trace (W3C ``traceparent``); ``server`` marks a request received."""
        from opentelemetry import propagate
        from opentelemetry.trace import SpanKind

        parent = propagate.extract(headers) if headers is not None else None
        kind = SpanKind.SERVER if server else SpanKind.INTERNAL
        with self.tracer.start_as_current_span(
            name, context=parent, kind=kind, attributes=attributes
        ) as span:
            yield span

    def record(self, name: str, *, seconds: float, attributes: Attributes) -> None:
        """A span for work that just ended and took ``seconds`` (a decision: timed by its
        endpoint, so the hot path makes no context switch for tracing)."""
        end = time.time_ns()
        span = self.tracer.start_span(
            name, start_time=end - int(seconds * 1e9), attributes=attributes
        )
        span.end(end_time=end)

    def shutdown(self) -> None:
        """Export the spans still queued, then stop."""
        self.provider.shutdown()


def tracing_from_settings(
    settings: Settings, *, exporter: SpanExporter | None = None
) -> Tracing | None:
    """None when tracing is off. Otherwise spans are batched to the OTLP/HTTP endpoint (or to
    ``exporter``, sent one by one: tests give an in-memory one)."""
    if not settings.otel_enabled:
        return None
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError:
        raise ConfigurationError(
            "ACCESSPLANE_OTEL_ENABLED needs the OpenTelemetry packages: "
            "pip install 'accessplane[otel]'"
        ) from None
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": settings.otel_service_name, "service.version": __version__}
        )
    )
    processor: Any
    if exporter is None:
        processor = BatchSpanProcessor(_otlp_exporter(settings))
    else:
        processor = SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    return Tracing(provider)


def _otlp_exporter(settings: Settings) -> SpanExporter:
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        raise ConfigurationError(
            "ACCESSPLANE_OTEL_ENABLED needs the OTLP/HTTP exporter: pip install 'accessplane[otel]'"
        ) from None
    # No endpoint: the exporter's own default and OTEL_EXPORTER_OTLP_* variables apply.
    return OTLPSpanExporter(endpoint=settings.otel_endpoint or None)
