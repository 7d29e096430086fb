"""The audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from accessplane import models


@strawberry.type
class AuditEvent(relay.Node):
    """One recorded change. ``targetId`` is the global id of the changed object."""

    id: relay.NodeID[str]
    actor_type: str
    actor_id: str | None
    actor_name: str
    action: str
    target_type: str
    target_id: relay.GlobalID | None
    before: JSON | None
    after: JSON | None
    ip: str | None
    request_id: str | None
    at: datetime
    workspace_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, event: models.AuditEvent) -> AuditEvent:
        actor_type = {"MEMBER": "Member", "SERVICE": "Member", "API_ACCESS": "ApiAccess"}.get(
            event.actor_type
        )
        return cls(
            id=str(event.id),
            actor_type=event.actor_type,
            actor_id=(
                str(relay.GlobalID(actor_type, str(event.actor_id)))
                if actor_type and event.actor_id
                else None
            ),
            actor_name=event.actor_name,
            action=event.action,
            target_type=event.target_type,
            target_id=(
                relay.GlobalID(event.target_type, str(event.target_id)) if event.target_id else None
            ),
            before=cast("JSON", event.before),
            after=cast("JSON", event.after),
            ip=event.ip,
            request_id=event.request_id,
            at=event.at,
            workspace_id=event.workspace_id,
        )


@strawberry.input
class AuditEventFilter:
    """Narrow the log; ``since`` is inclusive, ``until`` exclusive."""

    actor_id: relay.GlobalID | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: relay.GlobalID | None = None
    since: datetime | None = None
    until: datetime | None = None
