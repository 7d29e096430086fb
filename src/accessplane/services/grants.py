"""API grants: direct (member) and group grants, revocation, and explaining access.

Effective access is the union of direct grants and grants to the member's groups (or every API
for a role with ``allApis``), as ``accessplane.access_rule`` reads it. Each kind of grant is
revoked on its own: revoking a group's grant leaves a member's direct grant, and the reverse.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane import access_rule

# AccessPathKind is re-exported: the schema names it with this module's other results.
from accessplane.access_rule import AccessPathKind as AccessPathKind
from accessplane.auth.permissions import Permission
from accessplane.auth.principals import Principal
from accessplane.db import changes, transaction
from accessplane.db.sql import insert_new
from accessplane.errors import InputError, UserErrorCode
from accessplane.models import Api, ApiGrant, Group, Member, Role
from accessplane.services.audit import AuditAction, record
from accessplane.services.scoping import get_accessible_api, get_referenced, get_scoped

REVOKE_ALL_CONFIRMATION = "REVOKE"


@dataclass(frozen=True, slots=True)
class GrantChange:
    """What a grant or revoke did."""

    api: Api
    member_ids: list[uuid.UUID]
    group_ids: list[uuid.UUID]

    @property
    def count(self) -> int:
        return len(self.member_ids) + len(self.group_ids)


def _require_grantees(member_ids: list[uuid.UUID], group_ids: list[uuid.UUID]) -> None:
    if not member_ids and not group_ids:
        raise InputError.one(
            "memberIds", "Name at least one member or group.", UserErrorCode.REQUIRED
        )


async def grant_access(
    *,
    session: AsyncSession,
    actor: Principal,
    api_id: uuid.UUID,
    member_ids: list[uuid.UUID],
    group_ids: list[uuid.UUID],
) -> GrantChange:
    """Grant an API to members and groups in one transaction; existing grants are kept, so
    granting is idempotent, even between concurrent identical requests."""
    api = await get_accessible_api(session, actor, api_id, Permission.GRANT_API_ACCESS)
    _require_grantees(member_ids, group_ids)
    members = await get_referenced(
        session, Member, member_ids, api.workspace_id, field="memberIds", label="member"
    )
    groups = await get_referenced(
        session, Group, group_ids, api.workspace_id, field="groupIds", label="group"
    )
    common: dict[str, Any] = {
        "workspace_id": api.workspace_id,
        "api_id": api.id,
        "granted_by_principal_id": actor.credential_id or actor.id,
        "granted_by_name": actor.name,
    }
    rows = [ApiGrant(member_id=m.id, **common) for m in members]
    rows += [ApiGrant(group_id=g.id, **common) for g in groups]
    try:
        async with transaction(session):
            # Grants that exist (made earlier, or by a concurrent request) are skipped, not
            # refused; RETURNING tells which ones this request made.
            made = (
                await session.execute(
                    insert_new(session, ApiGrant, rows).returning(
                        col(ApiGrant.member_id), col(ApiGrant.group_id)
                    )
                )
            ).all()
            made_members = {m for m, _ in made if m is not None}
            made_groups = {g for _, g in made if g is not None}
            new_members = [m.id for m in members if m.id in made_members]
            new_groups = [g.id for g in groups if g.id in made_groups]
            record(
                session,
                actor=actor,
                workspace_id=api.workspace_id,
                action=AuditAction.GRANT_API_ACCESS,
                target_type="Api",
                target_id=api.id,
                after={
                    "memberIds": [str(i) for i in new_members],
                    "groupIds": [str(i) for i in new_groups],
                },
            )
    except IntegrityError:
        # A foreign key: the API, a member or a group was deleted meanwhile. Say which, as if
        # the requests had come one after the other.
        await get_accessible_api(session, actor, api_id, Permission.GRANT_API_ACCESS)
        for model, ids, field_name, label in (
            (Member, member_ids, "memberIds", "member"),
            (Group, group_ids, "groupIds", "group"),
        ):
            await get_referenced(
                session, model, ids, common["workspace_id"], field=field_name, label=label
            )
        raise
    return GrantChange(api, new_members, new_groups)


async def revoke_access(
    *,
    session: AsyncSession,
    actor: Principal,
    api_id: uuid.UUID,
    member_ids: list[uuid.UUID],
    group_ids: list[uuid.UUID],
) -> GrantChange:
    """Revoke members' direct grants and groups' grants in one transaction. A member's access
    through a group is untouched by revoking their direct grant, and the reverse."""
    api = await get_accessible_api(session, actor, api_id, Permission.REVOKE_API_ACCESS)
    _require_grantees(member_ids, group_ids)
    members = await get_referenced(
        session, Member, member_ids, api.workspace_id, field="memberIds", label="member"
    )
    groups = await get_referenced(
        session, Group, group_ids, api.workspace_id, field="groupIds", label="group"
    )
    wanted = or_(
        col(ApiGrant.member_id).in_([m.id for m in members]),
        col(ApiGrant.group_id).in_([g.id for g in groups]),
    )
    return await _revoke(session, actor, api, wanted, action=AuditAction.REVOKE_API_ACCESS)


async def revoke_all_access(
    *, session: AsyncSession, actor: Principal, api_id: uuid.UUID, confirmation: str
) -> GrantChange:
    """Remove every direct and group grant of an API; needs the literal confirmation."""
    api = await get_accessible_api(session, actor, api_id, Permission.REVOKE_API_ACCESS)
    if confirmation != REVOKE_ALL_CONFIRMATION:
        raise InputError.one(
            "confirmation",
            f"Type {REVOKE_ALL_CONFIRMATION} to revoke every grant of this API.",
            UserErrorCode.CONFIRMATION_REQUIRED,
        )
    return await _revoke(session, actor, api, true(), action=AuditAction.REVOKE_ALL_API_ACCESS)


async def _revoke(
    session: AsyncSession,
    actor: Principal,
    api: Api,
    which: ColumnElement[bool],
    *,
    action: AuditAction,
) -> GrantChange:
    """Delete the API's grants matching ``which`` and record what went, in one transaction."""
    of_api = and_(col(ApiGrant.api_id) == api.id, which)
    async with transaction(session):
        # RETURNING: what this request removed, not what a concurrent revoke removed first.
        revoked = (
            await session.execute(
                delete(ApiGrant)
                .where(of_api)
                .returning(col(ApiGrant.member_id), col(ApiGrant.group_id))
            )
        ).all()
        change = GrantChange(api, [m for m, _ in revoked if m], [g for _, g in revoked if g])
        changes.changed(session, changes.workspace_access(api.workspace_id))
        record(
            session,
            actor=actor,
            workspace_id=api.workspace_id,
            action=action,
            target_type="Api",
            target_id=api.id,
            before={
                "memberIds": [str(i) for i in change.member_ids],
                "groupIds": [str(i) for i in change.group_ids],
            },
        )
    return change


