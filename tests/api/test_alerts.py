"""Alert rules and alerts in GraphQL: create, update and delete (audited), bad input as
userErrors naming the field, ``Workspace.alertRules`` and ``Workspace.alerts`` (newest first,
keyset pages, a fixed statement count), the suspension visible on the app and lifted by
``resumeAccessProfile``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlmodel import col

from accessplane.models import AccessProfile, Alert, AlertRule, AuditEvent
from accessplane.models.base import utcnow
from tests.support.scenario import Scenario, World, gid
from tests.support.statements import statements_per_page

CREATE = """
mutation Create($input: CreateAlertRuleInput!) {
  createAlertRule(input: $input) {
    alertRule { id name kind reasons threshold windowMinutes recipients suspend enabled }
    userErrors { field message code }
  }
}
"""
UPDATE = """
mutation Update($input: UpdateAlertRuleInput!) {
  updateAlertRule(input: $input) {
    alertRule { id name threshold suspend }
    userErrors { field message code }
  }
}
"""
DELETE = """
mutation Delete($input: DeleteAlertRuleInput!) {
  deleteAlertRule(input: $input) { deletedAlertRuleId userErrors { field message code } }
}
"""
RESUME = """
mutation Resume($input: ResumeAccessProfileInput!) {
  resumeAccessProfile(input: $input) {
    accessProfile { id suspendedAt suspendedReason }
    userErrors { field message code }
  }
}
"""
LISTS = """
query Lists($id: ID!, $first: Int, $after: String) {
  workspace(id: $id) {
    alertRules(first: 10) { totalCount edges { node { id name } } }
    alerts(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id kind ruleId subject accessProfileId count summary suspended raisedAt } }
    }
  }
}
"""
BURST = {"name": "Bursts", "kind": "DENIAL_BURST", "reasons": ["ip_not_allowed"]}


async def actions(session, world: World) -> list[str]:  # type: ignore[no-untyped-def]
    rows = await session.scalars(
        select(col(AuditEvent.action))
        .where(col(AuditEvent.workspace_id) == world.workspace.id)
        .order_by(col(AuditEvent.at))
    )
    found = list(rows.all())
    await session.commit()
    return found


async def test_create_update_and_delete_a_rule_each_audited(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    owner = graphql.as_principal(world.owner.principal)
    created = (
        await owner.execute(
            CREATE,
            input={
                "workspaceId": world.id,
                **BURST,
                "threshold": 20,
                "windowMinutes": 10,
                "recipients": ["Sec@Example.com"],
                "suspend": True,
            },
        )
    ).ok()["createAlertRule"]
    assert created["userErrors"] == []
    rule = created["alertRule"]
    assert rule == {
        "id": rule["id"],
        "name": "Bursts",
        "kind": "DENIAL_BURST",
        "reasons": ["ip_not_allowed"],
        "threshold": 20,
        "windowMinutes": 10,
        "recipients": ["sec@example.com"],
        "suspend": True,
        "enabled": True,
    }
    updated = (await owner.execute(UPDATE, input={"id": rule["id"], "threshold": 5})).ok()
    assert updated["updateAlertRule"]["alertRule"]["threshold"] == 5
    assert updated["updateAlertRule"]["alertRule"]["suspend"] is True  # left out: kept
    deleted = (await owner.execute(DELETE, input={"id": rule["id"]})).ok()["deleteAlertRule"]
    assert deleted["deletedAlertRuleId"] == rule["id"]
    assert await session.scalar(select(AlertRule)) is None
    assert (await actions(session, world))[-3:] == [
        "createAlertRule",
        "updateAlertRule",
        "deleteAlertRule",
    ]


async def test_bad_input_is_refused_field_by_field_and_nothing_is_written(
    graphql, scenario, session
) -> None:
    world = await scenario.workspace()
    owner = graphql.as_principal(world.owner.principal)
    errors = (
        await owner.execute(
            CREATE,
            input={
                "workspaceId": world.id,
                "name": " ",
                "kind": "DENIAL_BURST",
                "reasons": ["unknown_credential", "ip_not_allowed"],
                "threshold": 0,
                "windowMinutes": 100000,
                "recipients": ["not-an-address"],
            },
        )
    ).user_errors("createAlertRule")
    fields = {e["field"]: e for e in errors}
    assert set(fields) == {"name", "reasons", "threshold", "windowMinutes", "recipients.0"}
    assert "unknown_credential" in fields["reasons"]["message"]
    assert "no workspace" in fields["reasons"]["message"]
    no_reasons = (
        await owner.execute(
            CREATE, input={"workspaceId": world.id, "name": "B", "kind": "DENIAL_BURST"}
        )
    ).user_errors("createAlertRule")
    assert [(e["field"], e["code"]) for e in no_reasons] == [("reasons", "REQUIRED")]
    network = (
        await owner.execute(
            CREATE,
            input={"workspaceId": world.id, "name": "N", "kind": "NEW_NETWORK", "suspend": True},
        )
    ).user_errors("createAlertRule")
    assert [e["field"] for e in network] == ["suspend"]
    assert await session.scalar(select(AlertRule)) is None

    made = (await owner.execute(CREATE, input={"workspaceId": world.id, **BURST})).ok()
    rule_id = made["createAlertRule"]["alertRule"]["id"]
    duplicate = (await owner.execute(CREATE, input={"workspaceId": world.id, **BURST})).user_errors(
        "createAlertRule"
    )
    assert [(e["field"], e["code"]) for e in duplicate] == [("name", "DUPLICATE")]
    bad_update = (
        await owner.execute(UPDATE, input={"id": rule_id, "kind": "QUOTA_THRESHOLD"})
    ).user_errors("updateAlertRule")
    assert [e["field"] for e in bad_update] == ["reasons"]  # a quota rule takes no reasons
    stored = await session.scalar(select(AlertRule).execution_options(populate_existing=True))
    assert stored is not None
    assert stored.kind == "DENIAL_BURST"


async def add_alerts(session, world: World, count: int) -> AlertRule:  # type: ignore[no-untyped-def]
    rule = AlertRule(
        workspace_id=world.workspace.id, name="Bursts", kind="DENIAL_BURST", reasons=["x"]
    )
    session.add(rule)
    await session.flush()  # no relationship orders the inserts: the rule first
    start = datetime(2030, 1, 1, tzinfo=UTC)
    for i in range(count):
        session.add(
            Alert(
                workspace_id=world.workspace.id,
                rule_id=rule.id,
                kind="DENIAL_BURST",
                subject=f"access_profile:{uuid.uuid4()}",
                window_start=start + timedelta(minutes=i),
                count=20,
                summary="20 calls",
                raised_at=start + timedelta(minutes=i),
            )
        )
    await session.commit()
    return rule


async def test_alerts_are_newest_first_in_keyset_pages(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    rule = await add_alerts(session, world, 5)
    owner = graphql.as_principal(world.owner.principal)
    first = (await owner.execute(LISTS, id=world.id, first=3)).ok()["workspace"]
    assert first["alertRules"]["edges"][0]["node"]["id"] == gid("AlertRule", rule.id)
    page = first["alerts"]
    assert page["totalCount"] == 5
    assert page["pageInfo"]["hasNextPage"] is True
    times = [e["node"]["raisedAt"] for e in page["edges"]]
    assert times == sorted(times, reverse=True)
    rest = (
        await owner.execute(LISTS, id=world.id, first=3, after=page["pageInfo"]["endCursor"])
    ).ok()["workspace"]["alerts"]
    later = [e["node"]["raisedAt"] for e in rest["edges"]]
    assert len(later) == 2
    assert max(later) < min(times)
    assert rest["edges"][0]["node"]["ruleId"] == gid("AlertRule", rule.id)


async def test_a_page_of_alerts_costs_the_same_for_1_and_50_rows(
    graphql, scenario, session, count_queries
) -> None:
    world = await scenario.workspace()
    await add_alerts(session, world, 50)
    owner = graphql.as_principal(world.owner.principal)

    async def page(first: int) -> None:
        data = (await owner.execute(LISTS, id=world.id, first=first)).ok()
        assert len(data["workspace"]["alerts"]["edges"]) == first

    statements = await statements_per_page(count_queries, page, sizes=(1, 50))
    assert statements[1] == statements[50], count_queries.statements
    # the workspace, rules page and total, alerts page and total
    assert statements[50] <= 5, count_queries.statements


async def test_a_suspended_app_shows_it_and_resume_lifts_it_once(
    graphql, scenario: Scenario, session
) -> None:
    world = await scenario.workspace()
    client = await scenario.client(world)
    app = (await scenario.app(world, client)).access_profile
    row = await session.get(AccessProfile, app.id)
    row.suspended_at, row.suspended_reason = utcnow(), "Alert rule 'Bursts': 20 calls"
    await session.commit()
    owner = graphql.as_principal(world.owner.principal)
    resumed = (await owner.execute(RESUME, input={"id": gid("AccessProfile", app.id)})).ok()
    profile = resumed["resumeAccessProfile"]["accessProfile"]
    assert (profile["suspendedAt"], profile["suspendedReason"]) == (None, "")
    again = (await owner.execute(RESUME, input={"id": gid("AccessProfile", app.id)})).user_errors(
        "resumeAccessProfile"
    )
    assert [(e["field"], e["code"]) for e in again] == [("id", "INVALID")]
    assert (await actions(session, world)).count("resumeAccessProfile") == 1
