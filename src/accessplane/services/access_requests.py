"""Access requests: consumers ask for products and a plan for one app; API owners decide.

Each request gets exactly one decision. Deciding is a conditional UPDATE (``WHERE status =
'PENDING'``) inside the transaction that provisions the app: of concurrent approvals,
rejections and cancellations exactly one matches the row, and the others change nothing and get
a CONFLICT userError (PostgreSQL re-checks the condition after waiting for the winner's row
lock; SQLite runs one writer at a time).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, false, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.permissions import Permission
from accessplane.auth.principals import Principal, PrincipalKind
from accessplane.db import transaction
from accessplane.errors import Forbidden, InputError, NotFound, UserErrorCode
from accessplane.models import (
    AccessProfile,
    AccessRequest,
    AccessRequestProduct,
    AccessRequestStatus,
    ApiProduct,
    AuthMethod,
    Client,
    Member,
    MemberKind,
    NotificationKind,
    Role,
    User,
    Workspace,
)
from accessplane.models.base import utcnow
from accessplane.notify.links import ConsoleLinks
from accessplane.services import access_profiles
from accessplane.services.access_profiles import TokenSettings
from accessplane.services.audit import record
from accessplane.services.clients import is_client_member
from accessplane.services.notifications import enqueue, subjects_of
from accessplane.services.pagination import Page, PageArgs, paginate
from accessplane.services.tenancy import load_in_workspace, member_id_in
from accessplane.services.validation import Checks
from accessplane.settings import get_settings


@dataclass(frozen=True, slots=True)
class NewApp:
    """An app to create together with the request; ``auth_method`` None takes the products'."""

    client_id: uuid.UUID
    name: str
    auth_method: AuthMethod | None = None
    allowed_ips: Sequence[str] = ()
    token: TokenSettings = field(default_factory=TokenSettings)


@dataclass(frozen=True, slots=True)
class SubmittedRequest:
    """The request, and the token of an ``AUTH_TOKEN`` app created with it (shown once)."""

    access_request: AccessRequest
    token: str | None


def visible_request_clause(actor: Principal, workspace_id: uuid.UUID) -> ColumnElement[bool]:
    """SQL condition on ``AccessRequest``: all with ``getAccessRequest``, else one's own."""
    if actor.holds(workspace_id, Permission.GET_ACCESS_REQUEST):
        return true()
    member_id = actor.membership(workspace_id).member_id
    if member_id is None or not actor.holds(workspace_id, Permission.REQUEST_ACCESS):
        return false()
    return col(AccessRequest.requester_member_id) == member_id


def _is_requester(actor: Principal, request: AccessRequest) -> bool:
    member_id = member_id_in(actor, request.workspace_id)
    return member_id is not None and member_id == request.requester_member_id


async def get_visible_request(
    session: AsyncSession, actor: Principal, request_id: uuid.UUID
) -> AccessRequest:
    """A request the principal may see: NOT_FOUND for another workspace's or someone else's
    (for consumers), FORBIDDEN for a member with neither permission."""
    request = await load_in_workspace(
        session, actor, AccessRequest, request_id, label="Access request"
    )
    if actor.holds(request.workspace_id, Permission.GET_ACCESS_REQUEST):
        return request
    if not actor.holds(request.workspace_id, Permission.REQUEST_ACCESS):
        actor.require(request.workspace_id, Permission.GET_ACCESS_REQUEST)
    if not _is_requester(actor, request):
        raise NotFound("Access request not found.")
    return request


async def _requester_email(session: AsyncSession, actor: Principal) -> str | None:
    if actor.kind is PrincipalKind.MEMBER and actor.id is not None:
        return await session.scalar(select(col(User.email)).where(col(User.id) == actor.id))
    return None


async def _client_for_request(
    session: AsyncSession, actor: Principal, client_id: uuid.UUID, label: str
) -> Client:
    """The client an app belongs to: the requester must be one of its members (or manage
    clients); any other is NOT_FOUND."""
    client = await load_in_workspace(session, actor, Client, client_id, label=label)
    actor.require(client.workspace_id, Permission.REQUEST_ACCESS)
    if not actor.holds(client.workspace_id, Permission.MANAGE_CLIENTS) and not (
        await is_client_member(session, actor, client)
    ):
        raise NotFound(f"{label} not found.")
    return client


