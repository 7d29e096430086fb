"""What ``accessplane export`` and ``accessplane apply`` run (imported by those commands only).

Without a key the command line acts as the system principal with the Owner role of the one
workspace it names, audited as ``SYSTEM``: whoever can run it can read the database anyway.
With ``--key`` (or ``ACCESSPLANE_KEY``) it acts as that API key, so its role limits what the
file may change and the audit log names the key.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from accessplane.auth.principals import Principal
from accessplane.models import Workspace
from accessplane.services.workspace_config import (
    ApplyResult,
    apply_workspace_config,
    export_workspace_config,
    find_workspace,
    system_principal,
)
from accessplane.services.workspace_config_file import parse_config
from accessplane.settings import Settings
from accessplane.signin.authenticate import principal_for_api_key


@asynccontextmanager
async def _acting(
    engine: AsyncEngine, settings: Settings, reference: str, key: str | None
) -> AsyncIterator[tuple[AsyncSession, Workspace, Principal]]:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        workspace = await find_workspace(session, reference)
        if key:
            secret = settings.secret_key.get_secret_value().encode()
            principal = await principal_for_api_key(session, key, secret)
        else:
            principal = await system_principal(session, workspace.id)
        yield session, workspace, principal


async def export(engine: AsyncEngine, settings: Settings, reference: str, key: str | None) -> str:
    """The workspace's file."""
    async with _acting(engine, settings, reference, key) as (session, workspace, principal):
        return await export_workspace_config(
            session=session, actor=principal, workspace_id=workspace.id
        )


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    text: str
    workspace: str | None
    key: str | None
    dry_run: bool
    prune: bool


def target(options: ApplyOptions) -> str | None:
    """The workspace to apply to: ``--workspace``, else the file's own."""
    return options.workspace or parse_config(options.text).workspace


async def apply(engine: AsyncEngine, settings: Settings, options: ApplyOptions) -> ApplyResult:
    """Apply the file (or plan it, for a dry run)."""
    reference = target(options)
    assert reference is not None
    async with _acting(engine, settings, reference, options.key) as (session, ws, principal):
        return await apply_workspace_config(
            session=session,
            actor=principal,
            workspace_id=ws.id,
            text=options.text,
            secret=settings.secret_key.get_secret_value().encode(),
            dry_run=options.dry_run,
            prune=options.prune,
        )


def open_private_file(path: Path) -> int:
    """Create ``path`` (which must not exist) readable by its owner only (0600)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(descriptor, 0o600)  # whatever the umask
    return descriptor
