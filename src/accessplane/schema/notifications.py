"""Notification settings: each workspace's email subjects."""

from __future__ import annotations

import uuid

import strawberry
from strawberry import relay

from accessplane import models
from accessplane.models import NotificationKind
from accessplane.schema.base import UserError
from accessplane.services.notifications import (
    default_subject,
    effective_subjects,
    template_variables,
)

NotificationKindEnum = strawberry.enum(NotificationKind, name="NotificationKind")


@strawberry.type
class NotificationSubject:
    """The subject template of one kind of email (Jinja2, e.g. ``{{ key_name }}``)."""

    kind: NotificationKindEnum  # type: ignore[valid-type]
    subject: str
    is_default: bool
    default_subject: str = strawberry.field(
        description="The subject used when the workspace sets none."
    )
    variables: list[str] = strawberry.field(
        description="The variables this kind's templates may use, e.g. key_name."
    )


@strawberry.type
class NotificationSettings:
    """A workspace's email settings."""

    subjects: list[NotificationSubject]
    workspace_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, settings: models.NotificationSettings) -> NotificationSettings:
        own = settings.subjects
        return cls(
            subjects=[
                NotificationSubject(
                    kind=kind,
                    subject=subject,
                    is_default=not own.get(kind.value),
                    default_subject=default_subject(kind),
                    variables=template_variables(kind),
                )
                for kind, subject in effective_subjects(settings).items()
            ],
            workspace_id=settings.workspace_id,
        )


@strawberry.input
class NotificationSubjectInput:
    """An empty ``subject`` restores the default."""

    kind: NotificationKindEnum  # type: ignore[valid-type]
    subject: str


@strawberry.input
class UpdateNotificationSettingsInput:
    workspace_id: relay.GlobalID
    subjects: list[NotificationSubjectInput]


@strawberry.type
class NotificationSettingsPayload:
    notification_settings: NotificationSettings | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
