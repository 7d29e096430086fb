"""GraphQL operations by name and outcome, with their latency, and a span per operation."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from accessplane.errors import DomainError
from accessplane.observability.metrics import MetricsHub
from accessplane.observability.tracing import Tracing

# Operation names become label values: the first this many distinct names of operations that
# passed validation are kept, any later one is counted as "other" (callers choose the names).
MAX_OPERATION_NAMES = 200
ANONYMOUS, OTHER = "anonymous", "other"
OUTCOMES = ("ok", "user_error", "error")
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,99}$")
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class GraphQLMetrics:
    """``accessplane_graphql_operations_total`` and its duration histogram."""

    def __init__(self, hub: MetricsHub, *, max_names: int = MAX_OPERATION_NAMES) -> None:
        self.max_names = max_names
        self._names: set[str] = set()
        self._lock = threading.Lock()
        self._children: dict[tuple[str, str], tuple[Any, Any]] = {}
        self.operations = hub.counter(
            "accessplane_graphql_operations",
            "GraphQL operations, by operation name (anonymous when unnamed, other past the "
            f"first {max_names} names) and outcome (ok, user_error, error).",
            ("operation", "outcome"),
        )
        self.duration = hub.histogram(
            "accessplane_graphql_operation_duration_seconds",
            "Time to answer a GraphQL operation, by operation name.",
            ("operation",),
            buckets=DURATION_BUCKETS,
        )

    def label(self, name: str | None, *, valid: bool, admit: bool = True) -> str:
        """The label of an operation name: a bounded set whatever callers send. A name not
        seen yet takes a place only when ``admit`` (an authenticated caller's): anyone could
        otherwise fill the places with made-up names and leave real ones as ``other``."""
        if not name:
            return ANONYMOUS
        if not valid or not _NAME.match(name):
            return OTHER
        if name in self._names:
            return name
        if not admit:
            return OTHER
        with self._lock:
            if len(self._names) >= self.max_names:
                return OTHER
            self._names.add(name)
        return name

    def observe(self, *, operation: str, outcome: str, seconds: float) -> None:
        """Count one operation (by its label) and its duration."""
        # The children are found by one dict lookup rather than the label validation and lock
        # of ``labels()``; there are as many as bounded labels.
        children = self._children.get((operation, outcome))
        if children is None:
            children = self._children[(operation, outcome)] = (
                self.operations.labels(operation, outcome),
                self.duration.labels(operation),
            )
        children[0].inc()
        children[1].observe(seconds)


def outcome_of(result: Any) -> str:
    """``error``: the server failed (an error that is not the caller's); ``user_error``: the
    caller's mistake (refused authentication or permission, a bad document or input, a
    payload's userErrors); else ``ok``."""
    if result is None:
        return "error"
    errors: list[GraphQLError] = getattr(result, "errors", None) or []
    if any(_is_internal(error) for error in errors):
        return "error"
    if errors:
        return "user_error"
    data = getattr(result, "data", None)
    if isinstance(data, dict) and any(
        isinstance(value, dict) and value.get("userErrors") for value in data.values()
    ):
        return "user_error"
    return "ok"


def _is_internal(error: GraphQLError) -> bool:
    original = error.original_error
    # A variable that failed coercion wraps a GraphQLError: the caller's.
    return original is not None and not isinstance(original, DomainError | GraphQLError)


class OperationObserver(SchemaExtension):
    """Times each operation and counts it by name and outcome; opens its span when tracing.
    Listed last among the schema's extensions, so it sees errors before they are masked."""

    def __init__(
        self,
        *,
        metrics: GraphQLMetrics | None = None,
        tracing: Tracing | None = None,
        execution_context: ExecutionContext | None = None,
    ) -> None:
        self.metrics = metrics
        self.tracing = tracing

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        if self.tracing is None:
            try:
                yield
            finally:
                self._observe(started, None)
            return
        with self.tracing.span("graphql") as span:
            try:
                yield
            finally:
                self._observe(started, span)

    def _observe(self, started: float, span: Any) -> None:
        context = self.execution_context
        valid = _validated(context)
        name = context.operation_name
        admit = getattr(context.context, "viewer", None) is not None
        operation = (
            self.metrics.label(name, valid=valid, admit=admit) if self.metrics else name
        ) or ANONYMOUS
        outcome = outcome_of(context.result)
        if self.metrics is not None:
            self.metrics.observe(
                operation=operation, outcome=outcome, seconds=time.perf_counter() - started
            )
        if span is not None:
            _describe_span(span, context, operation, outcome, valid=valid)


def _validated(context: ExecutionContext) -> bool:
    """Whether the document parsed and passed validation (errors of parsing and validation
    carry no original error; a refused authentication before execution does)."""
    errors = context.pre_execution_errors or []
    return context.graphql_document is not None and all(e.original_error for e in errors)


def _describe_span(
    span: Any, context: ExecutionContext, operation: str, outcome: str, *, valid: bool
) -> None:
    kind = "operation"
    if valid:
        with suppress(RuntimeError):  # an operationName the document does not define
            kind = context.operation_type.value
    span.update_name(f"{kind} {operation}")
    span.set_attribute("graphql.operation.type", kind)
    span.set_attribute("graphql.operation.name", operation)
    span.set_attribute("accessplane.outcome", outcome)
    if outcome == "error":
        from opentelemetry.trace import Status, StatusCode

        span.set_status(Status(StatusCode.ERROR))
