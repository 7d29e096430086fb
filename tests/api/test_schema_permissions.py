"""Every field of every object type either declares the permission it needs or is a plain
attribute listed below with the reason it needs none; every declaration shows in the field's
description."""

from __future__ import annotations

import pytest
from graphql import GraphQLField, GraphQLObjectType, GraphQLSchema

from accessplane.schema.build import build_schema
from accessplane.schema.permissions import Requires, declared_checks, requirement
from accessplane.settings import Settings

SCHEMA: GraphQLSchema = build_schema(Settings(environment="test"))._schema  # what clients see

# Plain attributes per type, with why they need no declaration of their own. A type's fields
# not listed here must declare a permission; a listed field that declares one fails too.
OWN_DATA = "part of the object itself: whoever may read the object reads it"
PLAIN: dict[str, tuple[set[str], str]] = {
    "AccessExplanation": ({"member", "api", "hasAccess", "paths"}, "explainAccess checked it"),
    "AccessPath": ({"kind", "group", "role", "grantedBy", "grantedAt"}, "explainAccess's"),
    "AccessProfile": (
        {"id", "name", "authMethod", "allowedIps", "trustedIssuer", "audience"}
        | {"tokenClientId", "requiredScopes", "tokenHint", "createdAt", "updatedAt"}
        | {"certificateBoundTokens", "suspendedAt", "suspendedReason"},
        OWN_DATA,
    ),
    "AccessProfileCertificate": (
        {"id", "fingerprint", "subject", "issuer", "serialNumber", "notBefore", "notAfter"}
        | {"pem", "createdAt"},
        OWN_DATA + " (a public certificate; reached through AccessProfile.certificates or node)",
    ),
    "AccessRequest": (
        {"id", "status", "createdApp", "requester", "requesterEmail", "planName"}
        | {"decidedBy", "decidedAt", "reason", "createdAt"},
        OWN_DATA + " (names copied onto the request, not links)",
    ),
    "Alert": (
        {"id", "kind", "ruleId", "subject", "accessProfileId", "windowStart", "count"}
        | {"summary", "suspended", "raisedAt"},
        "reached only through Workspace.alerts or node, both checked for getAuditLog",
    ),
    "AlertRule": (
        {"id", "name", "kind", "enabled", "reasons", "threshold", "windowMinutes", "notifyMail"}
        | {"recipients", "notifyWebhook", "suspend", "evaluatedUntil", "createdAt", "updatedAt"},
        "reached only through Workspace.alertRules, node or its mutations, checked for "
        "manageAlerts",
    ),
    "Api": ({"id", "name", "identifier", "baseUrl", "description", "createdAt"}, OWN_DATA),
    "ApiAccess": (
        {"id", "accessId", "name", "description", "tags", "type", "expiresAt", "tokenHint"}
        | {"createdBy", "createdAt", "lastUsedAt", "usageCount", "status"},
        OWN_DATA + " (never the token)",
    ),
    "ApiOperation": (
        {"id", "method", "path", "name", "scopes", "apiId", "createdAt", "updatedAt"},
        OWN_DATA + " (reached through Api.operations or ApiProduct.operations)",
    ),
    "ApiProduct": (
        {"id", "name", "description", "authMethod", "published", "createdAt"},
        OWN_DATA,
    ),
    "AuditEvent": (
        {"id", "actorType", "actorId", "actorName", "action", "targetType", "targetId"}
        | {"before", "after", "ip", "requestId", "at"},
        "an event is reached only through auditEvents or node, both checked for getAuditLog",
    ),
    "Call": (
        {"id", "at", "principalType", "principalId", "apiIdentifier", "operationId", "method"}
        | {"path", "ip", "reason", "allowed", "latencyMicroseconds", "requestId"},
        "a call is reached only through Workspace.calls, checked for getCallLog",
    ),
    "Client": (
        {"id", "name", "description", "logoUrl", "active", "createdAt", "updatedAt"},
        OWN_DATA,
    ),
    "CredentialUsage": (
        {"allowed", "denied", "lastUsedAt", "lastDeniedAt", "reasons"},
        "the value of AccessProfile.usage, which declared its permission",
    ),
    "Group": ({"id", "name", "description", "createdAt"}, OWN_DATA),
    "Member": (
        {"id", "kind", "createdAt", "user"},
        OWN_DATA + " (user: whose membership it is)",
    ),
    "NotificationSettings": ({"subjects"}, "the value of notificationSettings (getWorkspace)"),
    "NotificationSubject": (
        {"kind", "subject", "isDefault", "defaultSubject", "variables"},
        "an item of NotificationSettings.subjects",
    ),
    "OpenApiOperationChange": (
        {"method", "path", "name", "scopes", "previousName", "previousScopes"},
        "an item of the diff importOpenApi answers",
    ),
    "PageInfo": ({"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"}, "paging"),
    "PermissionInfo": (
        {"name", "description", "constraints"},
        "the public catalogue of permissions, the same for everyone",
    ),
    "Plan": (
        {"id", "name", "description", "rateLimit", "quota", "timeWindow", "autoApprove"}
        | {"createdAt"},
        OWN_DATA,
    ),
    "Quota": ({"requests", "period"}, "a value of Plan"),
    "RateLimit": ({"requests", "period"}, "a value of Plan"),
    "ReasonCount": ({"reason", "count", "lastAt"}, "an item of CredentialUsage.reasons"),
    "Role": (
        {"id", "name", "description", "permissions", "allApis", "builtIn", "createdAt"},
        OWN_DATA,
    ),
    "RolePermission": ({"name", "namePattern"}, "an item of Role.permissions"),
    "TimeWindow": ({"days", "start", "end", "timeZone"}, "a value of Plan"),
    "UsageBucketPoint": (
        {"start", "allowed", "denied", "reasons"},
        "an item of AccessProfile.usageSeries, which declared its permission",
    ),
    "UsageReasonCount": ({"reason", "count"}, "an item of UsageBucketPoint.reasons"),
    "User": ({"email", "name"}, "the person of Member.user"),
    "UserError": ({"field", "message", "code"}, "what was wrong with the caller's own input"),
    "Viewer": ({"kind", "name", "memberships"}, "the caller's own identity (viewer is checked)"),
    "ViewerMembership": (
        {"workspace", "roleName", "permissions", "allApis", "permissionConstraints"},
        "the caller's own memberships",
    ),
    "WebhookDelivery": (
        {"id", "eventType", "messageId", "payload", "status", "attempts", "nextAttemptAt"}
        | {"lastStatusCode", "lastError", "createdAt", "deliveredAt"},
        "reached only through WebhookEndpoint.deliveries or node, both checked for manageWebhooks",
    ),
    "WebhookEndpoint": (
        {"id", "url", "description", "eventTypes", "enabled", "secretHint", "createdBy"}
        | {"createdAt", "updatedAt"},
        "reached only through webhookEndpoints or node, both checked for manageWebhooks "
        "(never the secret)",
    ),
    "Workspace": ({"id", "name", "slug", "createdAt"}, "readable by every member of it"),
    "WorkspaceConfigChange": (
        {"action", "kind", "name", "detail", "line"},
        "an item of the plan applyWorkspaceConfig answers",
    ),
    "WorkspaceConfigCredential": (
        {"client", "app", "token"},
        "a token applyWorkspaceConfig made for the caller, shown once",
    ),
}
# The shapes shared by many types: a connection and its edges are the value of a list field
# that declared its permission; a payload is the answer of a mutation that declared its own.
CONNECTION = {"pageInfo", "edges", "totalCount"}
EDGE = {"cursor", "node"}
# Open to any authenticated caller; the service limits it to the caller's own.
OPEN_MUTATIONS = {"createWorkspace"}


