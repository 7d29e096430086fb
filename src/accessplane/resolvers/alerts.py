"""Alert rule mutations, and lifting an app's suspension."""

from __future__ import annotations

import strawberry

from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.schema.access_profiles import AccessProfile
from accessplane.schema.alerts import (
    AlertRule,
    AlertRulePayload,
    CreateAlertRuleInput,
    DeleteAlertRuleInput,
    DeleteAlertRulePayload,
    ResumeAccessProfileInput,
    ResumeAccessProfilePayload,
    UpdateAlertRuleInput,
)
from accessplane.schema.base import decode_id, to_global_id, user_errors_as_payload
from accessplane.schema.permissions import requires
from accessplane.services import alerts
from accessplane.services.alerts import RuleInput

RULE = "AlertRule"


def _given(input: CreateAlertRuleInput | UpdateAlertRuleInput) -> RuleInput:
    """The rule's fields as the service takes them (unset ones stay unset on an update)."""
    return RuleInput(
        name=input.name,
        kind=input.kind,
        enabled=input.enabled,
        reasons=input.reasons,
        threshold=input.threshold,
        window_minutes=input.window_minutes,
        notify_mail=input.notify_mail,
        recipients=input.recipients,
        notify_webhook=input.notify_webhook,
        suspend=input.suspend,
    )


@strawberry.type
class AlertMutations:
    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_ALERTS),
        description="Create an alert rule; it reads the call log from now on.",
    )
    @user_errors_as_payload
    async def create_alert_rule(self, info: Info, input: CreateAlertRuleInput) -> AlertRulePayload:
        ctx = info.context
        rule = await alerts.create_rule(
            session=ctx.session,
            actor=ctx.principal,
            workspace_id=decode_id(input.workspace_id, "Workspace", field="workspaceId"),
            given=_given(input),
        )
        return AlertRulePayload(alert_rule=AlertRule.from_model(rule))

    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_ALERTS),
        description="Edit an alert rule; fields left out keep their value.",
    )
    @user_errors_as_payload
    async def update_alert_rule(self, info: Info, input: UpdateAlertRuleInput) -> AlertRulePayload:
        ctx = info.context
        rule = await alerts.update_rule(
            session=ctx.session,
            actor=ctx.principal,
            rule_id=decode_id(input.id, RULE, field="id"),
            given=_given(input),
        )
        return AlertRulePayload(alert_rule=AlertRule.from_model(rule))

    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_ALERTS),
        description="Delete an alert rule and the alerts it raised.",
    )
    @user_errors_as_payload
    async def delete_alert_rule(
        self, info: Info, input: DeleteAlertRuleInput
    ) -> DeleteAlertRulePayload:
        ctx = info.context
        rule = await alerts.delete_rule(
            session=ctx.session, actor=ctx.principal, rule_id=decode_id(input.id, RULE, field="id")
        )
        return DeleteAlertRulePayload(deleted_alert_rule_id=to_global_id(RULE, rule.id))

    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_CLIENTS),
        description="Lift an app's suspension by an alert rule: its calls are decided as before.",
    )
    @user_errors_as_payload
    async def resume_access_profile(
        self, info: Info, input: ResumeAccessProfileInput
    ) -> ResumeAccessProfilePayload:
        ctx = info.context
        app = await alerts.resume_access_profile(
            session=ctx.session,
            actor=ctx.principal,
            access_profile_id=decode_id(input.id, "AccessProfile", field="id"),
        )
        return ResumeAccessProfilePayload(access_profile=AccessProfile.from_model(app))
