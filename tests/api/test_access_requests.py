"""submitAccessRequest, approveAccessRequest, rejectAccessRequest, cancelAccessRequest and
Workspace.accessRequests over GraphQL: a consumer asks, an owner decides."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from accessplane.models import (
    AccessProfile,
    AccessProfileProduct,
    AccessRequest,
    AccessRequestStatus,
    AuditEvent,
    AuthMethod,
    Notification,
)
from tests.support.db import count
from tests.support.scenario import Person, Scenario, World, gid
from tests.support.statements import statements_per_page

FIELDS = """
  id status createdApp requester requesterEmail planName decidedBy decidedAt reason
  accessProfile { name authMethod products { name } plan { name } }
  plan { name } products { name }
"""
SUBMIT = f"""
mutation Submit($input: SubmitAccessRequestInput!) {{
  submitAccessRequest(input: $input) {{
    token accessRequest {{ {FIELDS} }} userErrors {{ field message code }}
  }}
}}
"""
APPROVE = f"""
mutation Approve($input: ApproveAccessRequestInput!) {{
  approveAccessRequest(input: $input) {{
    accessRequest {{ {FIELDS} }} userErrors {{ field message code }}
  }}
}}
"""
REJECT = """
mutation Reject($input: RejectAccessRequestInput!) {
  rejectAccessRequest(input: $input) {
    accessRequest { id status reason } userErrors { field message code }
  }
}
"""
CANCEL = """
mutation Cancel($input: CancelAccessRequestInput!) {
  cancelAccessRequest(input: $input) {
    accessRequest { id status decidedBy } userErrors { field message code }
  }
}
"""
LIST = """
query Requests($id: ID!, $first: Int, $filter: AccessRequestFilter) {
  workspace(id: $id) {
    accessRequests(first: $first, filter: $filter) {
      totalCount
      edges { node {
        status requester planName
        accessProfile { name client { name } }
        plan { name rateLimit { requests period } }
        products { name apis { name } }
      } }
    }
  }
}
"""
NODE = "query Node($id: ID!) { node(id: $id) { id ... on AccessRequest { status } } }"


class Shop:
    """A workspace with a client, its consumer, two token products and a plan."""

    def __init__(self, world: World, client: Any, consumer: Person, products: list[Any], plan: Any):
        self.world, self.client, self.consumer = world, client, consumer
        self.products, self.plan = products, plan

    def new_app_input(self, **overrides: Any) -> dict[str, Any]:
        return {
            "productIds": [gid("ApiProduct", p.id) for p in self.products],
            "planId": gid("Plan", self.plan.id),
            "newAccessProfile": {"clientId": gid("Client", self.client.id), "name": "Mobile"},
            **overrides,
        }


async def shop(scenario: Scenario, *, auto_approve: bool = False) -> Shop:
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")
    consumer = await scenario.consumer(world, client)
    api = await scenario.api(world, "Payments API")
    products = [
        await scenario.product(world, "Payments", apis=[api]),
        await scenario.product(world, "Refunds"),
    ]
    plan = await scenario.plan(world, "Gold", auto_approve=auto_approve)
    return Shop(world, client, consumer, products, plan)


async def submitted(graphql: Any, s: Shop) -> dict[str, Any]:
    return (  # type: ignore[no-any-return]
        await graphql.as_principal(s.consumer.principal).execute(SUBMIT, input=s.new_app_input())
    ).payload("submitAccessRequest")["accessRequest"]


# --- submitAccessRequest --------------------------------------------------------------------


async def test_a_consumer_submits_a_cart_for_a_new_app(graphql, scenario: Scenario, session):
    s = await shop(scenario)

    payload = (
        await graphql.as_principal(s.consumer.principal).execute(SUBMIT, input=s.new_app_input())
    ).payload("submitAccessRequest")

    request = payload["accessRequest"]
    assert payload["token"].startswith("apt_")
    assert (request["status"], request["createdApp"], request["planName"]) == (
        "PENDING",
        True,
        "Gold",
    )
    assert request["requesterEmail"] == s.consumer.user.email
    assert [p["name"] for p in request["products"]] == ["Payments", "Refunds"]
    assert request["accessProfile"] == {
        "name": "Mobile",
        "authMethod": "AUTH_TOKEN",
        "products": [],
        "plan": None,
    }
    row = await session.scalar(select(AccessRequest))
    assert row is not None
    assert row.requester_member_id == s.consumer.member.id
    assert await count(session, AccessProfile) == 1
    assert await count(session, AuditEvent, AuditEvent.action == "submitAccessRequest") == 1
    assert await count(session, Notification, Notification.kind == "access_requested") == 1


async def test_a_consumer_submits_for_an_existing_app(graphql, scenario, session) -> None:
    s = await shop(scenario)
    app = (await scenario.app(s.world, s.client, "Backend")).access_profile

    payload = (
        await graphql.as_principal(s.consumer.principal).execute(
            SUBMIT,
            input={
                "productIds": [gid("ApiProduct", s.products[0].id)],
                "planId": gid("Plan", s.plan.id),
                "accessProfileId": gid("AccessProfile", app.id),
            },
        )
    ).payload("submitAccessRequest")

    assert payload["token"] is None
    assert payload["accessRequest"]["createdApp"] is False
    assert payload["accessRequest"]["accessProfile"]["name"] == "Backend"
    assert await count(session, AccessProfile) == 1


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ("mixed methods", "productIds", "INVALID"),
        ("no products", "productIds", "REQUIRED"),
        ("both apps", "accessProfileId", "INVALID"),
        ("bad ip", "newAccessProfile.allowedIps", "INVALID"),
        ("app method", "productIds", "INVALID"),
        ("foreign plan", "planId", "NOT_FOUND"),
    ],
)
async def test_submit_refuses_bad_input_and_writes_nothing(
    graphql, scenario, session, change, field, code
) -> None:
    s = await shop(scenario)
    request = s.new_app_input()
    if change == "mixed methods":
        jwt = await scenario.product(s.world, "Ledger", auth_method=AuthMethod.JWT)
        request["productIds"].append(gid("ApiProduct", jwt.id))
    elif change == "no products":
        request["productIds"] = []
    elif change == "both apps":
        app = (await scenario.app(s.world, s.client)).access_profile
        request["accessProfileId"] = gid("AccessProfile", app.id)
    elif change == "bad ip":
        request["newAccessProfile"]["allowedIps"] = ["10.0.0.0/33"]
    elif change == "app method":
        request["newAccessProfile"].update(
            authMethod="OIDC", trustedIssuer="https://idp.example.com"
        )
    elif change == "foreign plan":
        other = await scenario.workspace()
        request["planId"] = gid("Plan", (await scenario.plan(other)).id)
    before = [await count(session, m) for m in (AccessRequest, AccessProfile, AuditEvent)]

    result = await graphql.as_principal(s.consumer.principal).execute(SUBMIT, input=request)

    assert [(e["field"], e["code"]) for e in result.user_errors("submitAccessRequest")] == [
        (field, code)
    ]
    assert result.ok()["submitAccessRequest"]["token"] is None
    after = [await count(session, m) for m in (AccessRequest, AccessProfile, AuditEvent)]
    assert after == before
    assert await count(session, Notification) == 0


async def test_submit_for_another_workspaces_client_is_not_found(graphql, scenario, session):
    s, other = await shop(scenario), await shop(scenario)

    result = await graphql.as_principal(other.consumer.principal).execute(
        SUBMIT, input=s.new_app_input()
    )

    assert result.error_codes == ["NOT_FOUND"]
    assert await count(session, AccessRequest) == 0


async def test_auto_approve_plans_answer_at_once(graphql, scenario, session) -> None:
    s = await shop(scenario, auto_approve=True)

    request = await submitted(graphql, s)

    assert request["status"] == "APPROVED"
    assert request["decidedBy"] == "auto-approve (plan Gold)"
    assert request["accessProfile"]["plan"] == {"name": "Gold"}
    assert [p["name"] for p in request["accessProfile"]["products"]] == ["Payments", "Refunds"]
    assert await count(session, AuditEvent, AuditEvent.action == "approveAccessRequest") == 1


# --- approveAccessRequest -------------------------------------------------------------------


async def test_an_owner_approves_and_the_app_is_provisioned(graphql, scenario, session) -> None:
    s = await shop(scenario)
    request = await submitted(graphql, s)

    payload = (
        await graphql.as_principal(s.world.owner.principal).execute(
            APPROVE, input={"id": request["id"], "reason": "Welcome"}
        )
    ).payload("approveAccessRequest")

    approved = payload["accessRequest"]
    assert (approved["status"], approved["reason"]) == ("APPROVED", "Welcome")
    assert approved["decidedBy"] == s.world.owner.user.email
    assert approved["decidedAt"] is not None
    assert approved["accessProfile"]["plan"] == {"name": "Gold"}
    row = await session.scalar(select(AccessRequest).execution_options(populate_existing=True))
    assert row is not None
    assert row.status is AccessRequestStatus.APPROVED
    app = await session.scalar(select(AccessProfile).execution_options(populate_existing=True))
    assert app is not None
    assert app.plan_id == s.plan.id
    assert await count(session, AccessProfileProduct) == 2
    assert await count(session, Notification, Notification.kind == "approve") == 1


async def test_approve_refuses_bad_input_and_a_second_decision(graphql, scenario, session):
    s = await shop(scenario)
    request = await submitted(graphql, s)
    owner = graphql.as_principal(s.world.owner.principal)

    too_long = await owner.execute(APPROVE, input={"id": request["id"], "reason": "x" * 1001})
    assert [(e["field"], e["code"]) for e in too_long.user_errors("approveAccessRequest")] == [
        ("reason", "TOO_LONG")
    ]
    assert await count(session, AccessProfileProduct) == 0
    (await owner.execute(APPROVE, input={"id": request["id"]})).payload("approveAccessRequest")
    again = await owner.execute(APPROVE, input={"id": request["id"]})
    assert [(e["field"], e["code"]) for e in again.user_errors("approveAccessRequest")] == [
        ("id", "CONFLICT")
    ]
    assert await count(session, AuditEvent, AuditEvent.action == "approveAccessRequest") == 1


async def test_approve_needs_decide_access_request(graphql, scenario, session) -> None:
    s = await shop(scenario)
    request = await submitted(graphql, s)
    viewer = await scenario.member(s.world, "Viewer")  # sees requests, may not decide

    for caller in (viewer, s.consumer):
        result = await graphql.as_principal(caller.principal).execute(
            APPROVE, input={"id": request["id"]}
        )
        assert result.error_codes == ["FORBIDDEN"]
    assert await count(session, AccessProfileProduct) == 0


# --- rejectAccessRequest --------------------------------------------------------------------


async def test_an_owner_rejects_with_a_reason(graphql, scenario, session) -> None:
    s = await shop(scenario)
    request = await submitted(graphql, s)

    payload = (
        await graphql.as_principal(s.world.owner.principal).execute(
            REJECT, input={"id": request["id"], "reason": "Use the sandbox plan"}
        )
    ).payload("rejectAccessRequest")

    assert payload["accessRequest"] == {
        "id": request["id"],
        "status": "REJECTED",
        "reason": "Use the sandbox plan",
    }
    row = await session.scalar(select(AccessRequest).execution_options(populate_existing=True))
    assert row is not None
    assert row.status is AccessRequestStatus.REJECTED
    assert await count(session, AccessProfileProduct) == 0
    mail = await session.scalar(select(Notification).where(Notification.kind == "reject"))
    assert mail is not None
    assert mail.recipient == s.consumer.user.email


async def test_reject_without_a_reason_is_a_user_error(graphql, scenario, session) -> None:
    s = await shop(scenario)
    request = await submitted(graphql, s)

    result = await graphql.as_principal(s.world.owner.principal).execute(
        REJECT, input={"id": request["id"], "reason": "  "}
    )

    assert [(e["field"], e["code"]) for e in result.user_errors("rejectAccessRequest")] == [
        ("reason", "REQUIRED")
    ]
    row = await session.scalar(select(AccessRequest).execution_options(populate_existing=True))
    assert row is not None
    assert row.status is AccessRequestStatus.PENDING


async def test_reject_needs_decide_access_request(graphql, scenario, session) -> None:
    s = await shop(scenario)
    request = await submitted(graphql, s)

    result = await graphql.as_principal(s.consumer.principal).execute(
        REJECT, input={"id": request["id"], "reason": "I changed my mind"}
    )

    assert result.error_codes == ["FORBIDDEN"]
    assert await count(session, AccessRequest, AccessRequest.status == "PENDING") == 1


# --- cancelAccessRequest --------------------------------------------------------------------


async def test_the_requester_cancels_a_pending_request(graphql, scenario, session) -> None:
    s = await shop(scenario)
    request = await submitted(graphql, s)

    payload = (
        await graphql.as_principal(s.consumer.principal).execute(
            CANCEL, input={"id": request["id"]}
        )
    ).payload("cancelAccessRequest")

    assert payload["accessRequest"]["status"] == "CANCELLED"
    row = await session.scalar(select(AccessRequest).execution_options(populate_existing=True))
    assert row is not None
    assert row.status is AccessRequestStatus.CANCELLED
    assert await count(session, AuditEvent, AuditEvent.action == "cancelAccessRequest") == 1
    again = await graphql.as_principal(s.consumer.principal).execute(
        CANCEL, input={"id": request["id"]}
    )
    assert [(e["field"], e["code"]) for e in again.user_errors("cancelAccessRequest")] == [
        ("id", "CONFLICT")
    ]


async def test_cancel_of_someone_elses_request_is_not_found(graphql, scenario, session) -> None:
    s, other = await shop(scenario), await shop(scenario)
    request = await submitted(graphql, s)
    colleague = await scenario.consumer(s.world, s.client)

    for caller in (other.consumer, colleague):
        result = await graphql.as_principal(caller.principal).execute(
            CANCEL, input={"id": request["id"]}
        )
        assert result.error_codes == ["NOT_FOUND"]
    assert await count(session, AccessRequest, AccessRequest.status == "PENDING") == 1


# --- Workspace.accessRequests ---------------------------------------------------------------


async def test_owners_see_every_request_and_consumers_their_own(graphql, scenario) -> None:
    s = await shop(scenario)
    mine = await submitted(graphql, s)
    colleague = await scenario.consumer(s.world, s.client)
    other = (
        await graphql.as_principal(colleague.principal).execute(
            SUBMIT,
            input=s.new_app_input(
                newAccessProfile={"clientId": gid("Client", s.client.id), "name": "Web"}
            ),
        )
    ).payload("submitAccessRequest")["accessRequest"]
    await graphql.as_principal(s.world.owner.principal).execute(APPROVE, input={"id": other["id"]})

    def apps(caller: Person, **filters: Any) -> Any:
        return graphql.as_principal(caller.principal).execute(LIST, id=s.world.id, **filters)

    mine_only = (await apps(s.consumer)).ok()["workspace"]["accessRequests"]
    assert [e["node"]["accessProfile"]["name"] for e in mine_only["edges"]] == ["Mobile"]
    everything = (await apps(s.world.owner)).ok()["workspace"]["accessRequests"]
    assert [e["node"]["accessProfile"]["name"] for e in everything["edges"]] == ["Web", "Mobile"]
    pending = (await apps(s.world.owner, filter={"status": "PENDING"})).ok()
    assert pending["workspace"]["accessRequests"]["totalCount"] == 1
    by_client = (await apps(s.world.owner, filter={"clientId": gid("Client", s.client.id)})).ok()
    assert by_client["workspace"]["accessRequests"]["totalCount"] == 2
    by_product = (
        await apps(s.world.owner, filter={"productId": gid("ApiProduct", s.products[0].id)})
    ).ok()
    assert by_product["workspace"]["accessRequests"]["totalCount"] == 2
    hidden = await graphql.as_principal(s.consumer.principal).execute(NODE, id=other["id"])
    assert hidden.error_codes == ["NOT_FOUND"]
    assert (await graphql.as_principal(s.consumer.principal).execute(NODE, id=mine["id"])).ok()


async def test_the_requests_list_costs_the_same_for_10_and_100_rows(
    graphql, scenario: Scenario, count_queries
) -> None:
    s = await shop(scenario)
    caller = graphql.as_principal(s.consumer.principal)
    for i in range(100):
        (
            await caller.execute(
                SUBMIT,
                input=s.new_app_input(
                    newAccessProfile={"clientId": gid("Client", s.client.id), "name": f"App {i}"}
                ),
            )
        ).payload("submitAccessRequest")
    owner = graphql.as_principal(s.world.owner.principal)

    async def page(first: int) -> None:
        data = (await owner.execute(LIST, id=s.world.id, first=first)).ok()
        edges = data["workspace"]["accessRequests"]["edges"]
        assert len(edges) == first
        assert edges[-1]["node"]["products"][0]["apis"] == [{"name": "Payments API"}]
        assert edges[-1]["node"]["accessProfile"]["client"]["name"] == "Partner"

    statements = await statements_per_page(count_queries, page)

    assert statements[10] == statements[100] <= 8, statements


async def test_a_consumers_40k_allowed_ips_are_one_user_error_before_any_is_parsed(
    graphql, scenario, session
) -> None:
    """One entry of 40 000 comma-separated addresses (about 500 KB) for the new app is
    counted, not parsed: a single userError, and nothing echoed back but the count."""
    s = await shop(scenario)
    request = s.new_app_input()
    request["newAccessProfile"]["allowedIps"] = [",".join(["not-an-ip"] * 40_000)]
    before = [await count(session, m) for m in (AccessRequest, AccessProfile, AuditEvent)]

    result = await graphql.as_principal(s.consumer.principal).execute(SUBMIT, input=request)

    assert result.user_errors("submitAccessRequest") == [
        {
            "field": "newAccessProfile.allowedIps",
            "message": "At most 100 addresses or ranges (40000 given).",
            "code": "INVALID",
        }
    ]
    after = [await count(session, m) for m in (AccessRequest, AccessProfile, AuditEvent)]
    assert after == before