def object_types() -> list[GraphQLObjectType]:
    return [
        t
        for name, t in sorted(SCHEMA.type_map.items())
        if isinstance(t, GraphQLObjectType) and not name.startswith("__")
    ]


def plain_fields(graphql_type: GraphQLObjectType) -> set[str]:
    """The fields of the type allowed to declare nothing."""
    name = graphql_type.name
    if name.endswith("Connection"):
        return CONNECTION
    if name.endswith("Edge"):
        return EDGE
    if name.endswith("Payload"):
        return set(graphql_type.fields)
    if name in ("Query", "Mutation"):
        return set()
    return PLAIN[name][0]


@pytest.mark.parametrize("graphql_type", object_types(), ids=lambda t: t.name)
def test_every_field_declares_a_permission_or_is_a_listed_attribute(
    graphql_type: GraphQLObjectType,
) -> None:
    plain = plain_fields(graphql_type)
    fields = graphql_type.fields
    undeclared = sorted(n for n, f in fields.items() if not declared_checks(f) and n not in plain)
    declared_but_listed = sorted(n for n, f in fields.items() if declared_checks(f) and n in plain)
    assert undeclared == [], "declare a permission, or list the field as a plain attribute"
    assert declared_but_listed == []
    assert plain <= set(fields), "a listed field no longer exists"


def test_every_listed_type_exists() -> None:
    assert set(PLAIN) <= {t.name for t in object_types()}


def test_every_mutation_names_a_specific_permission() -> None:
    mutation = SCHEMA.mutation_type
    assert mutation is not None
    vague = [
        name
        for name, field in mutation.fields.items()
        if name not in OPEN_MUTATIONS
        and not any(isinstance(c, Requires) for c in declared_checks(field))
    ]
    assert vague == []


def test_every_workspace_list_names_a_specific_permission() -> None:
    workspace = SCHEMA.get_type("Workspace")
    assert isinstance(workspace, GraphQLObjectType)
    vague = [
        name
        for name, field in workspace.fields.items()
        if name not in PLAIN["Workspace"][0]
        and not any(isinstance(c, Requires) for c in declared_checks(field))
    ]
    assert vague == []


def declared_fields() -> dict[str, GraphQLField]:
    return {
        f"{t.name}.{name}": field
        for t in object_types()
        for name, field in t.fields.items()
        if declared_checks(field)
    }


@pytest.mark.parametrize("name", sorted(declared_fields()))
def test_the_description_states_the_permission(name: str) -> None:
    field = declared_fields()[name]
    for check in declared_checks(field):
        assert requirement(check) in (field.description or "")


def test_the_description_names_the_permission_as_saleor_does() -> None:
    query = SCHEMA.query_type
    mutation = SCHEMA.mutation_type
    workspace = SCHEMA.get_type("Workspace")
    assert query is not None
    assert mutation is not None
    assert isinstance(workspace, GraphQLObjectType)
    assert mutation.fields["createApi"].description == "Requires permission: createApi."
    assert workspace.fields["apis"].description == (
        "The APIs the viewer can reach, by name.\n\nRequires permission: getApi."
    )
    assert workspace.fields["clients"].description.endswith(  # type: ignore[union-attr]
        "Requires one of the permissions: getClient, requestAccess."
    )
    assert query.fields["viewer"].description.endswith(  # type: ignore[union-attr]
        "Requires an authenticated caller."
    )


def test_a_second_schema_states_each_permission_once() -> None:
    again = build_schema(Settings(environment="test"))._schema
    description = again.get_type("Workspace").fields["apis"].description  # type: ignore[union-attr]
    assert description.count("Requires permission: getApi.") == 1
