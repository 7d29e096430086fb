"""The observers of one application, made together from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from accessplane.observability.graphql import GraphQLMetrics
from accessplane.observability.http import HttpMetrics
from accessplane.observability.metrics import MetricsHub
from accessplane.observability.tracing import Tracing, tracing_from_settings
from accessplane.settings import Settings


@dataclass(frozen=True)
class Observers:
    """The metrics hub with its HTTP and GraphQL metrics, and the tracing (None when off)."""

    hub: MetricsHub
    http: HttpMetrics
    graphql: GraphQLMetrics
    tracing: Tracing | None


def observers(settings: Settings, *, tracing: Tracing | None = None) -> Observers:
    """New observers; ``tracing`` replaces the one the settings would make (tests)."""
    hub = MetricsHub()
    return Observers(
        hub=hub,
        http=HttpMetrics(hub),
        graphql=GraphQLMetrics(hub),
        tracing=tracing or tracing_from_settings(settings),
    )
