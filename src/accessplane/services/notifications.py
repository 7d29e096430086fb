"""Notifications: putting mail in the outbox, and each workspace's subjects.

``enqueue`` only adds the rendered notification to the caller's session, so it commits (or
rolls back) with the event it reports; ``accessplane worker`` sends it later.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.auth.permissions import Permission
from accessplane.auth.principals import Principal
from accessplane.db import transaction
from accessplane.errors import UserErrorCode
from accessplane.models import Notification, NotificationKind, NotificationSettings
from accessplane.models.base import utcnow
from accessplane.notify.rendering import DEFAULT_SUBJECTS, SAMPLE_CONTEXT, render, subject_error
from accessplane.services.audit import AuditAction, record
from accessplane.services.validation import Checks


async def subjects_of(session: AsyncSession, workspace_id: uuid.UUID) -> dict[str, str]:
    """The workspace's own subject templates by kind (defaults are not included)."""
    settings = await session.get(NotificationSettings, workspace_id)
    return dict(settings.subjects) if settings is not None else {}


def enqueue(
    session: AsyncSession,
    *,
    workspace_id: uuid.UUID,
    kind: NotificationKind,
    recipient: str,
    context: Mapping[str, Any],
    subjects: Mapping[str, str] | None = None,
    now: datetime | None = None,
    notification_id: uuid.UUID | None = None,
) -> Notification:
    """Render a notification and add it to the session: it is sent only if the caller's
    transaction commits. ``subjects`` are the workspace's (see ``subjects_of``)."""
    mail = render(kind, context, (subjects or {}).get(kind.value))
    notification = Notification(
        id=notification_id or uuid.uuid4(),
        workspace_id=workspace_id,
        kind=kind.value,
        recipient=recipient,
        subject=mail.subject,
        body_text=mail.text,
        body_html=mail.html,
        next_attempt_at=now or utcnow(),
        created_at=now or utcnow(),
    )
    session.add(notification)
    return notification


def default_subject(kind: NotificationKind) -> str:
    """The subject template a kind of mail has when the workspace sets none."""
    return DEFAULT_SUBJECTS[kind]


def template_variables(kind: NotificationKind) -> list[str]:
    """The variables a kind's templates are rendered with, by name."""
    return sorted(SAMPLE_CONTEXT[kind])


def effective_subjects(settings: NotificationSettings | None) -> dict[NotificationKind, str]:
    """Every kind's subject template: the workspace's own, or the default."""
    own = settings.subjects if settings is not None else {}
    return {kind: own.get(kind.value) or DEFAULT_SUBJECTS[kind] for kind in NotificationKind}


async def get_notification_settings(
    *, session: AsyncSession, actor: Principal, workspace_id: uuid.UUID
) -> NotificationSettings:
    """The workspace's settings (unsaved defaults if it never changed them)."""
    actor.require(workspace_id, Permission.GET_WORKSPACE)
    settings = await session.get(NotificationSettings, workspace_id)
    return settings or NotificationSettings(workspace_id=workspace_id, subjects={})


async def update_notification_settings(
    *,
    session: AsyncSession,
    actor: Principal,
    workspace_id: uuid.UUID,
    subjects: Mapping[NotificationKind, str],
    now: datetime | None = None,
) -> NotificationSettings:
    """Set subject templates per kind; an empty subject restores the default."""
    actor.require(workspace_id, Permission.MANAGE_NOTIFICATIONS)
    checks = Checks()
    cleaned: dict[str, str] = {}
    for kind, template in subjects.items():
        text = template.strip()
        if text:
            error = subject_error(kind, text)
            if error is not None:
                checks.add("subjects", f"{kind.value}: {error}", UserErrorCode.INVALID)
                continue
        cleaned[kind.value] = text
    checks.raise_if_any()
    settings = await session.get(NotificationSettings, workspace_id)
    before = dict(settings.subjects) if settings is not None else {}
    async with transaction(session):
        if settings is None:
            settings = NotificationSettings(workspace_id=workspace_id, subjects={})
        merged = {**before, **cleaned}
        settings.subjects = {kind: text for kind, text in merged.items() if text}
        settings.updated_at = now or utcnow()
        session.add(settings)
        record(
            session,
            actor=actor,
            workspace_id=workspace_id,
            action=AuditAction.UPDATE_NOTIFICATION_SETTINGS,
            target_type="Workspace",
            target_id=workspace_id,
            before={"subjects": before},
            after={"subjects": settings.subjects},
        )
    return settings
