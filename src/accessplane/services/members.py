"""Members: people added to a workspace by email, each with one role."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.permissions import OWNER_ROLE, Permission
from accessplane.auth.principals import Principal
from accessplane.db import transaction
from accessplane.db.sql import delete_row, fold, insert_new
from accessplane.errors import InputError, NotFound, UserErrorCode
from accessplane.models import (
    GroupMember,
    Member,
    MemberKind,
    NotificationKind,
    Role,
    User,
    Workspace,
)
from accessplane.notify.links import ConsoleLinks
from accessplane.services.audit import AuditAction, record
from accessplane.services.notifications import enqueue, subjects_of
from accessplane.services.pagination import Page, PageArgs, paginate
from accessplane.services.roles import (
    check_holder_manageable,
    check_role_assignable,
    recheck_role,
    role_in_workspace,
)
from accessplane.services.scoping import get_scoped
from accessplane.services.validation import Checks
from accessplane.settings import get_settings

# The console's rule for a consumer: requestAccess, and nothing beyond getProduct.
_CONSUMER_PERMISSIONS = frozenset({Permission.GET_PRODUCT.value, Permission.REQUEST_ACCESS.value})


async def _is_last_owner(session: AsyncSession, member: Member) -> bool:
    """Whether the member is the workspace's only Owner. The Owners' rows stay locked until the
    caller's transaction ends (PostgreSQL), so two concurrent demotions cannot both pass; SQLite
    lets one writer at a time commit and refuses the other's stale read."""
    owner_role = await session.scalar(
        select(col(Role.id)).where(
            col(Role.workspace_id) == member.workspace_id,
            col(Role.name) == OWNER_ROLE,
            col(Role.built_in),
        )
    )
    if member.role_id != owner_role:
        return False
    owners = (
        await session.scalars(
            select(col(Member.id))
            .where(
                col(Member.workspace_id) == member.workspace_id, col(Member.role_id) == owner_role
            )
            .order_by(col(Member.id))  # one locking order: concurrent callers cannot deadlock
            .with_for_update()
        )
    ).all()
    return len(owners) == 1


async def _check_manageable(
    session: AsyncSession, checks: Checks, actor: Principal, member: Member
) -> None:
    current = await session.get(Role, member.role_id)
    assert current is not None  # roles held by members cannot be deleted
    check_holder_manageable(checks, actor, current)


async def get_or_create_user(session: AsyncSession, email: str, name: str = "") -> User:
    """The user with this (lower-cased) email, created if new."""
    user = await session.scalar(select(User).where(col(User.email) == email))
    if user is None:
        # ON CONFLICT DO NOTHING: a concurrent request creating the same user is no error.
        await session.execute(insert_new(session, User, [User(email=email, name=name)]))
        user = await session.scalar(select(User).where(col(User.email) == email))
        assert user is not None
    return user


async def add_member(
    *,
    session: AsyncSession,
    actor: Principal,
    workspace_id: uuid.UUID,
    email: str,
    role_id: uuid.UUID,
    name: str = "",
    links: ConsoleLinks | None = None,
) -> Member:
    """Add a person by email with a role the actor may hand out; the user is created if new.
    The person is mailed an invitation with a link to the console's sign-in (``links``; by
    default from the process's settings), in the same transaction: on every new membership,
    whether or not the user is known already, since this workspace is new to them."""
    actor.require(workspace_id, Permission.MANAGE_MEMBERS)
    actor.require(workspace_id, Permission.GET_ROLE)
    checks = Checks()
    email = checks.email("email", email)
    name = checks.text("name", name, max_length=200, required=False)
    role = await role_in_workspace(session, checks, role_id, workspace_id)
    if role is not None:
        check_role_assignable(checks, actor, role)
    if email and not checks.errors:
        await _check_not_member(checks, session, workspace_id, email)
    checks.raise_if_any()
    assert role is not None
    role_name, consumer = role.name, _is_consumer_role(role)
    try:
        async with transaction(session):
            user = await get_or_create_user(session, email, name)
            member = Member(
                workspace_id=workspace_id, user_id=user.id, role_id=role_id, kind=MemberKind.HUMAN
            )
            session.add(member)
            record(
                session,
                actor=actor,
                workspace_id=workspace_id,
                action=AuditAction.ADD_MEMBER,
                target_type="Member",
                target_id=member.id,
                after={"email": email, "role": role_name},
            )
            await _invite(session, member, email, role_name, consumer=consumer, links=links)
    except IntegrityError:
        # A concurrent request deleted the role, or added the same person, first.
        await recheck_role(session, role_id)
        checks = Checks()
        await _check_not_member(checks, session, workspace_id, email)
        checks.raise_if_any()
        raise
    return member


def _is_consumer_role(role: Role) -> bool:
    names = {str(p.get("name")) for p in role.permissions}
    return Permission.REQUEST_ACCESS.value in names and names <= _CONSUMER_PERMISSIONS


