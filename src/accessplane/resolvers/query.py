"""Root queries."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from accessplane import models
from accessplane.auth.permissions import Permission
from accessplane.auth.principals import Principal
from accessplane.context import Info
from accessplane.errors import NotFound
from accessplane.schema.access_profiles import AccessProfile
from accessplane.schema.access_requests import AccessRequest
from accessplane.schema.alerts import Alert, AlertRule
from accessplane.schema.api_access import ApiAccess
from accessplane.schema.apis import Api
from accessplane.schema.audit import AuditEvent
from accessplane.schema.base import decode_any_id
from accessplane.schema.certificates import AccessProfileCertificate
from accessplane.schema.clients import Client
from accessplane.schema.groups import Group
from accessplane.schema.members import Member
from accessplane.schema.operations import ApiOperation
from accessplane.schema.permissions import authenticated
from accessplane.schema.plans import Plan
from accessplane.schema.products import ApiProduct
from accessplane.schema.roles import PermissionInfo, Role, permission_catalog
from accessplane.schema.viewer import Viewer
from accessplane.schema.webhooks import WebhookDelivery, WebhookEndpoint
from accessplane.schema.workspaces import Workspace
from accessplane.services import (
    access_profiles,
    access_requests,
    certificates,
    clients,
    operations,
    products,
    workspaces,
)
from accessplane.services.scoping import get_accessible_api, get_scoped

Fetch = Callable[[AsyncSession, Principal, uuid.UUID], Awaitable[Any]]


def _scoped(model: type[Any], permission: Permission, label: str) -> Fetch:
    async def fetch(session: AsyncSession, actor: Principal, pk: uuid.UUID) -> Any:
        return await get_scoped(session, actor, model, pk, permission, label=label)

    return fetch


async def _workspace(session: AsyncSession, actor: Principal, pk: uuid.UUID) -> Any:
    actor.membership(pk)
    workspace = await session.get(models.Workspace, pk)
    if workspace is None:
        raise NotFound("Workspace not found.")
    return workspace


async def _api(session: AsyncSession, actor: Principal, pk: uuid.UUID) -> Any:
    return await get_accessible_api(session, actor, pk, Permission.GET_API)


# How ``node(id)`` fetches each type, with the same visibility rules as every list.
NODES: dict[str, tuple[Fetch, Callable[[Any], relay.Node]]] = {
    "Workspace": (_workspace, Workspace.from_model),
    "Api": (_api, Api.from_model),
    "ApiOperation": (operations.get_visible_operation, ApiOperation.from_model),
    "Member": (_scoped(models.Member, Permission.GET_MEMBER, "Member"), Member.from_model),
    "Group": (_scoped(models.Group, Permission.GET_GROUP, "Group"), Group.from_model),
    "Role": (_scoped(models.Role, Permission.GET_ROLE, "Role"), Role.from_model),
    "ApiAccess": (
        _scoped(models.ApiAccess, Permission.GET_API_ACCESS, "API Access"),
        ApiAccess.from_model,
    ),
    "Client": (clients.get_visible_client, Client.from_model),
    "AccessProfile": (access_profiles.get_visible_profile, AccessProfile.from_model),
    "AccessProfileCertificate": (
        certificates.get_visible_certificate,
        AccessProfileCertificate.from_model,
    ),
    "ApiProduct": (products.get_visible_product, ApiProduct.from_model),
    "Plan": (_scoped(models.Plan, Permission.GET_PRODUCT, "Plan"), Plan.from_model),
    "AccessRequest": (access_requests.get_visible_request, AccessRequest.from_model),
    "AuditEvent": (
        _scoped(models.AuditEvent, Permission.GET_AUDIT_LOG, "Audit event"),
        AuditEvent.from_model,
    ),
    "WebhookEndpoint": (
        _scoped(models.WebhookEndpoint, Permission.MANAGE_WEBHOOKS, "Webhook endpoint"),
        WebhookEndpoint.from_model,
    ),
    "WebhookDelivery": (
        _scoped(models.WebhookDelivery, Permission.MANAGE_WEBHOOKS, "Webhook delivery"),
        WebhookDelivery.from_model,
    ),
    "AlertRule": (
        _scoped(models.AlertRule, Permission.MANAGE_ALERTS, "Alert rule"),
        AlertRule.from_model,
    ),
    "Alert": (_scoped(models.Alert, Permission.GET_AUDIT_LOG, "Alert"), Alert.from_model),
}


async def resolve_node(info: Info, global_id: relay.GlobalID) -> relay.Node:
    """Fetch any object by global id, with the visibility rules of its type."""
    pk = decode_any_id(global_id, field="id")
    entry = NODES.get(global_id.type_name)
    if entry is None:
        raise NotFound(f"No type named '{global_id.type_name}'.")
    fetch, convert = entry
    return convert(await fetch(info.context.session, info.context.principal, pk))


@strawberry.type
class Query:
    """Entry points of every read."""

    @strawberry.field(extensions=authenticated())
    def viewer(self, info: Info) -> Viewer:
        principal = info.context.principal
        return Viewer(kind=principal.kind, name=principal.name, principal=principal)

    @strawberry.field(extensions=authenticated(), description="The viewer's workspaces.")
    async def workspaces(self, info: Info) -> list[Workspace]:
        rows = await workspaces.list_workspaces(info.context.session, info.context.principal)
        return [Workspace.from_model(w) for w in rows]

    @strawberry.field(extensions=authenticated())
    async def workspace(self, info: Info, id: relay.GlobalID) -> Workspace:
        decode_any_id(id, field="id")  # a malformed id is BAD_USER_INPUT, another type's absent
        if id.type_name != "Workspace":
            raise NotFound("Workspace not found.")
        node = await resolve_node(info, id)
        if not isinstance(node, Workspace):
            raise NotFound("Workspace not found.")
        return node

    @strawberry.field(
        extensions=authenticated(),
        description="Any object by its global id; another workspace's is NOT_FOUND.",
    )
    async def node(self, info: Info, id: relay.GlobalID) -> relay.Node:
        return await resolve_node(info, id)

    @strawberry.field(extensions=authenticated(), description="Every permission a role can hold.")
    def permission_catalog(self) -> list[PermissionInfo]:
        return permission_catalog()
