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
from accessplane.auth.tokens import IssuedToken
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
    Plan,
    Role,
    User,
    Workspace,
)
from accessplane.models.base import utcnow
from accessplane.notify.links import ConsoleLinks
from accessplane.services import access_profiles
from accessplane.services.access_profiles import TokenSettings
from accessplane.services.audit import AuditAction, record, record_change
from accessplane.services.clients import is_client_member
from accessplane.services.notifications import enqueue, subjects_of
from accessplane.services.pagination import Page, PageArgs, paginate
from accessplane.services.tenancy import load_in_workspace, member_id_in
from accessplane.services.validation import Checks
from accessplane.settings import get_settings


@dataclass(frozen=True, slots=True)
class NewAccessProfile:
    """An access profile (app) to create together with the request; ``auth_method`` None
    takes the products'."""

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


@dataclass(frozen=True, slots=True)
class _Submission:
    """A checked submission: the app it is for (existing, or new and checked), its client,
    products and plan."""

    client: Client
    access_profile: AccessProfile | None
    new_access_profile: access_profiles.NewProfile | None
    products: list[ApiProduct]
    plan: Plan

    @property
    def product_ids(self) -> list[uuid.UUID]:
        return [p.id for p in self.products]

    @property
    def access_profile_name(self) -> str:
        existing, new = self.access_profile, self.new_access_profile
        return existing.name if existing is not None else new.name if new is not None else ""


@dataclass(frozen=True, slots=True)
class _Mail:
    """What the submission's mails need, read before its transaction."""

    requester_email: str | None
    context: dict[str, Any]
    subjects: dict[str, str]


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
        "createdApp": request.created_access_profile,
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
    new_access_profile: NewAccessProfile | None = None,
    now: datetime | None = None,
    links: ConsoleLinks | None = None,
) -> SubmittedRequest:
    """Request products with one plan for one app (``access_profile_id``), or for a new app
    created with the request (``new_access_profile``; its token, if any, is returned this
    once). All products must share one authentication method, the app's; otherwise nothing is
    written. A plan with ``autoApprove`` approves the request at once (still recorded);
    otherwise the people who may decide are mailed, with a link to the request in the console
    (``links``; by default from the process's settings)."""
    now = now or utcnow()
    submission = await _check_submission(
        session,
        actor,
        product_ids=product_ids,
        plan_id=plan_id,
        access_profile_id=access_profile_id,
        new_access_profile=new_access_profile,
    )
    mail = await _submission_mail(session, actor, submission)
    try:
        async with transaction(session):
            profile, issued = await _access_profile_to_request_for(
                session, actor, submission, secret
            )
            request = await _add_request(session, actor, submission, profile, mail, now)
            if submission.plan.auto_approve:
                await _auto_approve(session, actor, request, profile, submission, mail, now)
            else:
                console = links or ConsoleLinks.from_settings(get_settings())
                await _ask_deciders(session, request, mail, console, now)
    except IntegrityError:  # a concurrent request created an app of the same name
        if new_access_profile is None:
            raise
        raise InputError.one(
            "new_access_profile.name",
            f"The client has an app named '{new_access_profile.name}' already.",
            UserErrorCode.DUPLICATE,
        ) from None
    await session.refresh(request)
    return SubmittedRequest(request, issued.plaintext if issued else None)


async def _subject_of_submission(
    session: AsyncSession,
    actor: Principal,
    access_profile_id: uuid.UUID | None,
    new_access_profile: NewAccessProfile | None,
) -> tuple[AccessProfile | None, Client]:
    """The existing app requested for (None for a new one) and its client, which the
    requester must belong to."""
    if (access_profile_id is None) == (new_access_profile is None):
        raise InputError.one(
            "access_profile_id",
            "Name either an existing app (accessProfileId) or a new one (newAccessProfile).",
            UserErrorCode.REQUIRED if access_profile_id is None else UserErrorCode.INVALID,
        )
    if access_profile_id is not None:
        profile = await load_in_workspace(
            session, actor, AccessProfile, access_profile_id, label="Access profile"
        )
        client = await _client_for_request(session, actor, profile.client_id, "Access profile")
        return profile, client
    assert new_access_profile is not None
    return None, await _client_for_request(session, actor, new_access_profile.client_id, "Client")


