"""Configuration as code: export a workspace as a file, and apply a file to a workspace.

Apply compares the file with the workspace (``workspace_config_state``), plans a change per
object (create, update; delete only when pruning) and runs the plan through the services, as
the principal who applies it: every permission, name rule and audit event applies. All the
services' transactions become one (``db.unit_of_work``): the file is applied whole or not at
all, and a dry run rolls it back. The plan is ordered so that what an object refers to exists
before it and outlives it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

from pydantic.alias_generators import to_camel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.permissions import OWNER_ROLE, Permission
from accessplane.auth.principals import SYSTEM, Membership, Principal, grants_from_role
from accessplane.db.engine import unit_of_work
from accessplane.errors import FieldError, Forbidden, InputError, NotFound, UserErrorCode
from accessplane.models import Role, Workspace
from accessplane.services.access_profiles import parse_allowed_ips
from accessplane.services.validation import Checks
from accessplane.services.workspace_config_file import WorkspaceConfig, dump_config, parse_config
from accessplane.services.workspace_config_state import State, read_state
from accessplane.services.workspace_config_steps import (
    Change,
    Context,
    Credential,
    Step,
    plan_steps,
)

# The services name their fields after the GraphQL inputs; the file names them so.
_FIELD_NAMES = {
    "roleId": "role",
    "memberIds": "members",
    "groupIds": "groups",
    "apiIds": "apis",
    "productIds": "products",
    "planId": "plan",
    "clientId": "tokenClientId",
}


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """The plan, and what applying it made: the tokens of new apps (their only copies)."""

    changes: list[Change]
    credentials: list[Credential]
    applied: bool  # false for a dry run, and when there was nothing to change


def _prefixed(error: InputError, path: str) -> InputError:
    def name(field_name: str | None) -> str:
        if not field_name:
            return path
        if field_name.startswith(path):  # a step's own error names its whole path
            return field_name
        # Services name fields by domain path (time_window.time_zone); files in camelCase.
        parts = [to_camel(part) for part in field_name.split(".")]
        parts[0] = _FIELD_NAMES.get(parts[0], parts[0])
        return ".".join([path, *parts])

    return InputError([FieldError(name(e.field), e.message, e.code) for e in error.errors])


async def _run(context: Context, steps: list[Step]) -> None:
    for step in steps:
        try:
            await step.run(context)
        except InputError as error:
            raise _prefixed(error, step.path) from None
        except (Forbidden, NotFound) as error:
            raise type(error)(f"{step.change.line()}: {error.message}", **error.details) from None


def _check_workspace(config: WorkspaceConfig, state: State) -> None:
    if config.workspace is not None and config.workspace != state.workspace.slug:
        raise InputError.one(
            "workspace",
            f"The file is for the workspace '{config.workspace}', not '{state.workspace.slug}'.",
            UserErrorCode.INVALID,
        )


def _normalise(config: WorkspaceConfig) -> WorkspaceConfig:
    """Allowed addresses as the services store them (``10.0.0.1/32`` is ``10.0.0.1``), so that
    a second apply finds nothing to change."""
    checks = Checks()
    for i, client in enumerate(config.clients or []):
        for j, app in enumerate(client.apps):
            path = f"clients[{i}].apps[{j}].allowedIps"
            app.allowed_ips = sorted(parse_allowed_ips(checks, app.allowed_ips, path))
    checks.raise_if_any()
    return config


def _duplicates(config: WorkspaceConfig) -> list[FieldError]:
    """Two objects of a kind with one name: the second is an error."""
    errors: list[FieldError] = []

    def check(section: str, items: list[Any] | None, key: str) -> None:
        seen: set[str] = set()
        for i, item in enumerate(items or []):
            value = str(getattr(item, key)).casefold()
            if value in seen:
                errors.append(
                    FieldError(f"{section}[{i}].{key}", "Named twice.", UserErrorCode.DUPLICATE)
                )
            seen.add(value)

    check("roles", config.roles, "name")
    check("members", config.members, "email")
    check("groups", config.groups, "name")
    check("apis", config.apis, "identifier")
    check("apis", config.apis, "name")
    check("plans", config.plans, "name")
    check("products", config.products, "name")
    check("clients", config.clients, "name")
    for i, client in enumerate(config.clients or []):
        check(f"clients[{i}].apps", client.apps, "name")
    return errors


def plan_changes(config: WorkspaceConfig, state: State, *, prune: bool) -> list[Step]:
    """The steps that make the workspace match the file, in the order they must run."""
    _check_workspace(config, state)
    errors = _duplicates(config)
    if errors:
        raise InputError(errors)
    return plan_steps(_normalise(config), state, prune=prune)


async def export_workspace_config(
    *, session: AsyncSession, actor: Principal, workspace_id: uuid.UUID
) -> str:
    """The workspace's configuration as YAML, sorted and without secrets."""
    state = await read_state(session, actor=actor, workspace_id=workspace_id)
    return dump_config(state.config)


async def apply_workspace_config(
    *,
    session: AsyncSession,
    actor: Principal,
    workspace_id: uuid.UUID,
    text: str,
    secret: bytes,
    dry_run: bool = False,
    prune: bool = False,
) -> ApplyResult:
    """Make the workspace match the file in one transaction, through the services as
    ``actor``; a dry run plans and checks everything, then writes nothing. Needs
    ``updateWorkspace`` besides each change's own permission."""
    actor.require(workspace_id, Permission.UPDATE_WORKSPACE)  # before any reading
    state = await read_state(session, actor=actor, workspace_id=workspace_id)
    config = parse_config(text)
    steps = plan_changes(config, state, prune=prune)
    changes = [step.change for step in steps]
    if not steps:
        await session.rollback()  # end the reading transaction
        return ApplyResult(changes=[], credentials=[], applied=False)
    context = Context(session, actor, workspace_id, secret, state.ids)
    async with unit_of_work(session, commit=not dry_run):
        await _run(context, steps)
    if dry_run:
        return ApplyResult(changes=changes, credentials=[], applied=False)
    return ApplyResult(changes=changes, credentials=context.credentials, applied=True)


async def find_workspace(session: AsyncSession, reference: str) -> Workspace:
    """A workspace by id or slug (for the command line), or NOT_FOUND."""
    try:
        workspace = await session.get(Workspace, uuid.UUID(reference))
    except ValueError:
        workspace = await session.scalar(select(Workspace).where(col(Workspace.slug) == reference))
    if workspace is None:
        raise NotFound(f"No workspace '{reference}'.")
    return workspace


async def system_principal(session: AsyncSession, workspace_id: uuid.UUID) -> Principal:
    """The command line's principal without a key: the system, with the Owner role in this one
    workspace (audited as SYSTEM, named "system"). A member of no workspace, so it is granted
    nothing it creates."""
    role = await session.scalar(
        select(Role).where(
            col(Role.workspace_id) == workspace_id,
            col(Role.name) == OWNER_ROLE,
            col(Role.built_in).is_(True),
        )
    )
    if role is None:
        raise NotFound("Workspace not found.")
    membership = Membership(
        workspace_id=workspace_id,
        role_id=role.id,
        role_name=role.name,
        grants=grants_from_role(role.permissions),
        all_apis=role.all_apis,
    )
    return replace(SYSTEM, memberships={workspace_id: membership})
