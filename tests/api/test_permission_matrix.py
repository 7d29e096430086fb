"""The permission and tenancy matrix: every mutation and every field that declares a permission
(found by walking the schema, so a new one fails here until it has an entry) is refused to a
caller without a credential (UNAUTHENTICATED), to a member whose role holds everything but the
permission (FORBIDDEN) and, on an object, to the owner of another workspace (NOT_FOUND); no
refusal writes anything. The workspace's owner succeeds with the same variables, so each
refusal is the permission's or the workspace's, not a mistake in the variables."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from strawberry.relay import GlobalID

from accessplane.models import (
    AccessProfile,
    AlertRuleKind,
    WebhookDelivery,
    WebhookDeliveryStatus,
)
from accessplane.models.base import utcnow
from accessplane.services import access_requests, alerts, clients
from accessplane.services import operations as api_operations
from accessplane.services.webhooks import WebhookPolicy, create_endpoint, secret_cipher
from accessplane.settings import OidcIssuer, Settings
from tests.support.calls import add_calls
from tests.support.certificates import CertificateAuthority, mtls_app, register
from tests.support.graphql import GraphQLClient, Result
from tests.support.matrix import Case, Entry, Operation, lacking, operations, snapshot
from tests.support.scenario import Person, Scenario, World, gid

ISSUER = "https://idp.example.com"
LATER = (datetime.now(UTC) + timedelta(days=30)).isoformat()


@pytest.fixture(name="settings")
def trusting_settings(settings: Settings) -> Settings:
    """The suite's settings, trusting an identity provider (never contacted), so that
    linkServiceAccount and setGroupClaimMapping have valid variables."""
    issuer = OidcIssuer(issuer=ISSUER, groups_claim="groups")
    return settings.model_copy(update={"oidc_issuers": [issuer]})


# -- factories: what each operation needs, made through the real services ----------------------


def inputs(**values: Any) -> dict[str, Any]:
    return {"input": values}


async def member_id(s: Scenario, w: World) -> str:
    return (await s.member(w)).id


async def api_id(s: Scenario, w: World) -> str:
    return gid("Api", (await s.api(w)).id)


async def group_id(s: Scenario, w: World) -> str:
    return gid("Group", (await s.group(w)).id)


async def role_id(s: Scenario, w: World) -> str:
    return gid("Role", (await s.custom_role(w, "Auditor", [])).id)


async def key_id(s: Scenario, w: World) -> str:
    return gid("ApiAccess", (await s.api_access(w)).api_access.id)


async def client_id(s: Scenario, w: World) -> str:
    return gid("Client", (await s.client(w)).id)


async def app_id(s: Scenario, w: World) -> str:
    app = await s.app(w, await s.client(w), products=[await s.product(w)])
    return gid("AccessProfile", app.access_profile.id)


async def certificate_input(s: Scenario, w: World) -> dict[str, Any]:
    app = await mtls_app(s, w)
    pem = CertificateAuthority.create().issue("matrix").pem
    return inputs(accessProfileId=gid("AccessProfile", app.id), pem=pem)


async def certificate_id(s: Scenario, w: World) -> str:
    app = await mtls_app(s, w)
    certificate = await register(s, w, app, CertificateAuthority.create().issue("matrix"))
    return gid("AccessProfileCertificate", certificate.id)


async def product_id(s: Scenario, w: World) -> str:
    return gid("ApiProduct", (await s.product(w, apis=[await s.api(w)])).id)


async def operation_id(s: Scenario, w: World) -> str:
    operation = await api_operations.create_operation(
        session=s.session,
        actor=w.owner.principal,
        api_id=(await s.api(w)).id,
        method="GET",
        path="/invoices/{id}",
    )
    return gid("ApiOperation", operation.id)


OPENAPI = '{"openapi": "3.1.0", "info": {"title": "T", "version": "1"}, "paths": {"/a": {}}}'


async def plan_id(s: Scenario, w: World) -> str:
    return gid("Plan", (await s.plan(w)).id)


async def webhook_endpoint_id(s: Scenario, w: World) -> str:
    """An endpoint subscribed to everything (its own creation gives it a delivery); its
    host is never contacted."""
    issued = await create_endpoint(
        session=s.session,
        actor=w.owner.principal,
        policy=WebhookPolicy(fernet=secret_cipher(s.secret), allow_private_targets=True),
        workspace_id=w.workspace.id,
        url="https://hooks.example.com/accessplane",
        event_types=["*"],
    )
    return gid("WebhookEndpoint", issued.endpoint.id)


async def webhook_delivery_id(s: Scenario, w: World) -> str:
    """A delivery that failed for good, so that it may be sent again."""
    endpoint = uuid.UUID(GlobalID.from_id(await webhook_endpoint_id(s, w)).node_id)
    delivery = await s.session.scalar(
        select(WebhookDelivery).where(col(WebhookDelivery.endpoint_id) == endpoint)
    )
    assert delivery is not None
    delivery.status = WebhookDeliveryStatus.FAILED
    await s.session.commit()
    return gid("WebhookDelivery", delivery.id)


async def alert_rule_id(s: Scenario, w: World) -> str:
    rule = await alerts.create_rule(
        session=s.session,
        actor=w.owner.principal,
        workspace_id=w.workspace.id,
        given=alerts.RuleInput(
            name="Bursts", kind=AlertRuleKind.DENIAL_BURST, reasons=["ip_not_allowed"]
        ),
    )
    return gid("AlertRule", rule.id)


async def suspended_app_id(s: Scenario, w: World) -> str:
    """An app an alert rule suspended."""
    made = await app_id(s, w)
    app = await s.session.get(AccessProfile, uuid.UUID(GlobalID.from_id(made).node_id))
    assert app is not None
    app.suspended_at, app.suspended_reason = utcnow(), "Alert rule 'Bursts'"
    await s.session.commit()
    return made


async def request_id(s: Scenario, w: World, *, by_owner: bool = False) -> str:
    """A pending access request, submitted by a consumer of a client (or by the owner, as a
    member of the client: only the requester may cancel)."""
    client = await s.client(w, members=[w.owner] if by_owner else [])
    consumer = w.owner if by_owner else await s.consumer(w, client)
    submitted = await access_requests.submit_access_request(
        session=s.session,
        actor=consumer.principal,
        secret=s.secret,
        product_ids=[(await s.product(w)).id],
        plan_id=(await s.plan(w)).id,
        new_access_profile=access_requests.NewAccessProfile(client_id=client.id, name="Mobile"),
    )
    return gid("AccessRequest", submitted.access_request.id)


async def join_client(s: Scenario, w: World, person: Person, client: str) -> None:
    client_pk = uuid.UUID(GlobalID.from_id(client).node_id)
    current = await clients._member_ids(s.session, client_pk)
    await clients.update_client(
        session=s.session,
        actor=w.owner.principal,
        client_id=client_pk,
        member_ids=[*current, person.member.id],
    )


async def the_workspace(s: Scenario, w: World) -> dict[str, Any]:
    return {"id": w.id}


def node(make: Any) -> Any:
    async def factory(s: Scenario, w: World) -> dict[str, Any]:
        return {"id": await make(s, w)}

    return factory


async def usage_series_input(s: Scenario, w: World) -> dict[str, Any]:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    return {
        "id": await app_id(s, w),
        "from": start.isoformat(),
        "to": (start + timedelta(days=1)).isoformat(),
        "bucket": "HOUR",
    }


async def grant_input(s: Scenario, w: World, *, granted: bool) -> dict[str, Any]:
    api, person = await s.api(w), await s.member(w)
    if granted:
        await s.grant(w, api, people=[person])
    return {"apiId": gid("Api", api.id), "memberIds": [person.id]}


async def group_with_member(s: Scenario, w: World) -> dict[str, Any]:
    person = await s.member(w)
    group = await s.group(w, people=[person])
    return inputs(groupId=gid("Group", group.id), memberIds=[person.id])


async def submit_input(s: Scenario, w: World) -> dict[str, Any]:
    client = await s.client(w)
    return inputs(
        productIds=[await product_id(s, w)],
        planId=await plan_id(s, w),
        newAccessProfile={"clientId": gid("Client", client.id), "name": "Mobile"},
    )


async def a_call(s: Scenario, w: World) -> dict[str, Any]:
    app = await s.app(w, await s.client(w), products=[await s.product(w)])
    api = await s.api(w)
    await add_calls(
        s.session,
        w.workspace.id,
        principal_type="ACCESS_PROFILE",
        principal_id=app.access_profile.id,
        api_id=api.id,
    )
    return {"id": w.id}


async def explain_input(s: Scenario, w: World) -> dict[str, Any]:
    return {"id": w.id, "memberId": await member_id(s, w), "apiId": await api_id(s, w)}


MUTATIONS: dict[str, Entry] = {
    "createWorkspace": Entry(lambda s, w: _done(inputs(name="Elsewhere")), foreign=False),
    "addMember": Entry(
        lambda s, w: _done(
            inputs(
                workspaceId=w.id,
                email="new@example.com",
                roleId=w.role_id("Viewer"),
                name="New",
            )
        )
    ),
    "updateMemberRole": Entry(
        lambda s, w: _then(member_id(s, w), lambda i: inputs(id=i, roleId=w.role_id("Viewer")))
    ),
    "removeMember": Entry(lambda s, w: _then(member_id(s, w), lambda i: inputs(id=i))),
    "createRole": Entry(
        lambda s, w: _done(
            inputs(workspaceId=w.id, name="Auditor", permissions=[{"name": "getApi"}])
        )
    ),
    "updateRole": Entry(lambda s, w: _then(role_id(s, w), lambda i: inputs(id=i, name="Re"))),
    "deleteRole": Entry(lambda s, w: _then(role_id(s, w), lambda i: inputs(id=i))),
    "createGroup": Entry(lambda s, w: _done(inputs(workspaceId=w.id, name="Team"))),
    "updateGroup": Entry(lambda s, w: _then(group_id(s, w), lambda i: inputs(id=i, name="Re"))),
    "deleteGroup": Entry(lambda s, w: _then(group_id(s, w), lambda i: inputs(id=i))),
    "addGroupMembers": Entry(
        lambda s, w: _then(
            _both(group_id(s, w), member_id(s, w)),
            lambda ids: inputs(groupId=ids[0], memberIds=[ids[1]]),
        )
    ),
    "removeGroupMembers": Entry(group_with_member),
    "createApi": Entry(
        lambda s, w: _done(inputs(workspaceId=w.id, name="Billing", identifier="billing"))
    ),
    "updateApi": Entry(lambda s, w: _then(api_id(s, w), lambda i: inputs(id=i, name="Re"))),
    "deleteApi": Entry(lambda s, w: _then(api_id(s, w), lambda i: inputs(id=i))),
    "createApiOperation": Entry(
        lambda s, w: _then(api_id(s, w), lambda i: inputs(apiId=i, method="GET", path="/a/{id}"))
    ),
    "updateApiOperation": Entry(
        lambda s, w: _then(operation_id(s, w), lambda i: inputs(id=i, name="show"))
    ),
    "deleteApiOperation": Entry(lambda s, w: _then(operation_id(s, w), lambda i: inputs(id=i))),
    "importOpenApi": Entry(
        lambda s, w: _then(api_id(s, w), lambda i: inputs(apiId=i, document=OPENAPI))
    ),
    "grantApiAccess": Entry(
        lambda s, w: _then(grant_input(s, w, granted=False), lambda v: {"input": v})
    ),
    "revokeApiAccess": Entry(
        lambda s, w: _then(grant_input(s, w, granted=True), lambda v: {"input": v})
    ),
    "revokeAllApiAccess": Entry(
        lambda s, w: _then(
            grant_input(s, w, granted=True),
            lambda v: inputs(apiId=v["apiId"], confirmation="REVOKE"),
        )
    ),
    "createApiAccess": Entry(
        lambda s, w: _done(
            inputs(workspaceId=w.id, name="ci-key", roleId=w.role_id("Viewer"), expiresAt=LATER)
        )
    ),
    "updateApiAccess": Entry(lambda s, w: _then(key_id(s, w), lambda i: inputs(id=i, name="re"))),
    "regenerateApiAccess": Entry(
        lambda s, w: _then(key_id(s, w), lambda i: inputs(id=i, expiresAt=LATER))
    ),
    "deleteApiAccesses": Entry(lambda s, w: _then(key_id(s, w), lambda i: inputs(ids=[i]))),
    "updateNotificationSettings": Entry(
        lambda s, w: _done(
            inputs(workspaceId=w.id, subjects=[{"kind": "APPROVE", "subject": "Approved"}])
        )
    ),
    "linkServiceAccount": Entry(
        lambda s, w: _done(
            inputs(
                workspaceId=w.id,
                issuer=ISSUER,
                clientId="ci",
                roleId=w.role_id("Viewer"),
                name="CI",
            )
        )
    ),
    "setGroupClaimMapping": Entry(
        lambda s, w: _then(
            group_id(s, w), lambda i: inputs(groupId=i, issuer=ISSUER, claimValues=["admins"])
        )
    ),
    "createClient": Entry(lambda s, w: _done(inputs(workspaceId=w.id, name="Partner"))),
    "updateClient": Entry(lambda s, w: _then(client_id(s, w), lambda i: inputs(id=i, name="Re"))),
    "setClientActive": Entry(
        lambda s, w: _then(client_id(s, w), lambda i: inputs(id=i, active=False))
    ),
    "deleteClient": Entry(lambda s, w: _then(client_id(s, w), lambda i: inputs(id=i))),
    "createAccessProfile": Entry(
        lambda s, w: _then(
            client_id(s, w), lambda i: inputs(clientId=i, name="Mobile", authMethod="AUTH_TOKEN")
        )
    ),
    "updateAccessProfile": Entry(
        lambda s, w: _then(app_id(s, w), lambda i: inputs(id=i, name="Re"))
    ),
    "refreshAccessProfileToken": Entry(lambda s, w: _then(app_id(s, w), lambda i: inputs(id=i))),
    "deleteAccessProfile": Entry(lambda s, w: _then(app_id(s, w), lambda i: inputs(id=i))),
    "addAccessProfileCertificate": Entry(certificate_input),
    "removeAccessProfileCertificate": Entry(
        lambda s, w: _then(certificate_id(s, w), lambda i: inputs(id=i))
    ),
    "createApiProduct": Entry(
        lambda s, w: _done(inputs(workspaceId=w.id, name="Payments", authMethod="AUTH_TOKEN"))
    ),
    "updateApiProduct": Entry(
        lambda s, w: _then(product_id(s, w), lambda i: inputs(id=i, name="Re"))
    ),
    "deleteApiProduct": Entry(lambda s, w: _then(product_id(s, w), lambda i: inputs(id=i))),
    "createPlan": Entry(lambda s, w: _done(inputs(workspaceId=w.id, name="Gold"))),
    "updatePlan": Entry(lambda s, w: _then(plan_id(s, w), lambda i: inputs(id=i, name="Re"))),
    "deletePlan": Entry(lambda s, w: _then(plan_id(s, w), lambda i: inputs(id=i))),
    "createWebhookEndpoint": Entry(
        lambda s, w: _done(
            inputs(workspaceId=w.id, url="https://93.184.215.14/hooks", eventTypes=["*"])
        )
    ),
    "updateWebhookEndpoint": Entry(
        lambda s, w: _then(webhook_endpoint_id(s, w), lambda i: inputs(id=i, enabled=False))
    ),
    "rotateWebhookEndpointSecret": Entry(
        lambda s, w: _then(webhook_endpoint_id(s, w), lambda i: inputs(id=i))
    ),
    "deleteWebhookEndpoint": Entry(
        lambda s, w: _then(webhook_endpoint_id(s, w), lambda i: inputs(id=i))
    ),
    "redeliverWebhook": Entry(
        lambda s, w: _then(webhook_delivery_id(s, w), lambda i: inputs(id=i))
    ),
    "createAlertRule": Entry(
        lambda s, w: _done(
            inputs(workspaceId=w.id, name="New networks", kind="NEW_NETWORK", threshold=1)
        )
    ),
    "updateAlertRule": Entry(
        lambda s, w: _then(alert_rule_id(s, w), lambda i: inputs(id=i, threshold=50))
    ),
    "deleteAlertRule": Entry(lambda s, w: _then(alert_rule_id(s, w), lambda i: inputs(id=i))),
    "resumeAccessProfile": Entry(
        lambda s, w: _then(suspended_app_id(s, w), lambda i: inputs(id=i))
    ),
    "submitAccessRequest": Entry(submit_input),
    "approveAccessRequest": Entry(
        lambda s, w: _then(request_id(s, w), lambda i: inputs(id=i, reason="Fine."))
    ),
    "rejectAccessRequest": Entry(
        lambda s, w: _then(request_id(s, w), lambda i: inputs(id=i, reason="No."))
    ),
    "cancelAccessRequest": Entry(
        lambda s, w: _then(request_id(s, w, by_owner=True), lambda i: inputs(id=i))
    ),
    "applyWorkspaceConfig": Entry(
        lambda s, w: _done(inputs(workspaceId=w.id, config="version: 1\nplans: [{name: Gold}]\n"))
    ),
}

# Protected fields: read on the workspace (``id``) or on a node of their type (``id``).
FIELDS: dict[str, Entry] = {
    **{
        f"Workspace.{name}": Entry(the_workspace)
        for name in (
            "apis",
            "members",
            "groups",
            "roles",
            "apiAccesses",
            "clients",
            "products",
            "plans",
            "accessRequests",
            "notificationSettings",
            "auditEvents",
            "calls",
        )
    },
    # A call is no node: read on the workspace's first call, which names an app and an API.
    **{f"Call.{name}": Entry(a_call) for name in ("accessProfile", "api")},
    "Workspace.webhookEndpoints": Entry(the_workspace),
    "Workspace.alertRules": Entry(the_workspace),
    "Workspace.alerts": Entry(the_workspace),
    "WebhookEndpoint.deliveries": Entry(node(webhook_endpoint_id)),
    "Workspace.webhookEventTypes": Entry(the_workspace),
    "Workspace.explainAccess": Entry(explain_input),
    **{
        f"Api.{name}": Entry(node(api_id))
        for name in ("peopleCount", "groupsCount", "people", "groups", "operations")
    },
    "ApiAccess.role": Entry(node(key_id)),
    "ApiProduct.apis": Entry(node(product_id)),
    "ApiProduct.operations": Entry(node(product_id)),
    # Without getClient, a consumer sees only a client of theirs: the member joins it first.
    "Client.members": Entry(node(client_id), joins_client=True),
    "Client.accessProfiles": Entry(node(client_id)),
    "Group.membersCount": Entry(node(group_id)),
    "Group.members": Entry(node(group_id)),
    **{f"Member.{name}": Entry(node(member_id)) for name in ("role", "groups", "apis")},
    **{
        f"AccessProfile.{name}": Entry(node(app_id))
        for name in ("client", "plan", "products", "usage", "certificates")
    },
    "AccessProfile.usageSeries": Entry(usage_series_input),
    **{
        f"AccessRequest.{name}": Entry(node(request_id))
        for name in ("accessProfile", "plan", "products")
    },
    # Open to every authenticated caller; the workspace and node are still another's to see.
    "Query.viewer": Entry(lambda s, w: _done({}), foreign=False),
    "Query.workspaces": Entry(lambda s, w: _done({}), foreign=False),
    "Query.permissionCatalog": Entry(lambda s, w: _done({}), foreign=False),
    "Query.workspace": Entry(the_workspace),
    "Query.node": Entry(node(api_id)),
    "Query.exportWorkspaceConfig": Entry(lambda s, w: _done({"workspaceId": w.id})),
}
ENTRIES = {**{f"Mutation.{n}": e for n, e in MUTATIONS.items()}, **FIELDS}


async def _done(value: dict[str, Any]) -> dict[str, Any]:
    return value


async def _then(made: Any, shape: Any) -> dict[str, Any]:
    return shape(await made)  # type: ignore[no-any-return]


async def _both(first: Any, second: Any) -> tuple[Any, Any]:
    return await first, await second


# -- the matrix ------------------------------------------------------------------------------

OPERATIONS = operations()


def cases() -> list[Any]:
    """Every operation with each case that applies to it."""
    found = []
    for operation in OPERATIONS:
        entry = ENTRIES.get(operation.name)
        applicable = [Case.ALLOWED, Case.ANONYMOUS]
        if operation.permissions:
            applicable.append(Case.FORBIDDEN)
        if entry is None or entry.foreign:
            applicable.append(Case.FOREIGN)
        found += [
            pytest.param(operation, case, id=f"{operation.name}-{case}") for case in applicable
        ]
    return found


def test_every_entry_is_an_operation_of_the_schema() -> None:
    assert set(ENTRIES) <= {operation.name for operation in OPERATIONS}


def refused(result: Result, operation: Operation, code: str) -> None:
    """The request was refused with ``code``, as a GraphQL error, and the operation's value
    is null."""
    assert result.errors, f"{operation.name} answered without refusing: {result.data}"
    assert set(result.error_codes) == {code}, result.errors
    assert operation.value(result.data) is None


# One database: who may do what is decided before any SQL differs between the two, and the
# matrix (three callers for every operation) is a large share of the suite; the behaviour tests
# and the sweep run on PostgreSQL as well.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("operation", "case"), cases())
async def test_the_operation_is_refused_to_whoever_may_not(
    operation: Operation,
    case: Case,
    graphql: GraphQLClient,
    scenario: Scenario,
    session: AsyncSession,
) -> None:
    entry = ENTRIES.get(operation.name)
    assert entry is not None, f"{operation.name} has no entry in the permission matrix"
    home = await scenario.workspace()
    variables = await entry.factory(scenario, home)
    if case is Case.ALLOWED:
        result = await graphql.as_principal(home.owner.principal).execute(
            operation.document(), **variables
        )
        data = result.ok()
        if operation.type_name == "Mutation":
            assert data[operation.field_name]["userErrors"] == []
        return

    if case is Case.ANONYMOUS:
        caller, code = graphql.anonymous(), "UNAUTHENTICATED"
    elif case is Case.FORBIDDEN:
        member = await lacking(scenario, home, operation.permissions)
        if entry.joins_client:
            await join_client(scenario, home, member, variables["id"])
        caller, code = graphql.as_principal(member.principal), "FORBIDDEN"
    else:
        other = await scenario.workspace()
        caller, code = graphql.as_principal(other.owner.principal), "NOT_FOUND"
    before = await snapshot(session)

    result = await caller.execute(operation.document(), **variables)

    refused(result, operation, code)
    assert await snapshot(session) == before
