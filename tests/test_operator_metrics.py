"""/metrics beyond decisions: HTTP requests by route template, GraphQL operations by name and
outcome, the connection pool, the outboxes' backlogs (queried at scrape time), the decision
caches' hit counts and the call log's buffer; read back as Prometheus parses them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from graphql import GraphQLError
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from accessplane.db.engine import transaction
from accessplane.errors import Forbidden
from accessplane.models import Notification, NotificationKind, NotificationStatus
from accessplane.models.base import utcnow
from accessplane.models.webhooks import WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint
from accessplane.notify.backlog import outbox_backlog, outbox_query, webhook_backlog
from accessplane.observability.graphql import GraphQLMetrics, outcome_of
from accessplane.observability.metrics import MetricsHub
from tests.support.scenario import Scenario, World

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def labels(**values: str) -> frozenset[tuple[str, str]]:
    return frozenset(values.items())


async def scrape(http: httpx.AsyncClient) -> Samples:
    response = await http.get("/metrics")
    assert response.status_code == 200
    return parse(response.text)


async def test_http_requests_are_counted_by_route_template_not_path(
    http: httpx.AsyncClient,
) -> None:
    for client_id in (
        "0b8c1f9e-0000-4000-8000-000000000001",
        "0b8c1f9e-0000-4000-8000-00000000002a",
    ):
        assert (await http.get(f"/logos/{client_id}")).status_code == 404
    assert (await http.get("/healthz")).status_code == 200
    assert (await http.post("/healthz")).status_code == 405

    found = await scrape(http)

    total = "accessplane_http_requests_total"
    assert found[(total, labels(method="GET", route="/logos/{client_id}", status="404"))] == 2
    assert found[(total, labels(method="GET", route="/healthz", status="200"))] == 1
    assert found[(total, labels(method="POST", route="/healthz", status="405"))] == 1
    assert not any("0b8c1f9e" in str(key) for key in found)  # raw paths never become labels
    count = "accessplane_http_request_duration_seconds_count"
    assert found[(count, labels(method="GET", route="/logos/{client_id}"))] == 2


async def test_decisions_are_not_counted_as_http_requests(http: httpx.AsyncClient) -> None:
    await http.post("/v1/check", json={"credential": "apt_unknown", "api": "orders"})

    found = await scrape(http)

    assert (
        found[
            ("accessplane_decisions_total", labels(endpoint="check", reason="unknown_credential"))
        ]
        == 1
    )
    assert not any(
        name == "accessplane_http_requests_total" and ("route", "/v1/check") in key
        for name, key in found
    )


CREATE_API = """
mutation CreateApi($input: CreateApiInput!) {
  createApi(input: $input) { api { id } userErrors { code } }
}
"""


async def test_graphql_operations_are_counted_by_name_and_outcome(
    graphql: Any, scenario: Scenario, http: httpx.AsyncClient
) -> None:
    world = await scenario.workspace()
    owner = graphql.as_key(await scenario.api_key(world))

    assert (await owner.execute("query Me { viewer { name } }")).ok()
    assert (await owner.execute("{ viewer { name } }")).ok()
    refused = await owner.execute(
        CREATE_API, input={"workspaceId": world.id, "name": "", "identifier": "x"}
    )
    assert refused.ok()["createApi"]["userErrors"]
    anonymous = await graphql.anonymous().execute("query Me { viewer { name } }")
    assert anonymous.error_codes == ["UNAUTHENTICATED"]
    unseen = await graphql.anonymous().execute("query Probe1 { viewer { name } }")
    assert unseen.error_codes == ["UNAUTHENTICATED"]
    assert (await owner.execute("query Broken { nothing }")).errors

    found = await scrape(http)

    total = "accessplane_graphql_operations_total"
    assert found[(total, labels(operation="Me", outcome="ok"))] == 1
    assert found[(total, labels(operation="Me", outcome="user_error"))] == 1
    assert found[(total, labels(operation="anonymous", outcome="ok"))] == 1
    assert found[(total, labels(operation="CreateApi", outcome="user_error"))] == 1
    # A document that failed validation, and a name first sent by an anonymous caller: the
    # caller's invention, never a label.
    assert found[(total, labels(operation="other", outcome="user_error"))] == 2
    assert not any(("operation", "Probe1") in key for _, key in found)
    assert ("accessplane_graphql_operation_duration_seconds_count", labels(operation="Me")) in found


def test_operation_names_are_capped() -> None:
    metrics = GraphQLMetrics(MetricsHub(), max_names=2)

    assert [metrics.label(n, valid=True) for n in ("A", "B", "C", "A", None)] == [
        "A",
        "B",
        "other",
        "A",
        "anonymous",
    ]
    assert metrics.label("x" * 101, valid=True) == "other"
    assert metrics.label("Fine", valid=False) == "other"


def test_only_authenticated_callers_add_operation_names() -> None:
    metrics = GraphQLMetrics(MetricsHub(), max_names=2)

    assert metrics.label("Known", valid=True) == "Known"
    # An anonymous caller's name takes no place (it could fill them all) ...
    assert metrics.label("Invented", valid=True, admit=False) == "other"
    assert metrics.label("Real", valid=True) == "Real"
    # ... but one already known keeps its label whoever sends it.
    assert metrics.label("Known", valid=True, admit=False) == "Known"


class Result:
    def __init__(self, errors: list[GraphQLError] | None = None, data: Any = None) -> None:
        self.errors, self.data = errors, data


def test_outcomes_tell_the_servers_failures_from_the_callers() -> None:
    internal = GraphQLError("boom", original_error=RuntimeError("database down"))
    refused = GraphQLError("no", original_error=Forbidden("The permission is needed."))

    assert outcome_of(Result()) == "ok"
    assert outcome_of(Result([refused])) == "user_error"
    assert outcome_of(Result([GraphQLError("Cannot query field")])) == "user_error"
    assert outcome_of(Result([refused, internal])) == "error"
    assert outcome_of(Result(data={"createApi": {"userErrors": [{"code": "X"}]}})) == "user_error"
    assert outcome_of(Result(data={"createApi": {"userErrors": []}})) == "ok"
    assert outcome_of(None) == "error"


async def test_the_pool_and_the_decision_caches_are_exposed(http: httpx.AsyncClient) -> None:
    for _ in range(2):  # a miss, then answered from the unknown credentials' cache
        await http.post("/v1/check", json={"credential": "apt_" + "A" * 40, "api": "orders"})

    found = await scrape(http)

    pool = "accessplane_db_pool_connections"
    assert found[(pool, labels(state="size"))] >= 1
    assert (pool, labels(state="checked_out")) in found
    lookups = "accessplane_decision_cache_lookups_total"
    assert found[(lookups, labels(kind="credentials", result="miss"))] >= 1
    assert found[(lookups, labels(kind="credentials", result="hit"))] == 0
    assert ("accessplane_call_log_dropped_total", frozenset()) in found
    assert ("accessplane_call_log_buffered", frozenset()) in found


async def mail(
    session: AsyncSession, world: World, status: NotificationStatus, age: timedelta
) -> None:
    async with transaction(session):
        session.add(
            Notification(
                workspace_id=world.workspace.id,
                kind=NotificationKind.EXPIRED,
                recipient="dev@example.com",
                subject="s",
                body_text="t",
                body_html="h",
                status=status,
                created_at=utcnow() - age,
            )
        )


async def test_the_outbox_backlog_is_queried_at_scrape_time(
    http: httpx.AsyncClient, session: AsyncSession, scenario: Scenario
) -> None:
    world = await scenario.workspace()
    empty = await scrape(http)
    assert empty[("accessplane_outbox_unsent", frozenset())] == 0
    assert empty[("accessplane_outbox_oldest_unsent_age_seconds", frozenset())] == 0

    await mail(session, world, NotificationStatus.PENDING, timedelta(hours=2))
    await mail(session, world, NotificationStatus.SENDING, timedelta(minutes=1))
    await mail(session, world, NotificationStatus.SENT, timedelta(days=3))
    found = await scrape(http)

    assert found[("accessplane_outbox_unsent", frozenset())] == 2
    assert 7190 < found[("accessplane_outbox_oldest_unsent_age_seconds", frozenset())] < 7300
    assert found[("accessplane_metrics_query_up", labels(query="outbox"))] == 1
    assert found[("accessplane_metrics_query_up", labels(query="webhooks"))] == 1
    # The count is bounded: past the cap it reads "at least this many".
    assert (await outbox_backlog(session, cap=1))[0] == 1


async def test_webhook_deliveries_pending_and_failed(
    http: httpx.AsyncClient, session: AsyncSession, scenario: Scenario
) -> None:
    world = await scenario.workspace()
    endpoint = WebhookEndpoint(
        workspace_id=world.workspace.id,
        url="https://hooks.example.com/in",
        secret_encrypted="x",
        secret_hint="abcd",
    )
    async with transaction(session):
        session.add(endpoint)
    async with transaction(session):
        for n, (status, hours) in enumerate(
            [
                (WebhookDeliveryStatus.PENDING, 3),
                (WebhookDeliveryStatus.PENDING, 1),
                (WebhookDeliveryStatus.FAILED, 30),
                (WebhookDeliveryStatus.DELIVERED, 40),
            ]
        ):
            session.add(
                WebhookDelivery(
                    endpoint_id=endpoint.id,
                    workspace_id=world.workspace.id,
                    event_type="audit.test",
                    message_id=f"msg_{n}",
                    payload="{}",
                    status=status,
                    created_at=utcnow() - timedelta(hours=hours),
                )
            )

    found = await scrape(http)

    deliveries = "accessplane_webhook_deliveries"
    assert found[(deliveries, labels(status="pending"))] == 2
    assert found[(deliveries, labels(status="failed"))] == 1
    assert (
        3 * 3600 - 10
        < found[("accessplane_webhook_oldest_pending_age_seconds", frozenset())]
        < 3 * 3600 + 100
    )
    assert (await webhook_backlog(session, cap=1))[:2] == (1, 1)


async def test_a_paused_endpoints_deliveries_are_no_backlog(
    http: httpx.AsyncClient, session: AsyncSession, scenario: Scenario
) -> None:
    """Deliveries of a disabled endpoint wait on purpose (the worker leaves them): counted,
    the oldest-pending age would grow for as long as it is paused and alert for nothing."""
    world = await scenario.workspace()
    paused = WebhookEndpoint(
        workspace_id=world.workspace.id,
        url="https://paused.example.com/in",
        secret_encrypted="x",
        secret_hint="abcd",
        enabled=False,
    )
    async with transaction(session):
        session.add(paused)
    async with transaction(session):
        session.add(
            WebhookDelivery(
                endpoint_id=paused.id,
                workspace_id=world.workspace.id,
                event_type="audit.test",
                message_id="msg_paused",
                payload="{}",
                created_at=utcnow() - timedelta(days=2),
            )
        )

    found = await scrape(http)

    assert found[("accessplane_webhook_deliveries", labels(status="pending"))] == 0
    assert found[("accessplane_webhook_oldest_pending_age_seconds", frozenset())] == 0

    paused.enabled = True
    async with transaction(session):
        session.add(paused)
    assert (await webhook_backlog(session))[0] == 1  # re-enabled: due again, counted again


async def test_a_failing_query_is_reported_and_the_scrape_still_answers(
    engine: AsyncEngine,
) -> None:
    hub = MetricsHub()

    async def broken() -> list[GaugeMetricFamily]:
        raise RuntimeError("the database is gone")

    hub.add_query("broken", broken)
    hub.add_query("outbox", outbox_query(async_sessionmaker(engine)))
    payload, _ = await hub.scrape()

    found = parse(payload.decode())
    assert found[("accessplane_metrics_query_up", labels(query="broken"))] == 0
    assert found[("accessplane_metrics_query_up", labels(query="outbox"))] == 1
    assert ("accessplane_outbox_unsent", frozenset()) in found


@pytest.mark.parametrize("size", [0, 3])
def test_callback_gauges_read_their_state_at_each_scrape(size: int) -> None:
    hub = MetricsHub()
    state = {"n": size}
    hub.gauge_from("test_items", "Items.", lambda: {(): state["n"]})
    hub.counter_from("test_drops", "Drops.", lambda: {("a",): state["n"] * 2}, labels=["kind"])

    first = parse(hub.render().decode())
    state["n"] += 1
    second = parse(hub.render().decode())

    assert first[("test_items", frozenset())] == size
    assert second[("test_items", frozenset())] == size + 1
    assert second[("test_drops_total", labels(kind="a"))] == (size + 1) * 2
