"""AccessProfile.usage and usageSeries over GraphQL: the decision counts of an app, in all and
per UTC hour or day, batched, with the app's own visibility."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from starlette.applications import Starlette

from accessplane.decision.reasons import GatewayCallerKind, Reason
from accessplane.decision.usage import DecisionUsage
from accessplane.services import access_requests
from accessplane.services.roles import PermissionSpec
from tests.support.graphql import GraphQLClient, Result
from tests.support.scenario import Person, Scenario, World, gid
from tests.support.statements import statements_per_page

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
USAGE = "usage { allowed denied lastUsedAt lastDeniedAt reasons { reason count lastAt } }"
NODE = f"query App($id: ID!) {{ node(id: $id) {{ ... on AccessProfile {{ name {USAGE} }} }} }}"
CLIENT_APPS = f"""
query ClientApps($id: ID!, $first: Int!) {{
  node(id: $id) {{
    ... on Client {{ accessProfiles(first: $first) {{ edges {{ node {{ name {USAGE} }} }} }} }}
  }}
}}
"""
REQUESTS = """
query Requests($id: ID!) {
  workspace(id: $id) { accessRequests(first: 10) { edges { node { accessProfile { name %s } } } } }
}
"""


@pytest.fixture
def usage(engine: AsyncEngine) -> DecisionUsage:
    return DecisionUsage(async_sessionmaker(engine, expire_on_commit=False))


def decide(
    usage: DecisionUsage,
    world: World,
    principal_id: uuid.UUID,
    reason: Reason,
    *,
    times: int,
    at: datetime = NOW,
    principal_type: GatewayCallerKind = GatewayCallerKind.ACCESS_PROFILE,
) -> None:
    for _ in range(times):
        usage.record(
            workspace_id=world.workspace.id,
            principal_type=principal_type,
            principal_id=principal_id,
            reason=reason,
            at=at,
        )


def stamp(moment: datetime) -> str:
    return moment.isoformat()


async def test_an_apps_usage_sums_its_decisions_by_reason(graphql, scenario: Scenario, usage):
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")
    app = (await scenario.app(world, client, "Mobile")).access_profile
    other = (await scenario.app(world, client, "Backend")).access_profile
    decide(usage, world, app.id, Reason.OK, times=3, at=NOW + timedelta(minutes=2))
    decide(usage, world, app.id, Reason.RATE_LIMITED, times=2, at=NOW + timedelta(minutes=5))
    decide(usage, world, app.id, Reason.IP_NOT_ALLOWED, times=1, at=NOW)
    await usage.flush()
    decide(usage, world, app.id, Reason.OK, times=4, at=NOW + timedelta(minutes=1))
    # Not this app's: another app, and a member whose id happens to be the same.
    decide(usage, world, other.id, Reason.OK, times=50)
    decide(usage, world, app.id, Reason.OK, times=70, principal_type=GatewayCallerKind.MEMBER)
    await usage.flush()

    data = (
        await graphql.as_principal(world.owner.principal).execute(
            NODE, id=gid("AccessProfile", app.id)
        )
    ).ok()

    assert data["node"]["usage"] == {
        "allowed": 7,
        "denied": 3,
        "lastUsedAt": stamp(NOW + timedelta(minutes=2)),
        "lastDeniedAt": stamp(NOW + timedelta(minutes=5)),
        "reasons": [
            {"reason": "ip_not_allowed", "count": 1, "lastAt": stamp(NOW)},
            {"reason": "ok", "count": 7, "lastAt": stamp(NOW + timedelta(minutes=2))},
            {"reason": "rate_limited", "count": 2, "lastAt": stamp(NOW + timedelta(minutes=5))},
        ],
    }


async def test_an_app_never_decided_on_has_zero_counts(graphql, scenario: Scenario) -> None:
    world = await scenario.workspace()
    app = (await scenario.app(world, await scenario.client(world))).access_profile

    data = (
        await graphql.as_principal(world.owner.principal).execute(
            NODE, id=gid("AccessProfile", app.id)
        )
    ).ok()

    assert data["node"]["usage"] == {
        "allowed": 0,
        "denied": 0,
        "lastUsedAt": None,
        "lastDeniedAt": None,
        "reasons": [],
    }


async def test_an_app_only_ever_denied_has_no_last_use(graphql, scenario, usage) -> None:
    world = await scenario.workspace()
    app = (await scenario.app(world, await scenario.client(world))).access_profile
    decide(usage, world, app.id, Reason.API_NOT_GRANTED, times=2)
    await usage.flush()

    data = (
        await graphql.as_principal(world.owner.principal).execute(
            NODE, id=gid("AccessProfile", app.id)
        )
    ).ok()

    usage_data = data["node"]["usage"]
    assert (usage_data["allowed"], usage_data["denied"]) == (0, 2)
    assert (usage_data["lastUsedAt"], usage_data["lastDeniedAt"]) == (None, stamp(NOW))


async def test_the_clients_own_consumer_sees_its_apps_usage(graphql, scenario, usage) -> None:
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")
    consumer = await scenario.consumer(world, client)
    app = (await scenario.app(world, client, "Mobile")).access_profile
    decide(usage, world, app.id, Reason.OK, times=2)
    await usage.flush()

    data = (
        await graphql.as_principal(consumer.principal).execute(
            NODE, id=gid("AccessProfile", app.id)
        )
    ).ok()

    assert data["node"]["usage"]["allowed"] == 2


async def test_another_workspace_or_client_does_not_see_the_app(graphql, scenario, usage):
    world, other = await scenario.workspace(), await scenario.workspace()
    app = (await scenario.app(world, await scenario.client(world, "Partner"))).access_profile
    outsider = await scenario.consumer(world, await scenario.client(world, "Other"))
    decide(usage, world, app.id, Reason.OK, times=2)
    await usage.flush()

    for caller in (other.owner, outsider):
        result = await graphql.as_principal(caller.principal).execute(
            NODE, id=gid("AccessProfile", app.id)
        )
        assert result.error_codes == ["NOT_FOUND"]
        assert result.data is None or result.data["node"] is None


SERIES_LITERAL = 'usageSeries(from: "2026-03-01T12:00:00Z", to: "2026-03-01T13:00:00Z") { allowed }'


@pytest.mark.parametrize(
    "field",
    ["products { name }", USAGE, SERIES_LITERAL],
    ids=["products", "usage", "usageSeries"],
)
async def test_reaching_the_app_without_seeing_clients_is_forbidden(
    graphql, scenario: Scenario, usage, field: str
) -> None:
    """A request reader reaches the app through its request, and reads its name, but not what
    the app's own permission guards: its products, and its usage and usage series alike."""
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")
    consumer = await scenario.consumer(world, client)
    app = (await scenario.app(world, client, "Mobile")).access_profile
    product = await scenario.product(world, "Payments")
    await access_requests.submit_access_request(
        session=scenario.session,
        actor=consumer.principal,
        secret=scenario.secret,
        product_ids=[product.id],
        plan_id=(await scenario.plan(world, "Gold")).id,
        access_profile_id=app.id,
    )
    await scenario.custom_role(world, "Request reader", [PermissionSpec("getAccessRequest")])
    reader = await scenario.member(world, "Request reader")
    decide(usage, world, app.id, Reason.OK, times=2)
    await usage.flush()

    result = await graphql.as_principal(reader.principal).execute(REQUESTS % field, id=world.id)

    assert result.error_codes == ["FORBIDDEN"]
    # Without the guarded field the same query is answered.
    allowed = (
        await graphql.as_principal(reader.principal).execute(REQUESTS % "", id=world.id)
    ).ok()
    edges = allowed["workspace"]["accessRequests"]["edges"]
    assert [e["node"]["accessProfile"]["name"] for e in edges] == ["Mobile"]


