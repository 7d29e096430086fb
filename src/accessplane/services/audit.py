"""Recording and reading the audit log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.permissions import Permission
from accessplane.auth.principals import Principal
from accessplane.errors import UserErrorCode
from accessplane.models import AuditEvent
from accessplane.services import webhooks
from accessplane.services.pagination import Page, PageArgs, paginate
from accessplane.services.tenancy import member_id_in
from accessplane.services.validation import Checks


class AuditAction(StrEnum):
    """What an audit event records, stored as the name of the mutation that did it (the
    workspace's creation and its first Owner have no mutation of their own)."""

    ADD_ACCESS_PROFILE_CERTIFICATE = "addAccessProfileCertificate"
    ADD_GROUP_MEMBERS = "addGroupMembers"
    ADD_MEMBER = "addMember"
    APPROVE_ACCESS_REQUEST = "approveAccessRequest"
    BOOTSTRAP_OWNER = "bootstrapOwner"
    CANCEL_ACCESS_REQUEST = "cancelAccessRequest"
    CREATE_ACCESS_PROFILE = "createAccessProfile"
    CREATE_ALERT_RULE = "createAlertRule"
    CREATE_API = "createApi"
    CREATE_API_ACCESS = "createApiAccess"
    CREATE_API_OPERATION = "createApiOperation"
    CREATE_API_PRODUCT = "createApiProduct"
    CREATE_CLIENT = "createClient"
    CREATE_GROUP = "createGroup"
    CREATE_PLAN = "createPlan"
    CREATE_ROLE = "createRole"
    CREATE_WEBHOOK_ENDPOINT = "createWebhookEndpoint"
    CREATE_WORKSPACE = "createWorkspace"
    DELETE_ACCESS_PROFILE = "deleteAccessProfile"
    DELETE_ALERT_RULE = "deleteAlertRule"
    DELETE_API = "deleteApi"
    DELETE_API_ACCESSES = "deleteApiAccesses"
    DELETE_API_OPERATION = "deleteApiOperation"
    DELETE_API_PRODUCT = "deleteApiProduct"
    DELETE_CLIENT = "deleteClient"
    DELETE_GROUP = "deleteGroup"
    DELETE_PLAN = "deletePlan"
    DELETE_ROLE = "deleteRole"
    DELETE_WEBHOOK_ENDPOINT = "deleteWebhookEndpoint"
    GRANT_API_ACCESS = "grantApiAccess"
    IMPORT_OPEN_API = "importOpenApi"
    LINK_SERVICE_ACCOUNT = "linkServiceAccount"
    REDELIVER_WEBHOOK = "redeliverWebhook"
    REFRESH_ACCESS_PROFILE_TOKEN = "refreshAccessProfileToken"
    REGENERATE_API_ACCESS = "regenerateApiAccess"
    REJECT_ACCESS_REQUEST = "rejectAccessRequest"
    REMOVE_ACCESS_PROFILE_CERTIFICATE = "removeAccessProfileCertificate"
    REMOVE_GROUP_MEMBERS = "removeGroupMembers"
    REMOVE_MEMBER = "removeMember"
    RESUME_ACCESS_PROFILE = "resumeAccessProfile"
    REVOKE_ALL_API_ACCESS = "revokeAllApiAccess"
    REVOKE_API_ACCESS = "revokeApiAccess"
    ROTATE_WEBHOOK_ENDPOINT_SECRET = "rotateWebhookEndpointSecret"
    SET_CLIENT_ACTIVE = "setClientActive"
    SET_GROUP_CLAIM_MAPPING = "setGroupClaimMapping"
    SUBMIT_ACCESS_REQUEST = "submitAccessRequest"
    SUSPEND_ACCESS_PROFILE = "suspendAccessProfile"  # an alert rule's automatic response
    SYNC_GROUP_MEMBERS = "syncGroupMembers"
    UPDATE_ACCESS_PROFILE = "updateAccessProfile"
    UPDATE_ALERT_RULE = "updateAlertRule"
    UPDATE_API = "updateApi"
    UPDATE_API_ACCESS = "updateApiAccess"
    UPDATE_API_OPERATION = "updateApiOperation"
    UPDATE_API_PRODUCT = "updateApiProduct"
    UPDATE_CLIENT = "updateClient"
    UPDATE_GROUP = "updateGroup"
    UPDATE_MEMBER_ROLE = "updateMemberRole"
    UPDATE_NOTIFICATION_SETTINGS = "updateNotificationSettings"
    UPDATE_PLAN = "updatePlan"
    UPDATE_ROLE = "updateRole"
    UPDATE_WEBHOOK_ENDPOINT = "updateWebhookEndpoint"


def record(
    session: AsyncSession,
    *,
    actor: Principal,
    workspace_id: uuid.UUID,
    action: AuditAction,
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
    # Subscribed webhook endpoints get it when (and only if) the transaction commits.
    webhooks.queue_audit_event(session, event)
    return event


class WorkspaceRow(Protocol):
    """A row of a workspace: what an audit event names as its target."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def workspace_id(self) -> uuid.UUID: ...


def record_change(
    session: AsyncSession,
    actor: Principal,
    target: WorkspaceRow,
    action: AuditAction,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """``record`` a change of one row, named by its model (``ApiProduct``) and id."""
    return record(
        session,
        actor=actor,
        workspace_id=target.workspace_id,
        action=action,
        target_type=type(target).__name__,
        target_id=target.id,
        before=before,
        after=after,
    )


@dataclass(frozen=True, slots=True)
class AuditEventFilter:
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
    filter: AuditEventFilter,
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
