"""Recording and reading the audit log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.permissions import Permission
from accessplane.auth.principals import Principal
from accessplane.errors import UserErrorCode
from accessplane.models import AuditEvent
from accessplane.services.pagination import Page, PageArgs, paginate
from accessplane.services.tenancy import member_id_in
from accessplane.services.validation import Checks


def record(
    session: AsyncSession,
    *,
    actor: Principal,
    workspace_id: uuid.UUID,
    action: str,
    target_type: str,
    target_id: uuid.UUID | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor_member_id: uuid.UUID | None = None,
) -> AuditEvent:
    """Add an audit event to the session: it commits, or rolls back, with the change itself.

    A person or service is recorded as their member in this workspace (``actor_member_id`` when
    the principal does not know it yet: the Owner of a workspace being created), a key as the
    key, so that ``node(actorId)`` finds the actor.
    """
    member_id = actor_member_id or member_id_in(actor, workspace_id)
    event = AuditEvent(
        workspace_id=workspace_id,
        actor_type=actor.kind.value,
        actor_id=actor.credential_id or member_id or actor.id,
        actor_name=actor.name,
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=before,
        after=after,
        ip=actor.ip,
        request_id=actor.request_id,
    )
    session.add(event)
    return event


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Narrow the log by who, what, on what, and when (``since`` inclusive, ``until`` not)."""

    actor_id: uuid.UUID | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


async def list_events(
    session: AsyncSession,
    *,
    actor: Principal,
    workspace_id: uuid.UUID,
    filter: AuditFilter,
    args: PageArgs,
) -> Page[AuditEvent]:
    """The workspace's events, newest first."""
    actor.require(workspace_id, Permission.GET_AUDIT_LOG)
    checks = Checks()
    for name, value in (("since", filter.since), ("until", filter.until)):
        # A time without a zone names no instant; stored times are UTC.
        if value is not None and value.tzinfo is None:
            checks.add(
                name,
                f"{name} needs a time zone, e.g. 2030-01-31T00:00:00Z.",
                UserErrorCode.INVALID,
            )
    checks.raise_if_any()
    query = select(AuditEvent).where(col(AuditEvent.workspace_id) == workspace_id)
    if filter.actor_id is not None:
        query = query.where(col(AuditEvent.actor_id) == filter.actor_id)
    if filter.action:
        query = query.where(col(AuditEvent.action) == filter.action)
    if filter.target_type:
        query = query.where(col(AuditEvent.target_type) == filter.target_type)
    if filter.target_id is not None:
        query = query.where(col(AuditEvent.target_id) == filter.target_id)
    if filter.since is not None:
        query = query.where(col(AuditEvent.at) >= filter.since)
    if filter.until is not None:
        query = query.where(col(AuditEvent.at) < filter.until)
    return await paginate(
        session, query, sort=[col(AuditEvent.at), col(AuditEvent.id)], args=args, descending=True
    )