async def test_the_usage_of_a_list_of_apps_costs_the_same_for_2_and_10(
    graphql, scenario: Scenario, usage, count_queries
) -> None:
    world = await scenario.workspace()
    small, large = await scenario.client(world, "Small"), await scenario.client(world, "Large")
    for client, apps in ((small, 2), (large, 10)):
        for i in range(apps):
            app = (await scenario.app(world, client, f"App {i:02}")).access_profile
            decide(usage, world, app.id, Reason.OK, times=1)
            decide(usage, world, app.id, Reason.EXPIRED, times=1)
    await usage.flush()

    caller = graphql.as_principal(world.owner.principal)
    client_ids = {2: gid("Client", small.id), 10: gid("Client", large.id)}

    async def apps_of(apps: int) -> None:
        data = (await caller.execute(CLIENT_APPS, id=client_ids[apps], first=50)).ok()
        edges = data["node"]["accessProfiles"]["edges"]
        assert len(edges) == apps
        assert all(e["node"]["usage"]["allowed"] == 1 for e in edges)

    statements = await statements_per_page(count_queries, apps_of, sizes=client_ids)

    assert statements[2] == statements[10]
    # The client, its page of apps, and one statement for every app's usage.
    usage_reads = [s for s in count_queries.statements if "credential_usage" in s]
    assert len(usage_reads) == 1, count_queries.statements


