"""From a credential to a principal.

Each credential type resolves to the same ``Principal``: API Access keys here, OIDC sessions and
bearer JWTs by loading the user's memberships with ``principal_for_user``.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.auth.principals import Membership, Principal, PrincipalKind, grants_from_role
from accessplane.auth.tokens import TokenKind, parse_token, token_digest
from accessplane.errors import Unauthenticated
from accessplane.models import ApiAccess, Member, Role, User
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


async def principal_for_api_key(session: AsyncSession, token: str, secret: bytes) -> Principal:
    """The principal of an API Access key, or UNAUTHENTICATED with a reason."""
    if parse_token(token) is not TokenKind.API_ACCESS:
        # Rejected by format and checksum alone: no database look-up for invented tokens.
        raise Unauthenticated("The API key is malformed.", reason="malformed")
    row = (
        await session.execute(
            select(ApiAccess, Role)
            .join(Role, Role.id == ApiAccess.role_id)
            .where(ApiAccess.token_digest == token_digest(token, secret))
        )
    ).first()
    if row is None:
        raise Unauthenticated("The API key is unknown or was revoked.", reason="unknown_credential")
    key, role = row
    if key.expires_at is not None and key.expires_at <= utcnow():
        raise Unauthenticated("The API key has expired.", reason="expired")
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


async def principal_for_user(session: AsyncSession, user: User) -> Principal:
    """The principal of a person, with their role in each workspace they belong to."""
    rows = (
        await session.execute(
            select(Member, Role)
            .join(Role, Role.id == Member.role_id)
            .where(Member.user_id == user.id)
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
