"""Group sync: the identity provider's groups claim drives workspace group membership.

A workspace maps values of an issuer's groups claim to its groups (``setGroupClaimMapping``).
At each login and bearer-token use, a member of that workspace is put into every mapped group
whose value the claim lists and taken out of every mapped group it no longer lists. Groups
without a mapping are never touched, so hand-made memberships stay. A token without the claim
changes nothing (an access token often omits what the ID token carries); a claim that is
present but empty removes the person from every mapped group.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.permissions import Permission
from accessplane.auth.principals import Principal, PrincipalKind
from accessplane.db import changes as db_changes
from accessplane.db import transaction
from accessplane.errors import UserErrorCode
from accessplane.models import Group, GroupClaimMapping, GroupMember, Member, MemberKind
from accessplane.services.audit import AuditAction, record
from accessplane.services.scoping import get_scoped
from accessplane.services.validation import Checks

MAX_CLAIM_VALUES = 50


def claim_values(claims: dict[str, object], claim: str) -> list[str] | None:
    """The groups listed in ``claim`` (a list of strings, or one space-separated string);
    None when the token does not carry the claim."""
    value = claims.get(claim)
    if value is None:
        return None
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


@dataclass(frozen=True, slots=True)
class GroupChange:
    """How one sync changed one group."""

    group_id: uuid.UUID
    member_id: uuid.UUID
    added: bool


def sync_actor(issuer: str, *, ip: str | None = None, request_id: str | None = None) -> Principal:
    """The audit log's actor for changes the identity provider asked for."""
    return Principal(
        kind=PrincipalKind.SYSTEM,
        id=None,
        name=f"oidc-sync {issuer}"[:254],
        memberships={},
        ip=ip,
        request_id=request_id,
    )


async def sync_user_groups(
    *,
    session: AsyncSession,
    user_id: uuid.UUID,
    issuer: str,
    values: Collection[str],
    actor: Principal,
) -> list[GroupChange]:
    """Bring the user's membership of the mapped groups of every workspace in line with the
    claim ``values``; writes (and audits) only when something changes."""
    members = (
        await session.scalars(
            select(Member).where(
                col(Member.user_id) == user_id, col(Member.kind) == MemberKind.HUMAN
            )
        )
    ).all()
    if not members:
        return []
    member_by_workspace = {m.workspace_id: m for m in members}
    mappings = (
        await session.scalars(
            select(GroupClaimMapping).where(
                col(GroupClaimMapping.workspace_id).in_(list(member_by_workspace)),
                col(GroupClaimMapping.issuer) == issuer,
            )
        )
    ).all()
    if not mappings:
        return []
    wanted = set(values)
    managed = {(m.workspace_id, m.group_id) for m in mappings}
    desired = {(m.workspace_id, m.group_id) for m in mappings if m.claim_value in wanted}
    current = set(
        (
            await session.execute(
                select(col(GroupMember.group_id), col(GroupMember.member_id)).where(
                    col(GroupMember.member_id).in_([m.id for m in members]),
                    col(GroupMember.group_id).in_([g for _, g in managed]),
                )
            )
        ).all()
    )
    changes: list[GroupChange] = []
    for workspace_id, group_id in sorted(managed, key=lambda pair: (str(pair[0]), str(pair[1]))):
        member_id = member_by_workspace[workspace_id].id
        present = (group_id, member_id) in current
        should = (workspace_id, group_id) in desired
        if present != should:
            changes.append(GroupChange(group_id=group_id, member_id=member_id, added=should))
    if not changes:
        return []
    workspace_of = dict((g, w) for w, g in managed)
    try:
        await _apply(session, changes, workspace_of, issuer, actor)
    except IntegrityError:
        # A concurrent request of the same person applied the same change first.
        return []
    return changes


async def _apply(
    session: AsyncSession,
    changes: list[GroupChange],
    workspace_of: dict[uuid.UUID, uuid.UUID],
    issuer: str,
    actor: Principal,
) -> None:
    async with transaction(session):
        for change in changes:
            if change.added:
                session.add(GroupMember(group_id=change.group_id, member_id=change.member_id))
            else:
                await session.execute(
                    delete(GroupMember).where(
                        col(GroupMember.group_id) == change.group_id,
                        col(GroupMember.member_id) == change.member_id,
                    )
                )
                db_changes.changed(session, db_changes.tag("group", change.group_id))
            ids = {"memberIds": [str(change.member_id)], "issuer": issuer}
            record(
                session,
                actor=actor,
                workspace_id=workspace_of[change.group_id],
                action=AuditAction.SYNC_GROUP_MEMBERS,
                target_type="Group",
                target_id=change.group_id,
                before=None if change.added else ids,
                after=ids if change.added else None,
            )


async def set_group_claim_mapping(
    *,
    session: AsyncSession,
    actor: Principal,
    group_id: uuid.UUID,
    issuer: str,
    claim_values: Sequence[str],
    known_issuers: Collection[str],
) -> tuple[Group, list[str]]:
    """Replace the claim values of ``issuer`` that put members into the group (an empty
    list removes the mapping); returns the group and the values now mapped."""
    group = await get_scoped(
        session, actor, Group, group_id, Permission.MANAGE_GROUPS, label="Group"
    )
    checks = Checks()
    issuer = checks.text("issuer", issuer, max_length=500)
    if issuer and issuer not in known_issuers:
        checks.add("issuer", "No such issuer is configured.", UserErrorCode.NOT_FOUND)
    values: list[str] = []
    for value in claim_values:
        text = checks.text("claimValues", value, max_length=255)
        if text and len(text) <= 255 and text not in values:
            values.append(text)
    if len(values) > MAX_CLAIM_VALUES:
        checks.add(
            "claimValues",
            f"At most {MAX_CLAIM_VALUES} claim values per group and issuer.",
            UserErrorCode.TOO_LONG,
        )
    checks.raise_if_any()
    existing = (
        await session.scalars(
            select(GroupClaimMapping).where(
                col(GroupClaimMapping.group_id) == group.id,
                col(GroupClaimMapping.issuer) == issuer,
            )
        )
    ).all()
    before = sorted(m.claim_value for m in existing)
    async with transaction(session):
        for mapping in existing:
            if mapping.claim_value not in values:
                await session.delete(mapping)
        session.add_all(
            GroupClaimMapping(
                workspace_id=group.workspace_id,
                group_id=group.id,
                issuer=issuer,
                claim_value=value,
            )
            for value in values
            if value not in before
        )
        record(
            session,
            actor=actor,
            workspace_id=group.workspace_id,
            action=AuditAction.SET_GROUP_CLAIM_MAPPING,
            target_type="Group",
            target_id=group.id,
            before={"issuer": issuer, "claimValues": before},
            after={"issuer": issuer, "claimValues": sorted(values)},
        )
    return group, sorted(values)