# -- usageSeries: allowed and denied decisions per UTC hour or day ----------------------------

POINT = "start allowed denied reasons { reason count }"
SERIES = f"usageSeries(from: $from, to: $to, bucket: $bucket) {{ {POINT} }}"
SERIES_NODE = f"""
query Series($id: ID!, $from: DateTime!, $to: DateTime!, $bucket: UsageBucket!) {{
  node(id: $id) {{ ... on AccessProfile {{ name {SERIES} }} }}
}}
"""
CLIENT_SERIES = f"""
query ClientSeries($id: ID!, $first: Int!, $from: DateTime!, $to: DateTime!) {{
  node(id: $id) {{
    ... on Client {{
      accessProfiles(first: $first) {{
        edges {{ node {{ name
          hours: usageSeries(from: $from, to: $to) {{ {POINT} }}
          days: usageSeries(from: $from, to: $to, bucket: DAY) {{ {POINT} }}
        }} }}
      }}
    }}
  }}
}}
"""
HOUR = timedelta(hours=1)


def point(start: datetime, **reasons: int) -> dict[str, Any]:
    """The expected point of one bucket: its totals follow from its reasons."""
    return {
        "start": stamp(start),
        "allowed": reasons.get("ok", 0),
        "denied": sum(count for reason, count in reasons.items() if reason != "ok"),
        "reasons": [{"reason": r, "count": c} for r, c in sorted(reasons.items())],
    }


async def series(
    graphql: GraphQLClient,
    caller: Person,
    app_id: uuid.UUID,
    start: datetime | str,
    end: datetime | str,
    bucket: str = "HOUR",
) -> Result:
    def shown(moment: datetime | str) -> str:
        return moment if isinstance(moment, str) else moment.isoformat()

    return await graphql.as_principal(caller.principal).execute(
        SERIES_NODE,
        id=gid("AccessProfile", app_id),
        **{"from": shown(start), "to": shown(end), "bucket": bucket},
    )