def _summary(request: AccessRequest, product_ids: Sequence[uuid.UUID]) -> dict[str, Any]:
    return {
        "status": request.status.value,
        "accessProfileId": str(request.access_profile_id),
        "createdApp": request.created_app,
        "productIds": sorted(str(p) for p in product_ids),
        "planId": str(request.plan_id) if request.plan_id else None,
        "plan": request.plan_name,
    }


async def _deciders(session: AsyncSession, workspace_id: uuid.UUID) -> list[str]:
    """Emails of the people who may decide requests in the workspace."""
    rows = (
        await session.execute(
            select(col(User.email), col(Role.permissions))
            .join(Member, col(Member.user_id) == col(User.id))
            .join(Role, col(Role.id) == col(Member.role_id))
            .where(col(Member.workspace_id) == workspace_id, col(Member.kind) == MemberKind.HUMAN)
            .order_by(col(User.email))
        )
    ).all()
    wanted = Permission.DECIDE_ACCESS_REQUEST.value
    return [
        email for email, permissions in rows if any(p.get("name") == wanted for p in permissions)
    ]


async def _mail_context(
    session: AsyncSession, request: AccessRequest, products: Sequence[str]
) -> dict[str, Any]:
    workspace = await session.get(Workspace, request.workspace_id)
    profile = await session.get(AccessProfile, request.access_profile_id)
    client = await session.get(Client, profile.client_id) if profile else None
    return {
        "workspace_name": workspace.name if workspace else "",
        "app_name": profile.name if profile else "",
        "client_name": client.name if client else "",
        "requester": request.requester_email or request.requester_name,
        "products": list(products),
        "plan_name": request.plan_name,
        "reason": request.reason,
    }


async def _product_names(session: AsyncSession, request_id: uuid.UUID) -> list[str]:
    return list(
        (
            await session.scalars(
                select(col(ApiProduct.name))
                .join(
                    AccessRequestProduct,
                    col(AccessRequestProduct.product_id) == col(ApiProduct.id),
                )
                .where(col(AccessRequestProduct.access_request_id) == request_id)
                .order_by(col(ApiProduct.name))
            )
        ).all()
    )


