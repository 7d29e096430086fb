"""Webhooks: endpoints, their deliveries, and the mutations' types."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay

from accessplane import models
from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.loaders.webhooks import DeliveriesByEndpointIdLoader
from accessplane.models import WebhookDeliveryStatus
from accessplane.schema.base import Connection, UserError, child_connection, parse_page
from accessplane.schema.permissions import requires

WebhookDeliveryStatusEnum = strawberry.enum(WebhookDeliveryStatus, name="WebhookDeliveryStatus")


@strawberry.type
class WebhookDelivery(relay.Node):
    """One event sent (or to be sent) to one endpoint, with the outcome of its last attempt."""

    id: relay.NodeID[str]
    event_type: str
    message_id: str = strawberry.field(
        description="The webhook-id header: the same on every attempt, for deduplication."
    )
    payload: str = strawberry.field(description="The JSON body, exactly as signed and sent.")
    status: WebhookDeliveryStatusEnum  # type: ignore[valid-type]
    attempts: int
    next_attempt_at: datetime | None = strawberry.field(
        description="When a PENDING delivery is attempted next; null once settled."
    )
    last_status_code: int | None = strawberry.field(
        description="The HTTP status of the last attempt; null if it got no answer."
    )
    last_error: str | None = strawberry.field(
        description="Why the last attempt failed (a status, a timeout, a refused target)."
    )
    created_at: datetime
    delivered_at: datetime | None
    pk: strawberry.Private[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, delivery: models.WebhookDelivery) -> WebhookDelivery:
        pending = delivery.status == WebhookDeliveryStatus.PENDING
        return cls(
            id=str(delivery.id),
            event_type=delivery.event_type,
            message_id=delivery.message_id,
            payload=delivery.payload,
            status=WebhookDeliveryStatus(delivery.status),
            attempts=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at if pending else None,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            created_at=delivery.created_at,
            delivered_at=delivery.delivered_at,
            pk=delivery.id,
            workspace_id=delivery.workspace_id,
        )


@strawberry.type
class WebhookEndpoint(relay.Node):
    """A URL that receives the workspace's events it subscribes to, signed with its secret
    (Standard Webhooks). The secret is returned only by create and rotate."""

    id: relay.NodeID[str]
    url: str
    description: str
    event_types: list[str] = strawberry.field(
        description="Subscriptions: event types (api_access.created), groups (api_access.*) "
        "or * for every event."
    )
    enabled: bool
    secret_hint: str = strawberry.field(description="The signing secret's last four characters.")
    created_by: str = strawberry.field(description="Who created it (email or key name).")
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, endpoint: models.WebhookEndpoint) -> WebhookEndpoint:
        return cls(
            id=str(endpoint.id),
            url=endpoint.url,
            description=endpoint.description,
            event_types=list(endpoint.event_types),
            enabled=endpoint.enabled,
            secret_hint=endpoint.secret_hint,
            created_by=endpoint.created_by_name,
            created_at=endpoint.created_at,
            updated_at=endpoint.updated_at,
            pk=endpoint.id,
            workspace_id=endpoint.workspace_id,
        )

    @strawberry.field(
        extensions=requires(Permission.MANAGE_WEBHOOKS),
        description="The endpoint's deliveries, newest first.",
    )
    async def deliveries(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[WebhookDelivery]:
        loaders = info.context.loaders
        args = parse_page(first, after, maximum=info.context.settings.max_page_size)
        page = await loaders.get(DeliveriesByEndpointIdLoader).load((self.pk, args))
        return child_connection(
            loaders.count(DeliveriesByEndpointIdLoader), self.pk, page, WebhookDelivery.from_model
        )


@strawberry.input
class CreateWebhookEndpointInput:
    workspace_id: relay.GlobalID
    url: str = strawberry.field(description="An http(s) URL on a public address.")
    event_types: list[str] = strawberry.field(
        description="Event types (api_access.created), groups (api_access.*) or *."
    )
    description: str = ""
    enabled: bool = True


@strawberry.input(description="Fields left out keep their value.")
class UpdateWebhookEndpointInput:
    id: relay.GlobalID
    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None


@strawberry.input
class RotateWebhookEndpointSecretInput:
    id: relay.GlobalID


@strawberry.input
class DeleteWebhookEndpointInput:
    id: relay.GlobalID


@strawberry.input
class RedeliverWebhookInput:
    id: relay.GlobalID = strawberry.field(description="The WebhookDelivery to send again.")


@strawberry.type
class WebhookEndpointPayload:
    webhook_endpoint: WebhookEndpoint | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class WebhookEndpointSecretPayload:
    """The endpoint and its signing secret: shown this once only, store it now."""

    webhook_endpoint: WebhookEndpoint | None = None
    secret: str | None = strawberry.field(
        default=None, description="The whsec_ signing secret; never readable again."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteWebhookEndpointPayload:
    deleted_webhook_endpoint_id: relay.GlobalID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RedeliverWebhookPayload:
    webhook_delivery: WebhookDelivery | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