async def test_decisions_asked_of_the_endpoint_show_in_the_series(
    graphql, scenario: Scenario, http: httpx.AsyncClient, app: Starlette
) -> None:
    world = await scenario.workspace()
    api = await scenario.api(world, "Orders")
    product = await scenario.product(world, apis=[api])
    issued = await scenario.app(world, await scenario.client(world), "Web", products=[product])
    assert issued.token is not None
    before = datetime.now(UTC)
    for api_name, times in (("orders", 3), ("billing", 2)):
        for _ in range(times):
            asked = {"credential": issued.token, "api": api_name, "method": "GET", "path": "/"}
            assert (await http.post("/v1/check", json=asked)).status_code == 200
    after = datetime.now(UTC)
    assert await app.state.decision_usage.flush() == 2

    hours = (
        await series(graphql, world.owner, issued.access_profile.id, before - HOUR, after + HOUR)
    ).ok()["node"]["usageSeries"]
    days = (
        await series(graphql, world.owner, issued.access_profile.id, before, after, "DAY")
    ).ok()["node"]["usageSeries"]

    first = before.replace(minute=0, second=0, microsecond=0) - HOUR
    assert [p["start"] for p in hours] == [stamp(first + i * HOUR) for i in range(len(hours))]
    assert len(hours) in (3, 4)  # 4 when the decisions straddled an hour
    counted = [p for p in hours if p["allowed"] or p["denied"]]
    assert {p["start"] for p in counted} <= {stamp(first + HOUR), stamp(first + 2 * HOUR)}
    assert sum(p["allowed"] for p in hours) == sum(p["allowed"] for p in days) == 3
    assert sum(p["denied"] for p in hours) == sum(p["denied"] for p in days) == 2
    reasons = {r["reason"] for p in hours for r in p["reasons"]}
    assert reasons == {"ok", "api_not_granted"}


async def test_hour_buckets_cover_every_hour_that_overlaps_the_range(
    graphql, scenario: Scenario, usage
) -> None:
    world = await scenario.workspace()
    app = (await scenario.app(world, await scenario.client(world))).access_profile
    decide(usage, world, app.id, Reason.OK, times=1, at=NOW - timedelta(microseconds=1))
    decide(usage, world, app.id, Reason.OK, times=2, at=NOW)
    decide(usage, world, app.id, Reason.EXPIRED, times=1, at=NOW + timedelta(minutes=59))
    decide(usage, world, app.id, Reason.OK, times=4, at=NOW + HOUR)
    await usage.flush()

    def asked(start: datetime, end: datetime) -> Any:
        return series(graphql, world.owner, app.id, start, end)

    # From inside 11:00 up to 13:00 exclusive: 11:00 and 12:00, not 13:00.
    data = (await asked(NOW - timedelta(minutes=30), NOW + HOUR)).ok()
    assert data["node"]["usageSeries"] == [
        point(NOW - HOUR, ok=1),
        point(NOW, ok=2, expired=1),
    ]
    # A moment past 13:00 takes the whole 13:00 bucket; 12:00 on the dot starts at 12:00.
    data = (await asked(NOW, NOW + HOUR + timedelta(seconds=1))).ok()
    assert data["node"]["usageSeries"] == [point(NOW, ok=2, expired=1), point(NOW + HOUR, ok=4)]
    # Given with an offset, the same instants answer the same UTC buckets.
    paris = timezone(timedelta(hours=1))
    data = (await asked(NOW.astimezone(paris), (NOW + HOUR).astimezone(paris))).ok()
    assert data["node"]["usageSeries"] == [point(NOW, ok=2, expired=1)]


async def test_day_buckets_sum_the_hours_of_each_utc_day(graphql, scenario, usage) -> None:
    world = await scenario.workspace()
    app = (await scenario.app(world, await scenario.client(world))).access_profile
    midnight = datetime(2026, 3, 1, tzinfo=UTC)
    decide(usage, world, app.id, Reason.OK, times=2, at=midnight)
    decide(usage, world, app.id, Reason.RATE_LIMITED, times=2, at=midnight + 10 * HOUR)
    decide(usage, world, app.id, Reason.OK, times=1, at=midnight + timedelta(hours=23, minutes=59))
    decide(usage, world, app.id, Reason.EXPIRED, times=1, at=midnight + timedelta(days=1))
    decide(usage, world, app.id, Reason.OK, times=5, at=midnight - timedelta(seconds=1))
    await usage.flush()

    # 01:00 in UTC+2 is 23:00 UTC the day before: that UTC day is the first bucket.
    data = (
        await series(
            graphql, world.owner, app.id, "2026-03-01T01:00:00+02:00", "2026-03-03T00:00Z", "DAY"
        )
    ).ok()

    assert data["node"]["usageSeries"] == [
        point(midnight - timedelta(days=1), ok=5),
        point(midnight, ok=3, rate_limited=2),
        point(midnight + timedelta(days=1), expired=1),
    ]