async def submit_access_request(
    *,
    session: AsyncSession,
    actor: Principal,
    secret: bytes,
    product_ids: Sequence[uuid.UUID],
    plan_id: uuid.UUID | None,
    access_profile_id: uuid.UUID | None = None,
    new_app: NewApp | None = None,
    now: datetime | None = None,
    links: ConsoleLinks | None = None,
) -> SubmittedRequest:
    """Request products with one plan for one app (``access_profile_id``), or for a new app
    created with the request (``new_app``; its token, if any, is returned this once). All
    products must share one authentication method, the app's; otherwise nothing is written.
    A plan with ``autoApprove`` approves the request at once (still recorded); otherwise the
    people who may decide are mailed, with a link to the request in the console (``links``;
    by default from the process's settings)."""
    now = now or utcnow()
    if (access_profile_id is None) == (new_app is None):
        raise InputError.one(
            "accessProfileId",
            "Name either an existing app (accessProfileId) or a new one (newAccessProfile).",
            UserErrorCode.REQUIRED if access_profile_id is None else UserErrorCode.INVALID,
        )
    profile: AccessProfile | None = None
    if access_profile_id is not None:
        profile = await load_in_workspace(
            session, actor, AccessProfile, access_profile_id, label="Access profile"
        )
        client = await _client_for_request(session, actor, profile.client_id, "Access profile")
    else:
        assert new_app is not None
        client = await _client_for_request(session, actor, new_app.client_id, "Client")
    workspace_id = client.workspace_id
    checks = Checks()
    if not client.active:
        checks.add(
            "accessProfileId" if profile else "newAccessProfile.clientId",
            "The client is deactivated: its apps cannot request access.",
            UserErrorCode.INVALID,
        )
    if not product_ids:
        checks.add("productIds", "Choose at least one API product.", UserErrorCode.REQUIRED)
    method = profile.auth_method if profile else (new_app.auth_method if new_app else None)
    products = await access_profiles.check_products(
        checks, session, workspace_id, product_ids, method, published_only=True
    )
    if plan_id is None:
        checks.add("planId", "Choose a plan.", UserErrorCode.REQUIRED)
    plan = await access_profiles.check_plan(checks, session, workspace_id, plan_id)
    new_profile = None
    if new_app is not None:
        app_method = new_app.auth_method or (products[0].auth_method if products else None)
        if app_method is None and not any(e.field == "productIds" for e in checks.errors):
            checks.add(
                "newAccessProfile.authMethod",
                "Give the new app's authMethod (or products to take it from).",
                UserErrorCode.REQUIRED,
            )
        elif app_method is not None:
            new_profile = await access_profiles.check_new_profile(
                checks,
                session,
                client,
                name=new_app.name,
                auth_method=app_method,
                allowed_ips=new_app.allowed_ips,
                token=new_app.token,
                field_prefix="newAccessProfile.",
            )
    checks.raise_if_any()
    assert plan is not None
    membership = actor.membership(workspace_id)
    requester_email = await _requester_email(session, actor)
    subjects = await subjects_of(session, workspace_id)
    workspace = await session.get(Workspace, workspace_id)
    product_list = [p.id for p in products]
    names = sorted(p.name for p in products)
    issued = None
    try:
        async with transaction(session):
            if new_profile is not None:
                profile, issued = access_profiles.add_profile(session, new_profile, secret)
                await session.flush()
                access_profiles.record_profile(
                    session,
                    actor,
                    profile,
                    "createAccessProfile",
                    after=access_profiles.summary(profile, []),
                )
            assert profile is not None
            request = AccessRequest(
                workspace_id=workspace_id,
                access_profile_id=profile.id,
                created_app=new_profile is not None,
                requester_member_id=membership.member_id,
                requester_name=actor.name,
                requester_email=requester_email,
                plan_id=plan.id,
                plan_name=plan.name,
                created_at=now,
            )
            session.add(request)
            await session.flush()
            for product_id in product_list:
                session.add(
                    AccessRequestProduct(
                        access_request_id=request.id,
                        product_id=product_id,
                        workspace_id=workspace_id,
                    )
                )
            record(
                session,
                actor=actor,
                workspace_id=workspace_id,
                action="submitAccessRequest",
                target_type="AccessRequest",
                target_id=request.id,
                after=_summary(request, product_list),
            )
            context = {
                "workspace_name": workspace.name if workspace else "",
                "app_name": profile.name,
                "client_name": client.name,
                "requester": requester_email or actor.name,
                "products": names,
                "plan_name": plan.name,
                "reason": "",
            }
            if plan.auto_approve:
                await _approve(
                    session,
                    request,
                    profile,
                    product_list,
                    decided_by_id=None,
                    decided_by_name=f"auto-approve (plan {plan.name})",
                    reason="",
                    now=now,
                )
                record(
                    session,
                    actor=actor,
                    workspace_id=workspace_id,
                    action="approveAccessRequest",
                    target_type="AccessRequest",
                    target_id=request.id,
                    before={"status": AccessRequestStatus.PENDING.value},
                    after={**_summary(request, product_list), "autoApproved": True},
                )
                if requester_email:
                    enqueue(
                        session,
                        workspace_id=workspace_id,
                        kind=NotificationKind.APPROVE,
                        recipient=requester_email,
                        context=context,
                        subjects=subjects,
                        now=now,
                    )
            else:
                console = links or ConsoleLinks.from_settings(get_settings())
                context["console_url"] = console.access_request(
                    workspace_id=workspace_id, access_request_id=request.id
                )
                for recipient in await _deciders(session, workspace_id):
                    if recipient != requester_email:
                        enqueue(
                            session,
                            workspace_id=workspace_id,
                            kind=NotificationKind.ACCESS_REQUESTED,
                            recipient=recipient,
                            context=context,
                            subjects=subjects,
                            now=now,
                        )
    except IntegrityError:  # a concurrent request created an app of the same name
        if new_app is None:
            raise
        raise InputError.one(
            "newAccessProfile.name",
            f"The client has an app named '{new_app.name}' already.",
            UserErrorCode.DUPLICATE,
        ) from None
    await session.refresh(request)
    return SubmittedRequest(request, issued.plaintext if issued else None)


