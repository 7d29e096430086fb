"""Tracing: off by default with nothing of OpenTelemetry imported; on, a span per HTTP request,
GraphQL operation and decision, continuing the caller's trace and sent over OTLP/HTTP."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncEngine

from accessplane.app import create_app
from accessplane.observability.observers import observers
from accessplane.observability.tracing import tracing_from_settings
from accessplane.settings import Settings
from tests.support.scenario import Scenario

OFF = """
import asyncio, sys
import httpx
from accessplane.app import create_app
from accessplane.settings import Settings

async def main() -> None:
    app = create_app(Settings(environment="test", database_url=sys.argv[1]))
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=transport, base_url="http://testserver"
    ) as client:
        assert (await client.get("/healthz")).status_code == 200
        await client.post("/graphql", json={"query": "{ viewer { name } }"})
        await client.post("/v1/check", json={"credential": "apt_x", "api": "orders"})
        assert (await client.get("/metrics")).status_code == 200

asyncio.run(main())
print(sorted(m for m in sys.modules if m.startswith("opentelemetry")))
"""
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def test_off_nothing_of_opentelemetry_is_imported(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the import check needs one database only")
    done = subprocess.run(
        [sys.executable, "-c", OFF, database_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def traced(
    settings: Settings, engine: AsyncEngine, exporter: InMemorySpanExporter
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with tracing on, its spans kept in memory."""
    on = settings.model_copy(update={"otel_enabled": True})
    app = create_app(
        on,
        engine=engine,
        observed=observers(on, tracing=tracing_from_settings(on, exporter=exporter)),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def by_name(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    return {span.name: span for span in exporter.get_finished_spans()}


async def test_a_graphql_request_is_a_server_span_with_its_operation_inside(
    traced: httpx.AsyncClient, exporter: InMemorySpanExporter, scenario: Scenario
) -> None:
    world = await scenario.workspace()
    key = await scenario.api_key(world)

    response = await traced.post(
        "/graphql",
        json={"query": "query Me { viewer { name } }"},
        headers={"Authorization": f"Bearer {key}", "traceparent": TRACEPARENT},
    )
    assert response.status_code == 200

    spans = by_name(exporter)
    request, operation = spans["POST /graphql"], spans["query Me"]
    assert request.kind is SpanKind.SERVER
    assert format(request.context.trace_id, "032x") == TRACE_ID  # the caller's trace goes on
    assert request.attributes is not None
    assert request.attributes["http.route"] == "/graphql"
    assert request.attributes["http.response.status_code"] == 200
    assert operation.parent is not None
    assert operation.parent.span_id == request.context.span_id
    assert operation.attributes is not None
    assert operation.attributes["graphql.operation.name"] == "Me"
    assert operation.attributes["accessplane.outcome"] == "ok"


async def test_a_decision_is_a_span_inside_its_request(
    traced: httpx.AsyncClient, exporter: InMemorySpanExporter
) -> None:
    response = await traced.get("/v1/authorize?api=orders", headers={"X-API-Key": "apt_nothing"})
    assert response.status_code == 401

    spans = by_name(exporter)
    request, decision = spans["GET /v1/authorize"], spans["decision"]
    assert decision.parent is not None
    assert decision.parent.span_id == request.context.span_id
    assert decision.attributes is not None
    assert decision.attributes["accessplane.decision.reason"] == "unknown_credential"
    assert decision.start_time is not None
    assert decision.end_time is not None
    assert decision.start_time <= decision.end_time


class Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver: keeps each export request's body."""

    received: list[tuple[str, str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    server = HTTPServer(("127.0.0.1", 0), Collector)
    Collector.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1/traces", Collector.received
    finally:
        server.shutdown()
        server.server_close()


async def test_spans_are_exported_over_otlp_http_to_the_endpoint(
    settings: Settings,
    engine: AsyncEngine,
    collector: tuple[str, list[tuple[str, str, bytes]]],
) -> None:
    endpoint, received = collector
    on = settings.model_copy(
        update={"otel_enabled": True, "otel_endpoint": endpoint, "otel_service_name": "ap-test"}
    )
    app = create_app(on, engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        assert (await client.get("/healthz")).status_code == 200
    # Leaving the lifespan sends what the batch still holds.

    [(path, content_type, body)] = received
    assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
    export = ExportTraceServiceRequest.FromString(body)
    [resource] = export.resource_spans
    service = {a.key: a.value.string_value for a in resource.resource.attributes}
    assert service["service.name"] == "ap-test"
    names = [span.name for scope in resource.scope_spans for span in scope.spans]
    assert names == ["GET /healthz"]