async def test_an_app_never_decided_on_has_a_series_of_zeros(graphql, scenario) -> None:
    world = await scenario.workspace()
    app = (await scenario.app(world, await scenario.client(world))).access_profile

    hours = (await series(graphql, world.owner, app.id, NOW, NOW + 3 * HOUR)).ok()
    days = (await series(graphql, world.owner, app.id, NOW, NOW + HOUR, "DAY")).ok()

    assert hours["node"]["usageSeries"] == [point(NOW + i * HOUR) for i in range(3)]
    assert days["node"]["usageSeries"] == [point(datetime(2026, 3, 1, tzinfo=UTC))]


async def test_the_longest_ranges_are_answered(graphql, scenario, usage) -> None:
    world = await scenario.workspace()
    app = (await scenario.app(world, await scenario.client(world))).access_profile
    decide(usage, world, app.id, Reason.OK, times=1, at=NOW)
    await usage.flush()

    hours = (await series(graphql, world.owner, app.id, NOW, NOW + timedelta(days=31))).ok()
    days = (await series(graphql, world.owner, app.id, NOW, NOW + timedelta(days=366), "DAY")).ok()

    assert len(hours["node"]["usageSeries"]) == 31 * 24
    assert len(days["node"]["usageSeries"]) == 367  # from 12:00 on: 367 days overlap
    assert sum(p["allowed"] for p in days["node"]["usageSeries"]) == 1


@pytest.mark.parametrize(
    ("start", "end", "bucket", "field", "message"),
    [
        (NOW, NOW, "HOUR", "to", "to must be later than from."),
        (NOW, NOW - HOUR, "DAY", "to", "to must be later than from."),
        (NOW, NOW + timedelta(days=31, seconds=1), "HOUR", "to", "at most 31 days"),
        (NOW, NOW + timedelta(days=367), "DAY", "to", "at most 366 days"),
        ("2026-03-01T12:00:00", NOW + HOUR, "HOUR", "from", "from needs a time zone offset"),
        (NOW, "2026-03-01T13:00:00", "HOUR", "to", "to needs a time zone offset"),
        ("yesterday", NOW + HOUR, "HOUR", "from", "Not a valid date and time"),
        ("", NOW + HOUR, "HOUR", "from", "Not a valid date and time"),
        ("0000-01-01T00:00:00Z", NOW + HOUR, "HOUR", "from", "Not a valid date and time"),
        (NOW, "99999-01-01T00:00:00Z", "DAY", "to", "Not a valid date and time"),
        (NOW, "9999-12-31T23:59:59-14:00", "DAY", "to", "Not a valid date and time"),
    ],
    ids=[
        "empty",
        "backwards",
        "hours",
        "days",
        "naive-from",
        "naive-to",
        "malformed",
        "blank",
        "year-zero",
        "year-99999",
        "past-the-calendar",
    ],
)
async def test_a_range_out_of_bounds_is_bad_user_input(
    graphql, scenario: Scenario, start: Any, end: Any, bucket: str, field: str, message: str
) -> None:
    world = await scenario.workspace()
    app = (await scenario.app(world, await scenario.client(world))).access_profile

    result = await series(graphql, world.owner, app.id, start, end, bucket)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert message in result.errors[0]["message"]
    user_errors = result.errors[0]["extensions"]["userErrors"]
    assert [e["field"] for e in user_errors] == [field]
    assert result.data is None or result.data["node"] is None


