"""Groups: teams whose API grants reach every current member."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.permissions import Permission
from accessplane.auth.principals import Principal
from accessplane.db import changes, transaction
from accessplane.db.sql import delete_row, fold, insert_new
from accessplane.errors import NotFound
from accessplane.models import Group, GroupMember, Member
from accessplane.services.audit import AuditAction, record
from accessplane.services.pagination import Page, PageArgs, paginate
from accessplane.services.scoping import get_referenced, get_scoped
from accessplane.services.uniqueness import check_unique_name, recheck_unique_name
from accessplane.services.validation import Checks

LABEL = "A group"  # how userErrors name this kind of object


def _summary(group: Group) -> dict[str, Any]:
    return {"name": group.name, "description": group.description}


async def create_group(
    *,
    session: AsyncSession,
    actor: Principal,
    workspace_id: uuid.UUID,
    name: str,
    description: str = "",
    member_ids: list[uuid.UUID] | None = None,
) -> Group:
    """Create a group, optionally with its first members."""
    actor.require(workspace_id, Permission.MANAGE_GROUPS)
    checks = Checks()
    name = checks.text("name", name, max_length=100)
    description = checks.text("description", description, max_length=1000, required=False)
    await check_unique_name(checks, session, Group, workspace_id, name, label=LABEL)
    members = await get_referenced(
        session,
        Member,
        member_ids or [],
        workspace_id,
        field="memberIds",
        label="member",
        checks=checks,
    )
    checks.raise_if_any()
    try:
        async with transaction(session):
            group = Group(workspace_id=workspace_id, name=name, description=description)
            session.add(group)
            await session.flush()
            session.add_all(GroupMember(group_id=group.id, member_id=m.id) for m in members)
            record(
                session,
                actor=actor,
                workspace_id=workspace_id,
                action=AuditAction.CREATE_GROUP,
                target_type="Group",
                target_id=group.id,
                after={**_summary(group), "memberIds": [str(m.id) for m in members]},
            )
    except IntegrityError:
        # A concurrent create took the name, or a member was removed meanwhile.
        await recheck_unique_name(session, Group, workspace_id, name, label=LABEL)
        await get_referenced(
            session, Member, member_ids or [], workspace_id, field="memberIds", label="member"
        )
        raise
    return group


async def update_group(
    *,
    session: AsyncSession,
    actor: Principal,
    group_id: uuid.UUID,
    name: str | None = None,
    description: str | None = None,
) -> Group:
    """Rename or re-describe a group."""
    group = await get_scoped(
        session, actor, Group, group_id, Permission.MANAGE_GROUPS, label="Group"
    )
    before = _summary(group)
    checks = Checks()
    if name is not None:
        name = checks.text("name", name, max_length=100)
        await check_unique_name(
            checks, session, Group, group.workspace_id, name, group.id, label=LABEL
        )
    if description is not None:
        description = checks.text("description", description, max_length=1000, required=False)
    checks.raise_if_any()
    workspace_id = group.workspace_id
    try:
        async with transaction(session):
            group.name = group.name if name is None else name
            group.description = group.description if description is None else description
            session.add(group)
            record(
                session,
                actor=actor,
                workspace_id=workspace_id,
                action=AuditAction.UPDATE_GROUP,
                target_type="Group",
                target_id=group.id,
                before=before,
                after=_summary(group),
            )
    except IntegrityError:
        if name is not None:  # a concurrent create or rename took the name
            await recheck_unique_name(session, Group, workspace_id, name, group_id, label=LABEL)
        raise
    return group


async def delete_group(*, session: AsyncSession, actor: Principal, group_id: uuid.UUID) -> Group:
    """Delete a group; its grants go with it, its members' direct grants stay."""
    group = await get_scoped(
        session, actor, Group, group_id, Permission.MANAGE_GROUPS, label="Group"
    )
    async with transaction(session):
        record(
            session,
            actor=actor,
            workspace_id=group.workspace_id,
            action=AuditAction.DELETE_GROUP,
            target_type="Group",
            target_id=group.id,
            before=_summary(group),
        )
        if not await delete_row(session, group):  # a concurrent deleteGroup won
            raise NotFound("Group not found.")
    return group


async def add_group_members(
    *, session: AsyncSession, actor: Principal, group_id: uuid.UUID, member_ids: list[uuid.UUID]
) -> Group:
    """Add members to a group (members already in it are left as they are)."""
    group = await get_scoped(
        session, actor, Group, group_id, Permission.MANAGE_GROUPS, label="Group"
    )
    members = await get_referenced(
        session, Member, member_ids, group.workspace_id, field="memberIds", label="member"
    )
    workspace_id = group.workspace_id
    rows = [GroupMember(group_id=group.id, member_id=m.id) for m in members]
    try:
        async with transaction(session):
            # Members already in the group (added earlier, or by a concurrent request) are
            # skipped, not refused; RETURNING tells which ones this request added.
            made = set()
            if rows:  # an empty list adds no one, and is recorded as such
                inserted = insert_new(session, GroupMember, rows)
                made = set(
                    (await session.scalars(inserted.returning(col(GroupMember.member_id)))).all()
                )
            added = [m.id for m in members if m.id in made]
            record(
                session,
                actor=actor,
                workspace_id=group.workspace_id,
                action=AuditAction.ADD_GROUP_MEMBERS,
                target_type="Group",
                target_id=group.id,
                after={"memberIds": [str(i) for i in added]},
            )
    except IntegrityError:
        # A foreign key: the group or a member was deleted meanwhile; say which.
        await get_scoped(session, actor, Group, group_id, Permission.MANAGE_GROUPS, label="Group")
        await get_referenced(
            session, Member, member_ids, workspace_id, field="memberIds", label="member"
        )
        raise
    return group


async def remove_group_members(
    *, session: AsyncSession, actor: Principal, group_id: uuid.UUID, member_ids: list[uuid.UUID]
) -> Group:
    """Remove members from a group; access they hold by direct grant stays."""
    group = await get_scoped(
        session, actor, Group, group_id, Permission.MANAGE_GROUPS, label="Group"
    )
    members = await get_referenced(
        session, Member, member_ids, group.workspace_id, field="memberIds", label="member"
    )
    ids = [m.id for m in members]
    async with transaction(session):
        await session.execute(
            delete(GroupMember).where(
                col(GroupMember.group_id) == group.id, col(GroupMember.member_id).in_(ids)
            )
        )
        changes.changed(session, changes.tag("group", group.id))
        record(
            session,
            actor=actor,
            workspace_id=group.workspace_id,
            action=AuditAction.REMOVE_GROUP_MEMBERS,
            target_type="Group",
            target_id=group.id,
            before={"memberIds": [str(i) for i in ids]},
        )
    return group


async def list_groups(
    *,
    session: AsyncSession,
    actor: Principal,
    workspace_id: uuid.UUID,
    search: str | None,
    args: PageArgs,
) -> Page[Group]:
    """The workspace's groups by name."""
    actor.require(workspace_id, Permission.GET_GROUP)
    query = select(Group).where(col(Group.workspace_id) == workspace_id)
    if search:
        # autoescape: a "_" or "%" in the search is a character, not a wildcard
        query = query.where(fold(col(Group.name)).contains(search.strip().lower(), autoescape=True))
    return await paginate(session, query, sort=[col(Group.name), col(Group.id)], args=args)