async def _check_submission(
    session: AsyncSession,
    actor: Principal,
    *,
    product_ids: Sequence[uuid.UUID],
    plan_id: uuid.UUID | None,
    access_profile_id: uuid.UUID | None,
    new_access_profile: NewAccessProfile | None,
) -> _Submission:
    """Check every field of a submission, raising all problems at once."""
    profile, client = await _subject_of_submission(
        session, actor, access_profile_id, new_access_profile
    )
    workspace_id = client.workspace_id
    checks = Checks()
    if not client.active:
        checks.add(
            "access_profile_id" if profile else "new_access_profile.client_id",
            "The client is deactivated: its apps cannot request access.",
            UserErrorCode.INVALID,
        )
    if not product_ids:
        checks.add("product_ids", "Choose at least one API product.", UserErrorCode.REQUIRED)
    if profile is not None:
        method: AuthMethod | None = profile.auth_method
    else:
        method = new_access_profile.auth_method if new_access_profile else None
    products = await access_profiles.check_products(
        checks, session, workspace_id, product_ids, method, published_only=True
    )
    if plan_id is None:
        checks.add("plan_id", "Choose a plan.", UserErrorCode.REQUIRED)
    plan = await access_profiles.check_plan(checks, session, workspace_id, plan_id)
    new_profile = None
    if new_access_profile is not None:
        new_profile = await _check_new_access_profile(
            checks, session, client, new_access_profile, products
        )
    checks.raise_if_any()
    assert plan is not None
    return _Submission(client, profile, new_profile, products, plan)


async def _check_new_access_profile(
    checks: Checks,
    session: AsyncSession,
    client: Client,
    new: NewAccessProfile,
    products: Sequence[ApiProduct],
) -> access_profiles.NewProfile | None:
    """The app to create with the request; without a method of its own it takes the
    products' (and without products there is nothing to check it against)."""
    method = new.auth_method or (products[0].auth_method if products else None)
    if method is None:
        if not any(e.field == "product_ids" for e in checks.errors):
            checks.add(
                "new_access_profile.auth_method",
                "Give the new app's authMethod (or products to take it from).",
                UserErrorCode.REQUIRED,
            )
        return None
    return await access_profiles.check_new_profile(
        checks,
        session,
        client,
        name=new.name,
        auth_method=method,
        allowed_ips=new.allowed_ips,
        token=new.token,
        field_prefix="new_access_profile.",
    )


async def _submission_mail(
    session: AsyncSession, actor: Principal, submission: _Submission
) -> _Mail:
    requester_email = await _requester_email(session, actor)
    workspace_id = submission.client.workspace_id
    workspace = await session.get(Workspace, workspace_id)
    context = {
        "workspace_name": workspace.name if workspace else "",
        "app_name": submission.access_profile_name,
        "client_name": submission.client.name,
        "requester": requester_email or actor.name,
        "products": sorted(p.name for p in submission.products),
        "plan_name": submission.plan.name,
        "reason": "",
    }
    return _Mail(requester_email, context, await subjects_of(session, workspace_id))


async def _access_profile_to_request_for(
    session: AsyncSession, actor: Principal, submission: _Submission, secret: bytes
) -> tuple[AccessProfile, IssuedToken | None]:
    """The existing app, or the new one added (with its token, for ``AUTH_TOKEN``)."""
    if submission.new_access_profile is None:
        assert submission.access_profile is not None
        return submission.access_profile, None
    profile, issued = access_profiles.add_profile(session, submission.new_access_profile, secret)
    await session.flush()
    record_change(
        session,
        actor,
        profile,
        AuditAction.CREATE_ACCESS_PROFILE,
        after=access_profiles.summary(profile, []),
    )
    return profile, issued