async def test_the_series_is_the_apps_own_to_see(graphql, scenario: Scenario, usage) -> None:
    """The client's consumer sees its app's series; another workspace's owner and a consumer
    of another client do not see the app at all."""
    world, other = await scenario.workspace(), await scenario.workspace()
    client = await scenario.client(world, "Partner")
    consumer = await scenario.consumer(world, client)
    outsider = await scenario.consumer(world, await scenario.client(world, "Other"))
    app = (await scenario.app(world, client, "Mobile")).access_profile
    decide(usage, world, app.id, Reason.OK, times=2)
    await usage.flush()

    seen = (await series(graphql, consumer, app.id, NOW, NOW + HOUR)).ok()
    assert seen["node"]["usageSeries"] == [point(NOW, ok=2)]
    for caller in (other.owner, outsider):
        result = await series(graphql, caller, app.id, NOW, NOW + HOUR)
        assert result.error_codes == ["NOT_FOUND"]
        assert result.data is None or result.data["node"] is None


async def test_the_series_of_a_list_of_apps_costs_the_same_for_1_and_10(
    graphql, scenario: Scenario, usage, count_queries
) -> None:
    world = await scenario.workspace()
    small, large = await scenario.client(world, "Small"), await scenario.client(world, "Large")
    for client, apps in ((small, 1), (large, 10)):
        for i in range(apps):
            app = (await scenario.app(world, client, f"App {i:02}")).access_profile
            decide(usage, world, app.id, Reason.OK, times=i + 1)
            decide(usage, world, app.id, Reason.EXPIRED, times=1, at=NOW + HOUR)
    await usage.flush()

    caller = graphql.as_principal(world.owner.principal)
    client_ids = {1: gid("Client", small.id), 10: gid("Client", large.id)}
    window = {"from": stamp(NOW), "to": stamp(NOW + 2 * HOUR)}

    async def apps_of(apps: int) -> None:
        data = (await caller.execute(CLIENT_SERIES, id=client_ids[apps], first=50, **window)).ok()
        nodes = [e["node"] for e in data["node"]["accessProfiles"]["edges"]]
        assert len(nodes) == apps
        for i, node in enumerate(sorted(nodes, key=lambda n: n["name"])):
            assert node["hours"] == [point(NOW, ok=i + 1), point(NOW + HOUR, expired=1)]
            assert node["days"] == [point(datetime(2026, 3, 1, tzinfo=UTC), ok=i + 1, expired=1)]

    statements = await statements_per_page(count_queries, apps_of, sizes=client_ids)

    assert statements[1] == statements[10]
    # One statement per series window (hours, days), whatever the number of apps.
    series_reads = [s for s in count_queries.statements if "credential_usage_hour" in s]
    assert len(series_reads) == 2, count_queries.statements


async def test_a_request_charts_a_bounded_number_of_buckets_in_all(graphql, scenario) -> None:
    world = await scenario.workspace()
    app = (await scenario.app(world, await scenario.client(world))).access_profile
    month = {"from": NOW.isoformat(), "to": (NOW + timedelta(days=31)).isoformat()}
    # 744 hours a series: 26 of them fit in the budget of 20 000 points, 27 do not.
    aliases = " ".join(f"s{i}: usageSeries(from: $from, to: $to) {{ allowed }}" for i in range(27))
    query = f"""
    query Many($id: ID!, $from: DateTime!, $to: DateTime!) {{
      node(id: $id) {{ ... on AccessProfile {{ {aliases} }} }}
    }}
    """

    result = await graphql.as_principal(world.owner.principal).execute(
        query, id=gid("AccessProfile", app.id), **month
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "at most 20000 buckets" in result.errors[0]["message"]
    fitting = query.replace(" s26: usageSeries(from: $from, to: $to) { allowed }", "")
    within = await graphql.as_principal(world.owner.principal).execute(
        fitting, id=gid("AccessProfile", app.id), **month
    )
    assert len(within.ok()["node"]["s25"]) == 744
