"""From a credential to a principal.

Each credential type resolves to the same ``Principal``: API Access keys here, OIDC sessions and
bearer JWTs by loading the user's memberships with ``principal_for_user``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.principals import Membership, Principal, PrincipalKind, grants_from_role
from accessplane.auth.tokens import TokenKind, parse_token, token_digest
from accessplane.errors import Unauthenticated
from accessplane.models import ApiAccess, ApiAccessRevocation, Member, Role, User
from accessplane.models.base import utcnow


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, if any."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "The Authorization header must be 'Bearer <token>'.", reason="malformed"
        )
    return token.strip()


# ``session.info`` key of the usage hook the application installs on request sessions.
USAGE_HOOK = "accessplane.api_access_usage"


class UsageHook(Protocol):
    """Counts a key's use without I/O (``services.api_access.ApiAccessUsage``)."""

    def record(self, api_access_id: uuid.UUID, at: datetime) -> None: ...


async def principal_for_api_key(
    session: AsyncSession,
    token: str,
    secret: bytes,
    *,
    now: datetime | None = None,
    usage: UsageHook | None = None,
) -> Principal:
    """The principal of an API Access key, or UNAUTHENTICATED with a reason: ``malformed``,
    ``unknown_credential``, ``expired``, or ``revoked`` (regenerated or deleted). An old token
    within its rotation's grace period still authenticates. Each success is counted by the
    usage hook (``usage``, or the one in ``session.info``)."""
    if parse_token(token) is not TokenKind.API_ACCESS:
        # Rejected by format and checksum alone: no database look-up for invented tokens.
        raise Unauthenticated("The API key is malformed.", reason="malformed")
    now = now or utcnow()
    # Looked up by keyed hash: the index compares hashes, never the secret itself.
    digest = token_digest(token, secret)
    row = (
        await session.execute(
            select(ApiAccess, Role)
            .join(Role, col(Role.id) == col(ApiAccess.role_id))
            .where(col(ApiAccess.token_digest) == digest)
        )
    ).first()
    if row is None:
        revocation = await session.scalar(
            select(ApiAccessRevocation)
            .where(col(ApiAccessRevocation.token_digest) == digest)
            .execution_options(populate_existing=True)
        )
        if revocation is None:
            raise Unauthenticated("The API key is unknown.", reason="unknown_credential")
        if revocation.revoked_at <= now:
            raise Unauthenticated(
                f"The API key was revoked ({revocation.reason}).",
                reason="revoked",
                revokedBecause=revocation.reason,
            )
        # The previous token of a rotation, within its grace period.
        row = (
            await session.execute(
                select(ApiAccess, Role)
                .join(Role, col(Role.id) == col(ApiAccess.role_id))
                .where(col(ApiAccess.id) == revocation.api_access_id)
            )
        ).first()
        if row is None:
            raise Unauthenticated("The API key was revoked.", reason="revoked")
        key, role = row
    else:
        key, role = row
        if key.expires_at is not None and key.expires_at <= now:
            raise Unauthenticated("The API key has expired.", reason="expired")
    hook = usage if usage is not None else session.info.get(USAGE_HOOK)
    if hook is not None:
        hook.record(key.id, now)
    return key_principal(key, role)


async def principal_for_user(session: AsyncSession, user: User) -> Principal:
    """The principal of a person, with their role in each workspace they belong to."""
    rows = (
        await session.execute(
            select(Member, Role)
            .join(Role, col(Role.id) == col(Member.role_id))
            .where(col(Member.user_id) == user.id)
        )
    ).all()
    memberships: dict[uuid.UUID, Membership] = {
        member.workspace_id: Membership(
            workspace_id=member.workspace_id,
            role_id=role.id,
            role_name=role.name,
            grants=grants_from_role(role.permissions),
            all_apis=role.all_apis,
            member_id=member.id,
        )
        for member, role in rows
    }
    return Principal(
        kind=PrincipalKind.MEMBER, id=user.id, name=user.email, memberships=memberships
    )


def key_principal(key: ApiAccess, role: Role) -> Principal:
    """An API Access key acting with its role in its workspace."""
    membership = Membership(
        workspace_id=key.workspace_id,
        role_id=role.id,
        role_name=role.name,
        grants=grants_from_role(role.permissions),
        all_apis=role.all_apis,
    )
    return Principal(
        kind=PrincipalKind.API_ACCESS,
        id=key.id,
        name=key.name,
        memberships={key.workspace_id: membership},
        credential_id=key.id,
    )
