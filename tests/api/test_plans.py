"""createPlan, updatePlan, deletePlan and Workspace.plans over GraphQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from accessplane.models import AuditEvent, Plan, QuotaPeriod, RateLimitPeriod
from tests.support.db import count
from tests.support.scenario import Scenario, World, gid
from tests.support.statements import statements_per_page

FIELDS = """
  id name description autoApprove
  rateLimit { requests period } quota { requests period }
  timeWindow { days start end timeZone }
"""
CREATE = f"""
mutation Create($input: CreatePlanInput!) {{
  createPlan(input: $input) {{ plan {{ {FIELDS} }} userErrors {{ field message code }} }}
}}
"""
UPDATE = f"""
mutation Update($input: UpdatePlanInput!) {{
  updatePlan(input: $input) {{ plan {{ {FIELDS} }} userErrors {{ field message code }} }}
}}
"""
DELETE = """
mutation Delete($input: DeletePlanInput!) {
  deletePlan(input: $input) { deletedPlanId userErrors { field message code } }
}
"""
LIST = f"""
query Plans($id: ID!, $first: Int) {{
  workspace(id: $id) {{ plans(first: $first) {{ totalCount edges {{ node {{ {FIELDS} }} }} }} }}
}}
"""
WINDOW = {
    "days": ["FRI", "MON", "MON"],
    "start": "08:00",
    "end": "18:30",
    "timeZone": "Europe/Berlin",
}


def create_input(world: World, **overrides: Any) -> dict[str, Any]:
    return {
        "workspaceId": world.id,
        "name": "Gold",
        "rateLimit": {"requests": 100, "period": "MINUTE"},
        "quota": {"requests": 100000, "period": "MONTH"},
        "timeWindow": WINDOW,
        "autoApprove": True,
        **overrides,
    }


async def test_create_plan_with_limits_and_a_time_window(graphql, scenario: Scenario, session):
    world = await scenario.workspace()

    payload = (
        await graphql.as_principal(world.owner.principal).execute(CREATE, input=create_input(world))
    ).payload("createPlan")

    assert payload["plan"]["timeWindow"] == {
        "days": ["MON", "FRI"],
        "start": "08:00",
        "end": "18:30",
        "timeZone": "Europe/Berlin",
    }
    row = await session.scalar(select(Plan))
    assert row is not None
    assert (row.rate_limit_requests, row.rate_limit_period) == (100, RateLimitPeriod.MINUTE)
    assert (row.quota_requests, row.quota_period) == (100000, QuotaPeriod.MONTH)
    assert row.auto_approve is True
    assert await count(session, AuditEvent, AuditEvent.action == "createPlan") == 1


@pytest.mark.parametrize(
    ("override", "field", "code"),
    [
        ({"name": ""}, "name", "REQUIRED"),
        ({"name": "silver"}, "name", "DUPLICATE"),
        ({"rateLimit": {"requests": 0, "period": "SECOND"}}, "rateLimit.requests", "INVALID"),
        ({"quota": {"requests": -5, "period": "DAY"}}, "quota.requests", "INVALID"),
        ({"timeWindow": {**WINDOW, "timeZone": "Mars/Olympus"}}, "timeWindow.timeZone", "INVALID"),
        ({"timeWindow": {**WINDOW, "timeZone": "../etc/passwd"}}, "timeWindow.timeZone", "INVALID"),
        ({"timeWindow": {**WINDOW, "start": "25:00"}}, "timeWindow.start", "INVALID"),
        ({"timeWindow": {**WINDOW, "end": "08:00"}}, "timeWindow.end", "INVALID"),
        ({"timeWindow": {**WINDOW, "days": []}}, "timeWindow.days", "REQUIRED"),
    ],
)
async def test_create_plan_refuses_bad_input_and_writes_nothing(
    graphql, scenario, session, override, field, code
) -> None:
    world = await scenario.workspace()
    await scenario.plan(world, "Silver")
    before = await count(session, Plan), await count(session, AuditEvent)

    result = await graphql.as_principal(world.owner.principal).execute(
        CREATE, input=create_input(world, **override)
    )

    assert [(e["field"], e["code"]) for e in result.user_errors("createPlan")] == [(field, code)]
    assert (await count(session, Plan), await count(session, AuditEvent)) == before


async def test_update_plan_keeps_left_out_fields_and_clears_null_ones(graphql, scenario, session):
    world = await scenario.workspace()
    plan_id = (
        await graphql.as_principal(world.owner.principal).execute(CREATE, input=create_input(world))
    ).payload("createPlan")["plan"]["id"]

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            UPDATE,
            input={
                "id": plan_id,
                "rateLimit": {"requests": 5, "period": "SECOND"},
                "timeWindow": None,
                "autoApprove": False,
            },
        )
    ).payload("updatePlan")

    plan = payload["plan"]
    assert plan["rateLimit"] == {"requests": 5, "period": "SECOND"}
    assert plan["quota"] == {"requests": 100000, "period": "MONTH"}  # left out: kept
    assert plan["timeWindow"] is None  # null: cleared
    row = await session.scalar(select(Plan).execution_options(populate_existing=True))
    assert row is not None
    assert (row.rate_limit_requests, row.time_window, row.auto_approve) == (5, None, False)
    assert await count(session, AuditEvent, AuditEvent.action == "updatePlan") == 1


async def test_update_plan_refuses_bad_input_and_changes_nothing(graphql, scenario, session):
    world = await scenario.workspace()
    plan = await scenario.plan(world, "Gold")

    result = await graphql.as_principal(world.owner.principal).execute(
        UPDATE,
        input={
            "id": gid("Plan", plan.id),
            "name": "Platinum",
            "timeWindow": {**WINDOW, "timeZone": "Nowhere"},
        },
    )

    assert [(e["field"], e["code"]) for e in result.user_errors("updatePlan")] == [
        ("timeWindow.timeZone", "INVALID")
    ]
    row = await session.get(Plan, plan.id, populate_existing=True)
    assert row is not None
    assert (row.name, row.time_window) == ("Gold", None)
    assert await count(session, AuditEvent, AuditEvent.action == "updatePlan") == 0


async def test_delete_plan(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    plan = await scenario.plan(world, "Gold")

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            DELETE, input={"id": gid("Plan", plan.id)}
        )
    ).payload("deletePlan")

    assert payload["deletedPlanId"] == gid("Plan", plan.id)
    assert await count(session, Plan) == 0
    assert await count(session, AuditEvent, AuditEvent.action == "deletePlan") == 1


async def test_a_plan_an_app_is_on_cannot_be_deleted(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    plan = await scenario.plan(world, "Gold")
    app = (await scenario.app(world, await scenario.client(world))).access_profile
    await graphql.as_principal(world.owner.principal).execute(
        """mutation($input: UpdateAccessProfileInput!) {
             updateAccessProfile(input: $input) { userErrors { code } } }""",
        input={"id": gid("AccessProfile", app.id), "planId": gid("Plan", plan.id)},
    )

    result = await graphql.as_principal(world.owner.principal).execute(
        DELETE, input={"id": gid("Plan", plan.id)}
    )

    assert [(e["field"], e["code"]) for e in result.user_errors("deletePlan")] == [("id", "IN_USE")]
    assert await count(session, Plan) == 1


async def test_consumers_see_the_plans_to_choose_from(graphql, scenario) -> None:
    world = await scenario.workspace()
    await scenario.plan(world, "Gold")
    consumer = await scenario.consumer(world)

    data = (await graphql.as_principal(consumer.principal).execute(LIST, id=world.id)).ok()

    assert [e["node"]["name"] for e in data["workspace"]["plans"]["edges"]] == ["Gold"]


async def test_the_plans_list_costs_the_same_for_10_and_100_rows(
    graphql, scenario: Scenario, count_queries
) -> None:
    world = await scenario.workspace()
    for i in range(100):
        await scenario.plan(world, f"Plan {i:03}")
    caller = graphql.as_principal(world.owner.principal)

    async def page(first: int) -> None:
        data = (await caller.execute(LIST, id=world.id, first=first)).ok()
        assert len(data["workspace"]["plans"]["edges"]) == first

    statements = await statements_per_page(count_queries, page)

    assert statements[10] == statements[100] <= 4, statements
