"""Users from OpenID Connect: provisioned just in time by (issuer, subject).

A person invited by email (``addMember``) claims the invitation at their first login when the
provider vouches for the address (``email_verified`` not false). The first user of an issuer
marked ``bootstrap_owner`` becomes Owner of the default workspace, so a fresh installation can
be administered by its organisation's identity provider without any API key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.permissions import OWNER_ROLE
from accessplane.auth.principals import SYSTEM, Principal
from accessplane.db import transaction
from accessplane.errors import Unauthenticated
from accessplane.models import Member, Role, User, Workspace
from accessplane.services.audit import AuditAction, record
from accessplane.services.validation import Checks
from accessplane.services.workspaces import create_workspace_rows

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the provider says logged in (claims of a verified ID token or access token)."""

    issuer: str
    subject: str
    email: str | None
    name: str
    email_verified: bool | None = None

    @classmethod
    def from_claims(cls, issuer: str, claims: dict[str, Any]) -> Identity:
        email = claims.get("email")
        name = claims.get("name") or claims.get("preferred_username") or ""
        verified = claims.get("email_verified")
        return cls(
            issuer=issuer,
            subject=str(claims["sub"]),
            email=email.strip().lower() if isinstance(email, str) and email.strip() else None,
            name=str(name)[:200],
            email_verified=verified if isinstance(verified, bool) else None,
        )


def _valid_email(email: str | None) -> str | None:
    if email is None:
        return None
    checks = Checks()
    value = checks.email("email", email)
    return None if checks.errors else value


async def find_user(session: AsyncSession, issuer: str, subject: str) -> User | None:
    """The user known by this (issuer, subject), if any."""
    return await session.scalar(
        select(User).where(col(User.issuer) == issuer, col(User.subject) == subject)
    )


async def provision_user(
    *,
    session: AsyncSession,
    identity: Identity,
    bootstrap_owner: bool = False,
    default_workspace_name: str = "Default",
    actor: Principal = SYSTEM,
) -> User:
    """The user of ``identity``, created or updated (email and name) in one transaction.

    Raises UNAUTHENTICATED when a new user comes without a usable email address, or with one
    that another identity already holds."""
    email = _valid_email(identity.email)
    user = await find_user(session, identity.issuer, identity.subject)
    if user is not None and not _changed(user, identity, email):
        return user  # the usual bearer request: nothing to write
    first_of_issuer = False
    try:
        async with transaction(session):
            if user is None:
                first_of_issuer = (
                    await session.scalar(
                        select(col(User.id)).where(col(User.issuer) == identity.issuer).limit(1)
                    )
                    is None
                )
                user = await _new_or_invited(session, identity, email)
            else:
                await _update(session, user, identity, email)
            if bootstrap_owner and first_of_issuer:
                await _make_default_owner(
                    session, user, default_workspace_name, replace(actor, name="oidc-bootstrap")
                )
    except IntegrityError:
        # A concurrent request of the same person (two tabs, parallel API calls) won.
        user = await find_user(session, identity.issuer, identity.subject)
        if user is None:
            raise
    return user


def _changed(user: User, identity: Identity, email: str | None) -> bool:
    return bool(identity.name and identity.name != user.name) or (
        email is not None and email != user.email
    )


async def _new_or_invited(session: AsyncSession, identity: Identity, email: str | None) -> User:
    if email is None:
        raise Unauthenticated(
            "The identity provider sent no valid email address; request the 'email' scope.",
            reason="missing_email",
        )
    invited = await session.scalar(select(User).where(col(User.email) == email))
    if invited is not None:
        if invited.issuer is not None:
            raise Unauthenticated(
                "This email address belongs to another account.", reason="email_conflict"
            )
        if identity.email_verified is False:
            # An invitation is claimed only with an address the provider vouches for.
            raise Unauthenticated(
                f"Your identity provider has not verified {email}. Verify the address with "
                "your provider (or ask your administrator), then sign in again.",
                reason="email_unverified",
            )
        invited.issuer, invited.subject = identity.issuer, identity.subject
        invited.name = identity.name or invited.name
        session.add(invited)
        await session.flush()
        return invited
    user = User(email=email, name=identity.name, issuer=identity.issuer, subject=identity.subject)
    session.add(user)
    await session.flush()
    return user


async def _update(session: AsyncSession, user: User, identity: Identity, email: str | None) -> None:
    if identity.name and identity.name != user.name:
        user.name = identity.name
    if email is not None and email != user.email:
        taken = await session.scalar(
            select(col(User.id)).where(col(User.email) == email, col(User.id) != user.id)
        )
        if taken is None:
            user.email = email
        else:
            logger.warning("user %s: new email is held by another user; kept the old one", user.id)
    session.add(user)
    await session.flush()


async def _make_default_owner(
    session: AsyncSession, user: User, workspace_name: str, actor: Principal
) -> None:
    workspace = await session.scalar(
        select(Workspace)
        .where(col(Workspace.name) == workspace_name)
        .order_by(col(Workspace.created_at), col(Workspace.id))
        .limit(1)
    )
    if workspace is None:
        workspace, roles = await create_workspace_rows(session, name=workspace_name)
        owner_role_id = roles[OWNER_ROLE].id
    else:
        owner_role_id_or_none = await session.scalar(
            select(col(Role.id)).where(
                col(Role.workspace_id) == workspace.id,
                col(Role.name) == OWNER_ROLE,
                col(Role.built_in),
            )
        )
        assert owner_role_id_or_none is not None  # every workspace has its built-in roles
        owner_role_id = owner_role_id_or_none
    existing = await session.scalar(
        select(Member).where(
            col(Member.workspace_id) == workspace.id, col(Member.user_id) == user.id
        )
    )
    if existing is not None:
        existing.role_id = owner_role_id
        member = existing
    else:
        member = Member(workspace_id=workspace.id, user_id=user.id, role_id=owner_role_id)
    session.add(member)
    await session.flush()
    record(
        session,
        actor=actor,
        workspace_id=workspace.id,
        action=AuditAction.BOOTSTRAP_OWNER,
        target_type="Member",
        target_id=member.id,
        after={"email": user.email, "role": OWNER_ROLE, "issuer": user.issuer},
    )
