"""Service accounts: an OIDC client acting by itself (client credentials) as a SERVICE member.

A partner's machine client gets tokens from the organisation's identity provider; linking its
(issuer, client id) to a SERVICE member with a role lets those tokens call the GraphQL API with
that role and the member's API grants. A client linked nowhere gets no access at all.

Each linked client is backed by one user row of its own (so a service member lists, groups and
is granted like any member); that user has no issuer and subject, so nobody can log in as it.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.permissions import Permission
from accessplane.auth.principals import Membership, Principal, PrincipalKind, grants_from_role
from accessplane.db import transaction
from accessplane.errors import UserErrorCode
from accessplane.models import Member, MemberKind, Role, ServiceAccount, User
from accessplane.services.audit import AuditAction, record
from accessplane.services.members import get_or_create_user
from accessplane.services.roles import check_role_assignable
from accessplane.services.validation import Checks

# ``.invalid`` is reserved (RFC 2606): these addresses can never receive mail or be claimed.
SERVICE_EMAIL_DOMAIN = "service-accounts.invalid"


def service_email(issuer: str, client_id: str) -> str:
    """The stable, unique address of the user row behind a client."""
    digest = hashlib.sha256(f"{issuer}\n{client_id}".encode()).hexdigest()[:32]
    return f"client-{digest}@{SERVICE_EMAIL_DOMAIN}"


async def link_service_account(
    *,
    session: AsyncSession,
    actor: Principal,
    workspace_id: uuid.UUID,
    issuer: str,
    client_id: str,
    role_id: uuid.UUID,
    name: str,
    known_issuers: Collection[str],
) -> Member:
    """Make the client a SERVICE member of the workspace with a role the actor may hand out."""
    actor.require(workspace_id, Permission.MANAGE_MEMBERS)
    actor.require(workspace_id, Permission.GET_ROLE)
    checks = Checks()
    issuer = checks.text("issuer", issuer, max_length=500)
    if issuer and issuer not in known_issuers:
        checks.add("issuer", "No such issuer is configured.", UserErrorCode.NOT_FOUND)
    client_id = checks.text("clientId", client_id, max_length=255)
    name = checks.text("name", name, max_length=200)
    role = await session.get(Role, role_id)
    if role is None or role.workspace_id != workspace_id:
        checks.add("roleId", "Role not found in this workspace.", UserErrorCode.NOT_FOUND)
        role = None
    else:
        check_role_assignable(checks, actor, role)
    if issuer and client_id and not checks.errors:
        linked = await session.scalar(
            select(col(ServiceAccount.member_id)).where(
                col(ServiceAccount.workspace_id) == workspace_id,
                col(ServiceAccount.issuer) == issuer,
                col(ServiceAccount.client_id) == client_id,
            )
        )
        if linked is not None:
            checks.add(
                "clientId",
                "This client is linked in this workspace already.",
                UserErrorCode.DUPLICATE,
            )
    checks.raise_if_any()
    assert role is not None
    async with transaction(session):
        user = await get_or_create_user(session, service_email(issuer, client_id), name)
        member = Member(
            workspace_id=workspace_id, user_id=user.id, role_id=role.id, kind=MemberKind.SERVICE
        )
        session.add(member)
        await session.flush()
        session.add(
            ServiceAccount(
                member_id=member.id, workspace_id=workspace_id, issuer=issuer, client_id=client_id
            )
        )
        record(
            session,
            actor=actor,
            workspace_id=workspace_id,
            action=AuditAction.LINK_SERVICE_ACCOUNT,
            target_type="Member",
            target_id=member.id,
            after={"issuer": issuer, "clientId": client_id, "name": name, "role": role.name},
        )
    return member


async def principal_for_client(
    session: AsyncSession, issuer: str, client_id: str
) -> Principal | None:
    """The principal of a linked client, with its role in each workspace that linked it;
    None for a client linked nowhere."""
    rows = (
        await session.execute(
            select(Member, Role, User)
            .join(ServiceAccount, col(ServiceAccount.member_id) == col(Member.id))
            .join(Role, col(Role.id) == col(Member.role_id))
            .join(User, col(User.id) == col(Member.user_id))
            .where(col(ServiceAccount.issuer) == issuer, col(ServiceAccount.client_id) == client_id)
        )
    ).all()
    if not rows:
        return None
    memberships = {
        member.workspace_id: Membership(
            workspace_id=member.workspace_id,
            role_id=role.id,
            role_name=role.name,
            grants=grants_from_role(role.permissions),
            all_apis=role.all_apis,
            member_id=member.id,
        )
        for member, role, _ in rows
    }
    user = rows[0][2]
    return Principal(
        kind=PrincipalKind.SERVICE,
        id=user.id,
        name=user.name or client_id,
        memberships=memberships,
    )
