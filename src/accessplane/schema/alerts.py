"""Alert rules, the alerts they raised, and the mutations' types."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay

from accessplane import models
from accessplane.models import AlertRuleKind
from accessplane.schema.access_profiles import AccessProfile
from accessplane.schema.base import UserError, to_global_id

AlertRuleKindEnum = strawberry.enum(
    AlertRuleKind,
    name="AlertRuleKind",
    description="What a rule watches for in the call log (docs/observability.md).",
)


@strawberry.type
class AlertRule(relay.Node):
    """A workspace's rule, evaluated by the worker over the call log, and its actions."""

    id: relay.NodeID[str]
    name: str
    kind: AlertRuleKindEnum  # type: ignore[valid-type]
    enabled: bool
    reasons: list[str] = strawberry.field(description="DENIAL_BURST: the reasons counted.")
    threshold: int = strawberry.field(
        description="DENIAL_BURST and REVOKED_CREDENTIAL_PRESENTED: calls per window per app."
    )
    window_minutes: int = strawberry.field(description="The length of the fixed windows.")
    notify_mail: bool
    recipients: list[str] = strawberry.field(
        description="Who is mailed; empty: the workspace's people with manageAlerts."
    )
    notify_webhook: bool = strawberry.field(description="Send the alert.raised webhook event.")
    suspend: bool = strawberry.field(description="Suspend the app at once when it fires.")
    evaluated_until: datetime | None = strawberry.field(
        description="The call log was read up to here by the last evaluation."
    )
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, rule: models.AlertRule) -> AlertRule:
        return cls(
            id=str(rule.id),
            name=rule.name,
            kind=AlertRuleKind(rule.kind),
            enabled=rule.enabled,
            reasons=list(rule.reasons),
            threshold=rule.threshold,
            window_minutes=rule.window_minutes,
            notify_mail=rule.notify_mail,
            recipients=list(rule.recipients),
            notify_webhook=rule.notify_webhook,
            suspend=rule.suspend,
            evaluated_until=rule.evaluated_until,
            created_at=rule.created_at,
            updated_at=rule.updated_at,
            pk=rule.id,
            workspace_id=rule.workspace_id,
        )


@strawberry.type
class Alert(relay.Node):
    """One raised alert: a rule's condition met for a subject in a window (raised once)."""

    id: relay.NodeID[str]
    kind: AlertRuleKindEnum  # type: ignore[valid-type]
    rule_id: relay.GlobalID = strawberry.field(description="The AlertRule (gone if deleted).")
    subject: str = strawberry.field(
        description="What it is about: access_profile:<uuid>, with the network or quota level."
    )
    access_profile_id: relay.GlobalID | None
    window_start: datetime
    count: int
    summary: str
    suspended: bool = strawberry.field(description="Whether it suspended the app.")
    raised_at: datetime
    pk: strawberry.Private[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, alert: models.Alert) -> Alert:
        app = alert.access_profile_id
        return cls(
            id=str(alert.id),
            kind=AlertRuleKind(alert.kind),
            rule_id=to_global_id("AlertRule", alert.rule_id),
            subject=alert.subject,
            access_profile_id=to_global_id("AccessProfile", app) if app else None,
            window_start=alert.window_start,
            count=alert.count,
            summary=alert.summary,
            suspended=alert.suspended,
            raised_at=alert.raised_at,
            pk=alert.id,
            workspace_id=alert.workspace_id,
        )


@strawberry.input
class CreateAlertRuleInput:
    workspace_id: relay.GlobalID
    name: str
    kind: AlertRuleKindEnum  # type: ignore[valid-type]
    reasons: list[str] = strawberry.field(
        default_factory=list, description="DENIAL_BURST only: reasons to count."
    )
    threshold: int = 10
    window_minutes: int = 5
    notify_mail: bool = True
    recipients: list[str] = strawberry.field(default_factory=list)
    notify_webhook: bool = True
    suspend: bool = False
    enabled: bool = True


@strawberry.input(description="Fields left out keep their value.")
class UpdateAlertRuleInput:
    id: relay.GlobalID
    name: str | None = None
    kind: AlertRuleKindEnum | None = None  # type: ignore[valid-type]
    reasons: list[str] | None = None
    threshold: int | None = None
    window_minutes: int | None = None
    notify_mail: bool | None = None
    recipients: list[str] | None = None
    notify_webhook: bool | None = None
    suspend: bool | None = None
    enabled: bool | None = None


@strawberry.input
class DeleteAlertRuleInput:
    id: relay.GlobalID


@strawberry.input
class ResumeAccessProfileInput:
    id: relay.GlobalID = strawberry.field(description="The suspended AccessProfile.")


@strawberry.type
class AlertRulePayload:
    alert_rule: AlertRule | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteAlertRulePayload:
    deleted_alert_rule_id: relay.GlobalID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ResumeAccessProfilePayload:
    access_profile: AccessProfile | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
