"""HTTP requests by route template and status (a metrics middleware), and a span per request
(a tracing middleware, only when tracing is on)."""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accessplane.observability.metrics import MetricsHub
from accessplane.observability.tracing import Tracing

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Routes answered by the application's own handlers take from a millisecond (health checks)
# to seconds (a large GraphQL page, a login round trip to the provider).
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
UNMATCHED = "unmatched"
# Answered in front of the router (decision/http.py), so they carry no route: named here.
DECISION_ROUTES = ("/v1/check", "/v1/authorize")


def route_of(scope: Scope) -> str:
    """The template of the route that answered (``/logos/{client_id}``), never the raw path,
    so the series stay as few as the routes; ``unmatched`` when no route took the request."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str) and path:
        return path
    given = str(scope.get("path", ""))
    for known in DECISION_ROUTES:
        if given == known or given.startswith(known + "/"):
            return known
    return UNMATCHED


def method_of(scope: Scope) -> str:
    """The request's method, or ``OTHER`` for one outside the usual set (bounded labels)."""
    method = str(scope.get("method", ""))
    return method if method in METHODS else "OTHER"


class HttpMetrics:
    """``accessplane_http_requests_total`` and ``accessplane_http_request_duration_seconds``."""

    def __init__(self, hub: MetricsHub) -> None:
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self.requests = hub.counter(
            "accessplane_http_requests",
            "HTTP requests answered, by method, route template and status (the decision "
            "endpoints are counted by accessplane_decisions_total).",
            ("method", "route", "status"),
        )
        self.duration = hub.histogram(
            "accessplane_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ("method", "route"),
            buckets=DURATION_BUCKETS,
        )

    def observe(self, *, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its duration."""
        # One dict lookup per request rather than the label validation and lock of
        # ``labels()``: methods, routes and statuses are few.
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(method, route, str(status)),
                self.duration.labels(method, route),
            )
        children[0].inc()
        children[1].observe(seconds)


class _Status:
    """The status a response started with (500 if the application raised before one)."""

    def __init__(self, send: Send) -> None:
        self.code = 500
        self._send = send

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.code = int(message["status"])
        await self._send(message)


class HttpMetricsMiddleware:
    """Counts and times each HTTP request once it is answered."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = _Status(send)
        try:
            await self.app(scope, receive, status.send)
        finally:
            self.metrics.observe(
                method=method_of(scope),
                route=route_of(scope),
                status=status.code,
                seconds=time.perf_counter() - started,
            )


class HttpTracingMiddleware:
    """A server span per HTTP request, continuing the caller's trace (``traceparent``); the
    outermost middleware, so decisions get theirs too."""

    def __init__(self, app: ASGIApp, *, tracing: Tracing) -> None:
        self.app = app
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = method_of(scope)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        status = _Status(send)
        with self.tracing.span(
            method, headers=headers, server=True, attributes={"http.request.method": method}
        ) as span:
            try:
                await self.app(scope, receive, status.send)
            finally:
                route = route_of(scope)
                if route != UNMATCHED:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status.code)
                if status.code >= 500:
                    from opentelemetry.trace import Status, StatusCode

                    span.set_status(Status(StatusCode.ERROR))
