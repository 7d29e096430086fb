"""Webhook endpoint mutations."""

from __future__ import annotations

import strawberry

from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.schema.base import decode_id, to_global_id, user_errors_as_payload
from accessplane.schema.permissions import requires
from accessplane.schema.webhooks import (
    CreateWebhookEndpointInput,
    DeleteWebhookEndpointInput,
    DeleteWebhookEndpointPayload,
    RedeliverWebhookInput,
    RedeliverWebhookPayload,
    RotateWebhookEndpointSecretInput,
    UpdateWebhookEndpointInput,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointPayload,
    WebhookEndpointSecretPayload,
)
from accessplane.services import webhooks
from accessplane.services.webhooks import WebhookPolicy

ENDPOINT = "WebhookEndpoint"


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_WEBHOOKS),
        description="Register a webhook endpoint; its signing secret is returned this once only.",
    )
    @user_errors_as_payload
    async def create_webhook_endpoint(
        self, info: Info, input: CreateWebhookEndpointInput
    ) -> WebhookEndpointSecretPayload:
        ctx = info.context
        issued = await webhooks.create_endpoint(
            session=ctx.session,
            actor=ctx.principal,
            policy=WebhookPolicy.from_settings(ctx.settings),
            workspace_id=decode_id(input.workspace_id, "Workspace", field="workspaceId"),
            url=input.url,
            event_types=input.event_types,
            description=input.description,
            enabled=input.enabled,
        )
        return WebhookEndpointSecretPayload(
            webhook_endpoint=WebhookEndpoint.from_model(issued.endpoint), secret=issued.secret
        )

    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_WEBHOOKS),
        description="Edit a webhook endpoint; pending deliveries go to its new URL.",
    )
    @user_errors_as_payload
    async def update_webhook_endpoint(
        self, info: Info, input: UpdateWebhookEndpointInput
    ) -> WebhookEndpointPayload:
        ctx = info.context
        endpoint = await webhooks.update_endpoint(
            session=ctx.session,
            actor=ctx.principal,
            policy=WebhookPolicy.from_settings(ctx.settings),
            endpoint_id=decode_id(input.id, ENDPOINT, field="id"),
            url=input.url,
            event_types=input.event_types,
            description=input.description,
            enabled=input.enabled,
        )
        return WebhookEndpointPayload(webhook_endpoint=WebhookEndpoint.from_model(endpoint))

    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_WEBHOOKS),
        description="Give a webhook endpoint a new signing secret, returned this once only; "
        "every later attempt is signed with it.",
    )
    @user_errors_as_payload
    async def rotate_webhook_endpoint_secret(
        self, info: Info, input: RotateWebhookEndpointSecretInput
    ) -> WebhookEndpointSecretPayload:
        ctx = info.context
        issued = await webhooks.rotate_secret(
            session=ctx.session,
            actor=ctx.principal,
            policy=WebhookPolicy.from_settings(ctx.settings),
            endpoint_id=decode_id(input.id, ENDPOINT, field="id"),
        )
        return WebhookEndpointSecretPayload(
            webhook_endpoint=WebhookEndpoint.from_model(issued.endpoint), secret=issued.secret
        )

    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_WEBHOOKS),
        description="Delete a webhook endpoint and its deliveries; pending ones are not sent.",
    )
    @user_errors_as_payload
    async def delete_webhook_endpoint(
        self, info: Info, input: DeleteWebhookEndpointInput
    ) -> DeleteWebhookEndpointPayload:
        ctx = info.context
        endpoint = await webhooks.delete_endpoint(
            session=ctx.session,
            actor=ctx.principal,
            endpoint_id=decode_id(input.id, ENDPOINT, field="id"),
        )
        return DeleteWebhookEndpointPayload(
            deleted_webhook_endpoint_id=to_global_id(ENDPOINT, endpoint.id)
        )

    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_WEBHOOKS),
        description="Send a delivered or failed webhook again, from its first attempt, with "
        "the same webhook-id and payload.",
    )
    @user_errors_as_payload
    async def redeliver_webhook(
        self, info: Info, input: RedeliverWebhookInput
    ) -> RedeliverWebhookPayload:
        ctx = info.context
        delivery = await webhooks.redeliver(
            session=ctx.session,
            actor=ctx.principal,
            delivery_id=decode_id(input.id, "WebhookDelivery", field="id"),
        )
        return RedeliverWebhookPayload(webhook_delivery=WebhookDelivery.from_model(delivery))
