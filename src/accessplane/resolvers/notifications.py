"""Notification settings mutations."""

from __future__ import annotations

import strawberry

from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.models import NotificationKind
from accessplane.schema.base import decode_id, user_errors_as_payload
from accessplane.schema.notifications import (
    NotificationSettings,
    NotificationSettingsPayload,
    UpdateNotificationSettingsInput,
)
from accessplane.schema.permissions import requires
from accessplane.services import notifications


@strawberry.type
class NotificationMutations:
    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_NOTIFICATIONS),
        description="Set the workspace's email subjects (Jinja2 templates); an empty subject "
        "restores the default.",
    )
    @user_errors_as_payload
    async def update_notification_settings(
        self, info: Info, input: UpdateNotificationSettingsInput
    ) -> NotificationSettingsPayload:
        ctx = info.context
        settings = await notifications.update_notification_settings(
            session=ctx.session,
            actor=ctx.principal,
            workspace_id=decode_id(input.workspace_id, "Workspace", field="workspaceId"),
            subjects={NotificationKind(s.kind): s.subject for s in input.subjects},
        )
        return NotificationSettingsPayload(
            notification_settings=NotificationSettings.from_model(settings)
        )