async def _claim(
    session: AsyncSession,
    request: AccessRequest,
    status: AccessRequestStatus,
    *,
    decided_by_id: uuid.UUID | None,
    decided_by_name: str,
    reason: str,
    now: datetime,
) -> None:
    """Move the request out of PENDING, only if it is still PENDING: of concurrent decisions
    exactly one matches the row. The loser's transaction rolls back with a CONFLICT."""
    changed = await session.execute(
        update(AccessRequest)
        .where(
            col(AccessRequest.id) == request.id,
            col(AccessRequest.status) == AccessRequestStatus.PENDING,
        )
        .values(
            status=status,
            decided_by_id=decided_by_id,
            decided_by_name=decided_by_name,
            decided_at=now,
            reason=reason,
        )
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        current = await session.scalar(
            select(col(AccessRequest.status)).where(col(AccessRequest.id) == request.id)
        )
        raise InputError.one(
            "id",
            f"The request was {str(current).lower()} by someone else in the meantime; "
            "nothing was changed.",
            UserErrorCode.CONFLICT,
        )


async def _approve(
    session: AsyncSession,
    request: AccessRequest,
    profile: AccessProfile,
    product_ids: Sequence[uuid.UUID],
    *,
    decided_by_id: uuid.UUID | None,
    decided_by_name: str,
    reason: str,
    now: datetime,
) -> None:
    """Decide APPROVED and provision the app: it gains the products and moves to the plan."""
    await _claim(
        session,
        request,
        AccessRequestStatus.APPROVED,
        decided_by_id=decided_by_id,
        decided_by_name=decided_by_name,
        reason=reason,
        now=now,
    )
    await access_profiles.grant_products(session, profile, product_ids)
    await access_profiles.touch(session, profile.id, plan_id=request.plan_id)


async def _pending_subject(
    session: AsyncSession, actor: Principal, request_id: uuid.UUID
) -> AccessRequest:
    """The request to decide: visible to the actor and decided by holders of
    ``decideAccessRequest``; one already decided is a CONFLICT userError."""
    request = await get_visible_request(session, actor, request_id)
    actor.require(request.workspace_id, Permission.DECIDE_ACCESS_REQUEST)
    return request


def _already(request: AccessRequest) -> InputError:
    return InputError.one(
        "id",
        f"The request is {request.status.value.lower()} already; only pending requests can be "
        "decided.",
        UserErrorCode.CONFLICT,
    )


async def _request_product_ids(session: AsyncSession, request_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        (
            await session.scalars(
                select(col(AccessRequestProduct.product_id)).where(
                    col(AccessRequestProduct.access_request_id) == request_id
                )
            )
        ).all()
    )


async def _audit_and_mail(
    session: AsyncSession,
    actor: Principal,
    request: AccessRequest,
    *,
    action: str,
    after: dict[str, Any],
    kind: NotificationKind,
    subjects: dict[str, str],
    now: datetime,
) -> None:
    """A decision's audit event and, when the requester has an address, its mail."""
    record(
        session,
        actor=actor,
        workspace_id=request.workspace_id,
        action=action,
        target_type="AccessRequest",
        target_id=request.id,
        before={"status": AccessRequestStatus.PENDING.value},
        after=after,
    )
    if request.requester_email:
        enqueue(
            session,
            workspace_id=request.workspace_id,
            kind=kind,
            recipient=request.requester_email,
            context=await _mail_context(
                session, request, await _product_names(session, request.id)
            ),
            subjects=subjects,
            now=now,
        )


async def approve_access_request(
    *,
    session: AsyncSession,
    actor: Principal,
    access_request_id: uuid.UUID,
    reason: str = "",
    now: datetime | None = None,
) -> AccessRequest:
    """Approve a pending request: the app gets its products and plan, the requester a mail."""
    now = now or utcnow()
    request = await _pending_subject(session, actor, access_request_id)
    checks = Checks()
    note = checks.text("reason", reason, max_length=1000, required=False)
    if request.plan_id is None:
        checks.add(
            "id", "The request's plan was deleted; reject it instead.", UserErrorCode.INVALID
        )
    checks.raise_if_any()
    if request.status is not AccessRequestStatus.PENDING:
        raise _already(request)
    profile = await session.get(AccessProfile, request.access_profile_id)
    assert profile is not None  # requests are deleted with their app
    product_ids = await _request_product_ids(session, request.id)
    subjects = await subjects_of(session, request.workspace_id)
    async with transaction(session):
        await _approve(
            session,
            request,
            profile,
            product_ids,
            decided_by_id=actor.credential_id or actor.membership(request.workspace_id).member_id,
            decided_by_name=actor.name,
            reason=note,
            now=now,
        )
        request.status, request.reason = AccessRequestStatus.APPROVED, note
        await _audit_and_mail(
            session,
            actor,
            request,
            action="approveAccessRequest",
            after={**_summary(request, product_ids), "reason": note},
            kind=NotificationKind.APPROVE,
            subjects=subjects,
            now=now,
        )
    await session.refresh(request)
    return request


async def reject_access_request(
    *,
    session: AsyncSession,
    actor: Principal,
    access_request_id: uuid.UUID,
    reason: str,
    now: datetime | None = None,
) -> AccessRequest:
    """Reject a pending request with a reason, which the requester is mailed."""
    now = now or utcnow()
    request = await _pending_subject(session, actor, access_request_id)
    checks = Checks()
    text = checks.text("reason", reason, max_length=1000)
    checks.raise_if_any()
    if request.status is not AccessRequestStatus.PENDING:
        raise _already(request)
    subjects = await subjects_of(session, request.workspace_id)
    async with transaction(session):
        await _claim(
            session,
            request,
            AccessRequestStatus.REJECTED,
            decided_by_id=actor.credential_id or actor.membership(request.workspace_id).member_id,
            decided_by_name=actor.name,
            reason=text,
            now=now,
        )
        request.status, request.reason = AccessRequestStatus.REJECTED, text
        await _audit_and_mail(
            session,
            actor,
            request,
            action="rejectAccessRequest",
            after={"status": AccessRequestStatus.REJECTED.value, "reason": text},
            kind=NotificationKind.REJECT,
            subjects=subjects,
            now=now,
        )
    await session.refresh(request)
    return request


async def cancel_access_request(
    *,
    session: AsyncSession,
    actor: Principal,
    access_request_id: uuid.UUID,
    now: datetime | None = None,
) -> AccessRequest:
    """Withdraw one's own pending request (an app created with it stays, without access)."""
    now = now or utcnow()
    request = await get_visible_request(session, actor, access_request_id)
    actor.require(request.workspace_id, Permission.REQUEST_ACCESS)
    if not _is_requester(actor, request):
        raise Forbidden("Only the requester may cancel a request.", permission="requester")
    if request.status is not AccessRequestStatus.PENDING:
        raise _already(request)
    async with transaction(session):
        await _claim(
            session,
            request,
            AccessRequestStatus.CANCELLED,
            decided_by_id=request.requester_member_id,
            decided_by_name=actor.name,
            reason="",
            now=now,
        )
        request.status = AccessRequestStatus.CANCELLED
        record(
            session,
            actor=actor,
            workspace_id=request.workspace_id,
            action="cancelAccessRequest",
            target_type="AccessRequest",
            target_id=request.id,
            before={"status": AccessRequestStatus.PENDING.value},
            after={"status": AccessRequestStatus.CANCELLED.value},
        )
    await session.refresh(request)
    return request


@dataclass(frozen=True, slots=True)
class AccessRequestFilter:
    """``status``; ``client_id``: requests for that client's apps; ``product_id``: requests
    naming that product."""

    status: AccessRequestStatus | None = None
    client_id: uuid.UUID | None = None
    product_id: uuid.UUID | None = None


async def list_access_requests(
    *,
    session: AsyncSession,
    actor: Principal,
    workspace_id: uuid.UUID,
    filter: AccessRequestFilter,
    args: PageArgs,
) -> Page[AccessRequest]:
    """The requests the principal may see, newest first."""
    if not actor.holds(workspace_id, Permission.REQUEST_ACCESS):
        actor.require(workspace_id, Permission.GET_ACCESS_REQUEST)
    query = select(AccessRequest).where(
        col(AccessRequest.workspace_id) == workspace_id,
        visible_request_clause(actor, workspace_id),
    )
    if filter.status is not None:
        query = query.where(col(AccessRequest.status) == filter.status)
    if filter.client_id is not None:
        query = query.where(
            col(AccessRequest.access_profile_id).in_(
                select(col(AccessProfile.id)).where(
                    col(AccessProfile.client_id) == filter.client_id
                )
            )
        )
    if filter.product_id is not None:
        query = query.where(
            exists().where(
                col(AccessRequestProduct.access_request_id) == col(AccessRequest.id),
                col(AccessRequestProduct.product_id) == filter.product_id,
            )
        )
    return await paginate(
        session,
        query,
        sort=[col(AccessRequest.created_at), col(AccessRequest.id)],
        args=args,
        descending=True,
    )