async def _invite(
    session: AsyncSession,
    member: Member,
    email: str,
    role_name: str,
    *,
    consumer: bool,
    links: ConsoleLinks | None,
) -> None:
    """Queue the invitation mail to the new member."""
    workspace = await session.get(Workspace, member.workspace_id)
    assert workspace is not None  # the actor holds a role in it
    console = links or ConsoleLinks.from_settings(get_settings())
    enqueue(
        session,
        workspace_id=member.workspace_id,
        kind=NotificationKind.INVITE,
        recipient=email,
        context={
            "workspace_name": workspace.name,
            "role_name": role_name,
            "consumer": consumer,
            "console_url": console.sign_in(workspace_id=member.workspace_id),
        },
        subjects=await subjects_of(session, member.workspace_id),
    )


async def _check_not_member(
    checks: Checks, session: AsyncSession, workspace_id: uuid.UUID, email: str
) -> None:
    existing = await session.scalar(
        select(col(Member.id))
        .join(User, col(User.id) == col(Member.user_id))
        .where(col(Member.workspace_id) == workspace_id, col(User.email) == email)
    )
    if existing is not None:
        checks.add("email", f"{email} is a member already.", UserErrorCode.DUPLICATE)


async def update_member_role(
    *, session: AsyncSession, actor: Principal, member_id: uuid.UUID, role_id: uuid.UUID
) -> Member:
    """Give a member another role; the last Owner keeps theirs."""
    member = await get_scoped(
        session, actor, Member, member_id, Permission.MANAGE_MEMBERS, label="Member"
    )
    actor.require(member.workspace_id, Permission.GET_ROLE)
    checks = Checks()
    await _check_manageable(session, checks, actor, member)
    role = await role_in_workspace(session, checks, role_id, member.workspace_id)
    if role is not None:
        check_role_assignable(checks, actor, role)
        if role.id != member.role_id and await _is_last_owner(session, member):
            checks.add(
                "roleId", "The last Owner cannot be given another role.", UserErrorCode.LAST_OWNER
            )
    checks.raise_if_any()
    assert role is not None
    previous = await session.get(Role, member.role_id)
    try:
        async with transaction(session):
            member.role_id = role.id
            session.add(member)
            record(
                session,
                actor=actor,
                workspace_id=member.workspace_id,
                action=AuditAction.UPDATE_MEMBER_ROLE,
                target_type="Member",
                target_id=member.id,
                before={"role": previous.name if previous else None},
                after={"role": role.name},
            )
    except IntegrityError:
        await recheck_role(session, role_id)  # a concurrent deleteRole won
        raise
    return member


async def remove_member(*, session: AsyncSession, actor: Principal, member_id: uuid.UUID) -> Member:
    """Remove a member with their direct grants and group memberships."""
    member = await get_scoped(
        session, actor, Member, member_id, Permission.MANAGE_MEMBERS, label="Member"
    )
    checks = Checks()
    await _check_manageable(session, checks, actor, member)
    checks.raise_if_any()
    if await _is_last_owner(session, member):
        raise InputError.one("id", "The last Owner cannot be removed.", UserErrorCode.LAST_OWNER)
    user = await session.get(User, member.user_id)
    async with transaction(session):
        record(
            session,
            actor=actor,
            workspace_id=member.workspace_id,
            action=AuditAction.REMOVE_MEMBER,
            target_type="Member",
            target_id=member.id,
            before={"email": user.email if user else None},
        )
        # Grants and group memberships cascade.
        if not await delete_row(session, member):  # a concurrent removeMember won
            raise NotFound("Member not found.")
    return member


@dataclass(frozen=True, slots=True)
class MemberFilter:
    """Narrow members by role, group and a name/email search."""

    role_ids: list[uuid.UUID] | None = None
    group_ids: list[uuid.UUID] | None = None
    search: str | None = None


async def list_members(
    *,
    session: AsyncSession,
    actor: Principal,
    workspace_id: uuid.UUID,
    filter: MemberFilter,
    args: PageArgs,
) -> Page[Member]:
    """The workspace's members, by email."""
    actor.require(workspace_id, Permission.GET_MEMBER)
    query = (
        select(Member)
        .join(User, col(User.id) == col(Member.user_id))
        .where(col(Member.workspace_id) == workspace_id)
    )
    if filter.role_ids:
        query = query.where(col(Member.role_id).in_(filter.role_ids))
    if filter.group_ids:
        query = query.where(
            col(Member.id).in_(
                select(col(GroupMember.member_id)).where(
                    col(GroupMember.group_id).in_(filter.group_ids)
                )
            )
        )
    if filter.search:
        # autoescape: a "_" or "%" in the search is a character, not a wildcard
        term = filter.search.strip().lower()
        query = query.where(
            or_(
                fold(col(User.email)).contains(term, autoescape=True),
                fold(col(User.name)).contains(term, autoescape=True),
            )
        )
    return await paginate(session, query, sort=[col(User.email), col(Member.id)], args=args)
