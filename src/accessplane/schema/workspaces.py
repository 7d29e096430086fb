"""Workspaces and everything listed under one."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay

from accessplane import models
from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.errors import NotFound
from accessplane.resolvers.calls import workspace_calls
from accessplane.schema.access_requests import AccessRequest, AccessRequestFilter
from accessplane.schema.alerts import Alert, AlertRule
from accessplane.schema.api_access import ApiAccess, ApiAccessFilter, ApiAccessOrder
from accessplane.schema.apis import Api, ApiFilter
from accessplane.schema.audit import AuditEvent, AuditEventFilter
from accessplane.schema.base import (
    Connection,
    UserError,
    decode_any_id,
    decode_id,
    decode_ids,
    parse_page,
    root_connection,
)
from accessplane.schema.calls import Call, CallFilter
from accessplane.schema.clients import Client, ClientFilter
from accessplane.schema.grants import AccessExplanation
from accessplane.schema.groups import Group
from accessplane.schema.members import Member, MemberFilter
from accessplane.schema.notifications import NotificationSettings
from accessplane.schema.permissions import requires
from accessplane.schema.plans import Plan
from accessplane.schema.products import ApiProduct, ApiProductFilter
from accessplane.schema.roles import Role
from accessplane.schema.webhooks import WebhookEndpoint
from accessplane.services import (
    access_requests,
    api_access,
    apis,
    audit,
    clients,
    grants,
    groups,
    members,
    notifications,
    plans,
    products,
    roles,
    webhooks,
)
from accessplane.services import alerts as alerting


@strawberry.type
class Workspace(relay.Node):
    """A tenant: everything below it belongs to it alone."""

    id: relay.NodeID[str]
    name: str
    slug: str
    created_at: datetime
    pk: strawberry.Private[uuid.UUID]

    @property
    def workspace_id(self) -> uuid.UUID:
        return self.pk

    @classmethod
    def from_model(cls, workspace: models.Workspace) -> Workspace:
        return cls(
            id=str(workspace.id),
            name=workspace.name,
            slug=workspace.slug,
            created_at=workspace.created_at,
            pk=workspace.id,
        )

    @strawberry.field(
        extensions=requires(Permission.GET_API),
        description="The APIs the viewer can reach, by name.",
    )
    async def apis(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: ApiFilter | None = None,
    ) -> Connection[Api]:
        ctx = info.context
        page = await apis.list_apis(
            session=ctx.session,
            actor=ctx.principal,
            workspace_id=self.pk,
            filter=apis.ApiFilter(
                people_ids=decode_ids(filter.people_ids, "Member", field="peopleIds")
                if filter
                else None,
                group_ids=decode_ids(filter.group_ids, "Group", field="groupIds")
                if filter
                else None,
                search=filter.search if filter else None,
            ),
            args=parse_page(first, after, maximum=ctx.settings.max_page_size),
        )
        return root_connection(ctx.session, page, Api.from_model)

    @strawberry.field(extensions=requires(Permission.GET_MEMBER), description="By email.")
    async def members(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: MemberFilter | None = None,
    ) -> Connection[Member]:
        ctx = info.context
        page = await members.list_members(
            session=ctx.session,
            actor=ctx.principal,
            workspace_id=self.pk,
            filter=members.MemberFilter(
                role_ids=decode_ids(filter.role_ids, "Role", field="roleIds") if filter else None,
                group_ids=decode_ids(filter.group_ids, "Group", field="groupIds")
                if filter
                else None,
                search=filter.search if filter else None,
            ),
            args=parse_page(first, after, maximum=ctx.settings.max_page_size),
        )
        return root_connection(ctx.session, page, Member.from_model)

    @strawberry.field(extensions=requires(Permission.GET_GROUP), description="By name.")
    async def groups(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
    ) -> Connection[Group]:
        ctx = info.context
        page = await groups.list_groups(
            session=ctx.session,
            actor=ctx.principal,
            workspace_id=self.pk,
            search=search,
            args=parse_page(first, after, maximum=ctx.settings.max_page_size),
        )
        return root_connection(ctx.session, page, Group.from_model)

    @strawberry.field(extensions=requires(Permission.GET_ROLE), description="By name.")
    async def roles(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Role]:
        ctx = info.context
        page = await roles.list_roles(
            session=ctx.session,
            actor=ctx.principal,
            workspace_id=self.pk,
            args=parse_page(first, after, maximum=ctx.settings.max_page_size),
        )
        return root_connection(ctx.session, page, Role.from_model)

    @strawberry.field(
        extensions=requires(Permission.GET_API_ACCESS),
        description="Platform API keys; by name unless orderBy says otherwise.",
    )
    async def api_accesses(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: ApiAccessFilter | None = None,
        order_by: ApiAccessOrder | None = None,
    ) -> Connection[ApiAccess]:
        ctx = info.context
        wanted = filter or ApiAccessFilter()
        order = order_by or ApiAccessOrder()
        page = await api_access.list_api_accesses(
            session=ctx.session,
            actor=ctx.principal,
            workspace_id=self.pk,
            filter=api_access.ApiAccessFilter(
                status=wanted.status,
                role_ids=decode_ids(wanted.role_ids, "Role", field="roleIds")
                if wanted.role_ids is not None
                else None,
                tags=wanted.tags,
                search=wanted.search,
            ),
            order=api_access.ApiAccessOrderField(order.field),
            descending=order.descending,
            args=parse_page(first, after, maximum=ctx.settings.max_page_size),
        )
        return root_connection(ctx.session, page, ApiAccess.from_model)

    @strawberry.field(
        extensions=requires(Permission.GET_CLIENT, Permission.REQUEST_ACCESS),
        description="Consumer clients by name: all with getClient, a consumer's own otherwise.",
    )
    async def clients(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: ClientFilter | None = None,
    ) -> Connection[Client]:
        ctx = info.context
        wanted = filter or ClientFilter()
        page = await clients.list_clients(
            session=ctx.session,
            actor=ctx.principal,
            workspace_id=self.pk,
            filter=clients.ClientFilter(active=wanted.active, search=wanted.search),
            args=parse_page(first, after, maximum=ctx.settings.max_page_size),
        )
        return root_connection(ctx.session, page, Client.from_model)

    @strawberry.field(
        extensions=requires(Permission.GET_PRODUCT),
        description="API products by name: the published catalogue (drafts too with "
        "manageProducts).",
    )
    async def products(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: ApiProductFilter | None = None,
    ) -> Connection[ApiProduct]:
        ctx = info.context
        wanted = filter or ApiProductFilter()
        page = await products.list_products(
            session=ctx.session,
            actor=ctx.principal,
            workspace_id=self.pk,
            filter=products.ApiProductFilter(
                published=wanted.published, auth_method=wanted.auth_method, search=wanted.search
            ),
            args=parse_page(first, after, maximum=ctx.settings.max_page_size),
        )
        return root_connection(ctx.session, page, ApiProduct.from_model)

    @strawberry.field(extensions=requires(Permission.GET_PRODUCT), description="By name.")
    async def plans(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
    ) -> Connection[Plan]:
        ctx = info.context
        page = await plans.list_plans(
            session=ctx.session,
            actor=ctx.principal,
            workspace_id=self.pk,
            search=search,
            args=parse_page(first, after, maximum=ctx.settings.max_page_size),
        )
        return root_connection(ctx.session, page, Plan.from_model)

    @strawberry.field(
        extensions=requires(Permission.GET_ACCESS_REQUEST, Permission.REQUEST_ACCESS),
        description="Access requests, newest first: all with getAccessRequest, a consumer's "
        "own otherwise.",
    )
    async def access_requests(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: AccessRequestFilter | None = None,
    ) -> Connection[AccessRequest]:
        ctx = info.context
        wanted = filter or AccessRequestFilter()
        page = await access_requests.list_access_requests(
            session=ctx.session,
            actor=ctx.principal,
            workspace_id=self.pk,
            filter=access_requests.AccessRequestFilter(
                status=wanted.status,
                client_id=decode_id(wanted.client_id, "Client", field="clientId")
                if wanted.client_id
                else None,
                product_id=decode_id(wanted.product_id, "ApiProduct", field="productId")
                if wanted.product_id
                else None,
            ),
            args=parse_page(first, after, maximum=ctx.settings.max_page_size),
        )
        return root_connection(ctx.session, page, AccessRequest.from_model)

    @strawberry.field(
        extensions=requires(Permission.GET_WORKSPACE),
        description="Email subjects per kind of notification.",
    )
    async def notification_settings(self, info: Info) -> NotificationSettings:
        ctx = info.context
        settings = await notifications.get_notification_settings(
            session=ctx.session, actor=ctx.principal, workspace_id=self.pk
        )
        return NotificationSettings.from_model(settings)

    @strawberry.field(extensions=requires(Permission.GET_AUDIT_LOG), description="Newest first.")
    async def audit_events(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: AuditEventFilter | None = None,
    ) -> Connection[AuditEvent]:
        ctx = info.context
        wanted = filter or AuditEventFilter()
        page = await audit.list_events(
            session=ctx.session,
            actor=ctx.principal,
            workspace_id=self.pk,
            filter=audit.AuditEventFilter(
                actor_id=decode_any_id(wanted.actor_id, field="actorId")
                if wanted.actor_id
                else None,
                action=wanted.action,
                target_type=wanted.target_type,
                target_id=decode_any_id(wanted.target_id, field="targetId")
                if wanted.target_id
                else None,
                since=wanted.since,
                until=wanted.until,
            ),
            args=parse_page(first, after, maximum=ctx.settings.max_page_size),
        )
        return root_connection(ctx.session, page, AuditEvent.from_model)

    @strawberry.field(
        extensions=requires(Permission.GET_CALL_LOG),
        description="Every decision of the gateways (the call log), newest first.",
    )
    async def calls(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: CallFilter | None = None,
    ) -> Connection[Call]:  # type: ignore[type-var]  # a log row is no Node: no node(id)
        return await workspace_calls(info, self.pk, filter, first, after)

    @strawberry.field(
        extensions=requires(Permission.MANAGE_WEBHOOKS),
        description="The workspace's webhook endpoints, oldest first.",
    )
    async def webhook_endpoints(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[WebhookEndpoint]:
        ctx = info.context
        page = await webhooks.list_endpoints(
            session=ctx.session,
            actor=ctx.principal,
            workspace_id=self.pk,
            args=parse_page(first, after, maximum=ctx.settings.max_page_size),
        )
        return root_connection(ctx.session, page, WebhookEndpoint.from_model)

    @strawberry.field(
        extensions=requires(Permission.MANAGE_ALERTS),
        description="The workspace's alert rules, oldest first.",
    )
    async def alert_rules(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[AlertRule]:
        ctx = info.context
        page = await alerting.list_rules(
            session=ctx.session,
            actor=ctx.principal,
            workspace_id=self.pk,
            args=parse_page(first, after, maximum=ctx.settings.max_page_size),
        )
        return root_connection(ctx.session, page, AlertRule.from_model)

    @strawberry.field(
        extensions=requires(Permission.GET_AUDIT_LOG),
        description="The alerts the workspace's rules raised, newest first.",
    )
    async def alerts(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Alert]:
        ctx = info.context
        page = await alerting.list_alerts(
            session=ctx.session,
            actor=ctx.principal,
            workspace_id=self.pk,
            args=parse_page(first, after, maximum=ctx.settings.max_page_size),
        )
        return root_connection(ctx.session, page, Alert.from_model)

    @strawberry.field(
        extensions=requires(Permission.MANAGE_WEBHOOKS),
        description="The event types webhook endpoints may subscribe to, by name; an "
        "endpoint may also name a group (api_access.*) or every event (*).",
    )
    def webhook_event_types(self) -> list[str]:
        return sorted(webhooks.event_types())

    @strawberry.field(
        extensions=requires(Permission.GET_API_GRANTS),
        description="Whether a member reaches an API, and through which paths.",
    )
    async def explain_access(
        self, info: Info, member_id: relay.GlobalID, api_id: relay.GlobalID
    ) -> AccessExplanation:
        ctx = info.context
        explanation = await grants.explain_access(
            session=ctx.session,
            actor=ctx.principal,
            member_id=decode_id(member_id, "Member", field="memberId"),
            api_id=decode_id(api_id, "Api", field="apiId"),
        )
        if explanation.api.workspace_id != self.pk:
            raise NotFound("API not found.")
        return AccessExplanation.from_domain(explanation)


@strawberry.input
class CreateWorkspaceInput:
    name: str
    slug: str | None = None


@strawberry.type
class WorkspacePayload:
    workspace: Workspace | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
