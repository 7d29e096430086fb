"""First start: a workspace, its owner, and an Owner API key to begin with."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.permissions import OWNER_ROLE
from accessplane.auth.principals import SYSTEM
from accessplane.auth.tokens import TokenKind, issue_token
from accessplane.db import transaction
from accessplane.models import ApiAccess, Member, Workspace
from accessplane.services.audit import AuditAction, record
from accessplane.services.members import get_or_create_user
from accessplane.services.uniqueness import check_unique
from accessplane.services.validation import Checks
from accessplane.services.workspaces import create_workspace_rows


@dataclass(frozen=True, slots=True)
class Bootstrap:
    """What ``init`` made; ``token`` is the only copy of the key's plaintext."""

    workspace: Workspace
    api_access: ApiAccess
    token: str


async def is_empty(session: AsyncSession) -> bool:
    """Whether no workspace exists yet."""
    return await session.scalar(select(col(Workspace.id)).limit(1)) is None


async def init_workspace(
    session: AsyncSession, *, name: str, owner_email: str, secret: bytes
) -> Bootstrap:
    """Create a workspace with ``owner_email`` as Owner and an Owner API key. A workspace of
    the same name (compared case-insensitively) is refused: running ``init`` twice must not
    leave two workspaces nobody can tell apart."""
    checks = Checks()
    owner_email = checks.email("ownerEmail", owner_email)
    name = checks.text("name", name, max_length=100)
    await check_unique(
        checks, session, col(Workspace.name), name, within=true(), label="A workspace"
    )
    checks.raise_if_any()
    async with transaction(session):
        workspace, roles = await create_workspace_rows(session, name=name)
        owner_role = roles[OWNER_ROLE]
        user = await get_or_create_user(session, owner_email)
        session.add(Member(workspace_id=workspace.id, user_id=user.id, role_id=owner_role.id))
        issued = issue_token(TokenKind.API_ACCESS, secret)
        key = ApiAccess(
            workspace_id=workspace.id,
            name="Bootstrap owner key",
            description="Created by `accessplane init`; delete it once you have your own.",
            role_id=owner_role.id,
            token_digest=issued.digest,
            token_hint=issued.hint,
            created_by_name="system",
        )
        session.add(key)
        record(
            session,
            actor=SYSTEM,
            workspace_id=workspace.id,
            action=AuditAction.CREATE_WORKSPACE,
            target_type="Workspace",
            target_id=workspace.id,
            after={"name": workspace.name, "slug": workspace.slug, "owner": owner_email},
        )
        record(
            session,
            actor=SYSTEM,
            workspace_id=workspace.id,
            action=AuditAction.CREATE_API_ACCESS,
            target_type="ApiAccess",
            target_id=key.id,
            after={"name": key.name, "role": OWNER_ROLE, "tokenHint": key.token_hint},
        )
    return Bootstrap(workspace=workspace, api_access=key, token=issued.plaintext)
