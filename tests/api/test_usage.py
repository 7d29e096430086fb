"""AccessProfile.usage over GraphQL: the decision counts of an app, batched, with the app's
own visibility."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from accessplane.decision.reasons import GatewayCallerKind, Reason
from accessplane.decision.usage import DecisionUsage
from accessplane.services import access_requests
from accessplane.services.roles import PermissionSpec
from tests.support.scenario import Scenario, World, gid
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


@pytest.mark.parametrize("field", ["products { name }", USAGE], ids=["products", "usage"])
async def test_reaching_the_app_without_seeing_clients_is_forbidden(
    graphql, scenario: Scenario, usage, field: str
) -> None:
    """A request reader reaches the app through its request, and reads its name, but not what
    the app's own permission guards: its products, and its usage alike."""
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