@dataclass(frozen=True, slots=True)
class AccessPath:
    """One reason a member reaches an API."""

    kind: AccessPathKind
    group: Group | None = None
    role: Role | None = None
    granted_by_name: str | None = None
    granted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AccessExplanation:
    """Whether a member reaches an API, and every path by which they do."""

    member: Member
    api: Api
    paths: list[AccessPath] = field(default_factory=list)

    @property
    def has_access(self) -> bool:
        return bool(self.paths)


async def explain_access(
    *, session: AsyncSession, actor: Principal, member_id: uuid.UUID, api_id: uuid.UUID
) -> AccessExplanation:
    """List each path from a member to an API: their role, their direct grant, their groups."""
    api = await get_accessible_api(session, actor, api_id, Permission.GET_API_GRANTS)
    member = await get_scoped(
        session, actor, Member, member_id, Permission.GET_MEMBER, label="Member"
    )
    if member.workspace_id != api.workspace_id:
        raise InputError.one(
            "memberId", "Member not found in this workspace.", UserErrorCode.NOT_FOUND
        )
    every = access_rule.paths([member.id], [api.id]).subquery("access_paths")
    # The role first, then the direct grant, then the groups by name.
    rank = case(
        (every.c.kind == AccessPathKind.ROLE.value, 0),
        (every.c.kind == AccessPathKind.DIRECT.value, 1),
        else_=2,
    )
    rows = (
        await session.execute(
            select(every.c.kind, ApiGrant, Group, Role)
            .select_from(every)
            .outerjoin(ApiGrant, col(ApiGrant.id) == every.c.grant_id)
            .outerjoin(Group, col(Group.id) == every.c.group_id)
            .outerjoin(Role, col(Role.id) == every.c.role_id)
            .order_by(rank, col(Group.name))
        )
    ).all()
    paths = [
        AccessPath(
            AccessPathKind(kind),
            group=group,
            role=role,
            granted_by_name=grant.granted_by_name if grant is not None else None,
            granted_at=grant.created_at if grant is not None else None,
        )
        for kind, grant, group, role in rows
    ]
    return AccessExplanation(member=member, api=api, paths=paths)