async def _add_request(
    session: AsyncSession,
    actor: Principal,
    submission: _Submission,
    profile: AccessProfile,
    mail: _Mail,
    now: datetime,
) -> AccessRequest:
    """Add the pending request with its products, and its audit event."""
    workspace_id = submission.client.workspace_id
    request = AccessRequest(
        workspace_id=workspace_id,
        access_profile_id=profile.id,
        created_access_profile=submission.new_access_profile is not None,
        requester_member_id=actor.membership(workspace_id).member_id,
        requester_name=actor.name,
        requester_email=mail.requester_email,
        plan_id=submission.plan.id,
        plan_name=submission.plan.name,
        created_at=now,
    )
    session.add(request)
    await session.flush()
    for product_id in submission.product_ids:
        session.add(
            AccessRequestProduct(
                access_request_id=request.id, product_id=product_id, workspace_id=workspace_id
            )
        )
    record(
        session,
        actor=actor,
        workspace_id=workspace_id,
        action=AuditAction.SUBMIT_ACCESS_REQUEST,
        target_type="AccessRequest",
        target_id=request.id,
        after=_summary(request, submission.product_ids),
    )
    return request


async def _auto_approve(
    session: AsyncSession,
    actor: Principal,
    request: AccessRequest,
    profile: AccessProfile,
    submission: _Submission,
    mail: _Mail,
    now: datetime,
) -> None:
    """Approve at once, as the plan says: recorded like a decision, and the requester mailed."""
    product_ids = submission.product_ids
    await _approve(
        session,
        request,
        profile,
        product_ids,
        decided_by_actor_id=None,
        decided_by_name=f"auto-approve (plan {submission.plan.name})",
        reason="",
        now=now,
    )
    record(
        session,
        actor=actor,
        workspace_id=request.workspace_id,
        action=AuditAction.APPROVE_ACCESS_REQUEST,
        target_type="AccessRequest",
        target_id=request.id,
        before={"status": AccessRequestStatus.PENDING.value},
        after={**_summary(request, product_ids), "autoApproved": True},
    )
    if mail.requester_email:
        enqueue(
            session,
            workspace_id=request.workspace_id,
            kind=NotificationKind.APPROVE,
            recipient=mail.requester_email,
            context=mail.context,
            subjects=mail.subjects,
            now=now,
        )


async def _ask_deciders(
    session: AsyncSession,
    request: AccessRequest,
    mail: _Mail,
    console: ConsoleLinks,
    now: datetime,
) -> None:
    """Mail everyone who may decide (but the requester), linking to the request."""
    context = {
        **mail.context,
        "console_url": console.access_request(
            workspace_id=request.workspace_id, access_request_id=request.id
        ),
    }
    for recipient in await _deciders(session, request.workspace_id):
        if recipient != mail.requester_email:
            enqueue(
                session,
                workspace_id=request.workspace_id,
                kind=NotificationKind.ACCESS_REQUESTED,
                recipient=recipient,
                context=context,
                subjects=mail.subjects,
                now=now,
            )


async def _claim(
    session: AsyncSession,
    request: AccessRequest,
    status: AccessRequestStatus,
    *,
    decided_by_actor_id: uuid.UUID | None,
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
            decided_by_actor_id=decided_by_actor_id,
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
    decided_by_actor_id: uuid.UUID | None,
    decided_by_name: str,
    reason: str,
    now: datetime,
) -> None:
    """Decide APPROVED and provision the app: it gains the products and moves to the plan."""
    await _claim(
        session,
        request,
        AccessRequestStatus.APPROVED,
        decided_by_actor_id=decided_by_actor_id,
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
    action: AuditAction,
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
            decided_by_actor_id=actor.credential_id
            or actor.membership(request.workspace_id).member_id,
            decided_by_name=actor.name,
            reason=note,
            now=now,
        )
        request.status, request.reason = AccessRequestStatus.APPROVED, note
        await _audit_and_mail(
            session,
            actor,
            request,
            action=AuditAction.APPROVE_ACCESS_REQUEST,
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
            decided_by_actor_id=actor.credential_id
            or actor.membership(request.workspace_id).member_id,
            decided_by_name=actor.name,
            reason=text,
            now=now,
        )
        request.status, request.reason = AccessRequestStatus.REJECTED, text
        await _audit_and_mail(
            session,
            actor,
            request,
            action=AuditAction.REJECT_ACCESS_REQUEST,
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
            decided_by_actor_id=request.requester_member_id,
            decided_by_name=actor.name,
            reason="",
            now=now,
        )
        request.status = AccessRequestStatus.CANCELLED
        record(
            session,
            actor=actor,
            workspace_id=request.workspace_id,
            action=AuditAction.CANCEL_ACCESS_REQUEST,
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
