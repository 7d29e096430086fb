"""Workspaces: creating one makes its built-in roles and its first Owner."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.permissions import OWNER_ROLE
from accessplane.auth.principals import Principal
from accessplane.db import transaction
from accessplane.errors import Forbidden, UserErrorCode
from accessplane.models import Member, Role, Workspace
from accessplane.services.audit import AuditAction, record
from accessplane.services.roles import built_in_roles
from accessplane.services.validation import Checks, slugify


async def _free_slug(session: AsyncSession, wanted: str) -> str:
    slug, n = wanted, 1
    while (
        await session.scalar(select(col(Workspace.id)).where(col(Workspace.slug) == slug))
        is not None
    ):
        n += 1
        suffix = f"-{n}"
        slug = wanted[: 63 - len(suffix)] + suffix
    return slug


async def create_workspace_rows(
    session: AsyncSession, *, name: str, slug: str | None = None
) -> tuple[Workspace, dict[str, Role]]:
    """Add a workspace and its built-in roles to the session (the caller commits)."""
    checks = Checks()
    name = checks.text("name", name, max_length=100)
    if slug is not None:
        slug = checks.slug("slug", slug)
        if slug and await session.scalar(
            select(col(Workspace.id)).where(col(Workspace.slug) == slug)
        ):
            checks.add("slug", f"The slug '{slug}' is taken.", UserErrorCode.DUPLICATE)
    checks.raise_if_any()
    workspace = Workspace(name=name, slug=slug or await _free_slug(session, slugify(name)))
    session.add(workspace)
    await session.flush()  # the roles reference the workspace row
    roles = built_in_roles(workspace.id)
    session.add_all(roles)
    await session.flush()  # members and keys made next reference the roles
    return workspace, {role.name: role for role in roles}


async def create_workspace(
    *, session: AsyncSession, actor: Principal, name: str, slug: str | None = None
) -> Workspace:
    """A person creates a workspace and becomes its Owner."""
    if actor.user_id is None:
        raise Forbidden("Only people can create workspaces; API Access keys belong to one.")
    async with transaction(session):
        workspace, roles = await create_workspace_rows(session, name=name, slug=slug)
        owner = Member(
            workspace_id=workspace.id, user_id=actor.user_id, role_id=roles[OWNER_ROLE].id
        )
        session.add(owner)
        record(
            session,
            actor=actor,
            workspace_id=workspace.id,
            action=AuditAction.CREATE_WORKSPACE,
            target_type="Workspace",
            target_id=workspace.id,
            after={"name": workspace.name, "slug": workspace.slug},
            actor_member_id=owner.id,
        )
    return workspace


async def list_workspaces(session: AsyncSession, actor: Principal) -> list[Workspace]:
    """The workspaces the principal belongs to, by name."""
    ids: list[uuid.UUID] = list(actor.memberships)
    if not ids:
        return []
    rows = await session.scalars(
        select(Workspace)
        .where(col(Workspace.id).in_(ids))
        .order_by(col(Workspace.name), col(Workspace.id))
    )
    return list(rows.all())
