"""Roles: built-in ones per workspace, custom ones with constrained permissions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.patterns import MAX_PATTERN_LENGTH, pattern_error
from accessplane.auth.permissions import BUILT_IN_ROLES, CONSTRAINABLE, Permission
from accessplane.auth.principals import Grant, Principal, grants_from_role
from accessplane.db import transaction
from accessplane.db.sql import delete_row
from accessplane.errors import InputError, NotFound, UserErrorCode
from accessplane.models import ApiAccess, Member, Role
from accessplane.services.audit import AuditAction, record
from accessplane.services.pagination import Page, PageArgs, paginate
from accessplane.services.scoping import get_scoped
from accessplane.services.uniqueness import check_unique_name
from accessplane.services.validation import Checks, excerpt

LABEL = "A role"  # how userErrors name this kind of object
# Each permission of the catalogue once, with room for repeats; more is not a role.
MAX_PERMISSION_ENTRIES = 2 * len(Permission)


@dataclass(frozen=True, slots=True)
class PermissionSpec:
    """A permission asked for in a role, with its optional constraint."""

    name: str
    name_pattern: str | None = None


def built_in_roles(workspace_id: uuid.UUID) -> list[Role]:
    """The built-in roles of a new workspace."""
    return [
        Role(
            workspace_id=workspace_id,
            name=name,
            description=description,
            permissions=[{"name": p.value} for p in sorted(permissions)],
            all_apis=all_apis,
            built_in=True,
        )
        for name, (description, permissions, all_apis) in BUILT_IN_ROLES.items()
    ]


def _covers(held: Grant, wanted: Grant) -> bool:
    """Whether holding ``held`` entitles one to hand out ``wanted``: an unconstrained grant
    covers anything; a constrained one covers only the very same constraint (regular
    languages are not compared)."""
    return not held.constraints or dict(held.constraints) == dict(wanted.constraints)


def check_no_escalation(
    checks: Checks,
    actor: Principal,
    workspace_id: uuid.UUID,
    grants: dict[Permission, Grant],
    all_apis: bool,
    *,
    field: str,
) -> None:
    """A principal never hands out a permission, or a wider form of one, it does not hold."""
    membership = actor.membership(workspace_id)
    missing = [
        p.value
        for p, wanted in grants.items()
        if p not in membership.grants or not _covers(membership.grants[p], wanted)
    ]
    if missing:
        checks.add(
            field,
            "You cannot hand out permissions you do not hold: " + ", ".join(sorted(missing)),
            UserErrorCode.OUT_OF_SCOPE_PERMISSION,
        )
    if all_apis and not membership.all_apis:
        checks.add(
            "allApis",
            "You cannot hand out access to all APIs without holding it.",
            UserErrorCode.OUT_OF_SCOPE_PERMISSION,
        )


async def role_in_workspace(
    session: AsyncSession, checks: Checks, role_id: uuid.UUID, workspace_id: uuid.UUID
) -> Role | None:
    """A role named in an input (``roleId``), or a userError if it is not of the workspace."""
    role = await session.get(Role, role_id)
    if role is None or role.workspace_id != workspace_id:
        checks.add("roleId", "Role not found in this workspace.", UserErrorCode.NOT_FOUND)
        return None
    return role


def check_holder_manageable(
    checks: Checks, actor: Principal, role: Role, *, field: str = "id"
) -> None:
    """Changing or removing a member (or a key) needs all the power of its current role: an
    Admin cannot demote or remove an Owner."""
    membership = actor.membership(role.workspace_id)
    grants = grants_from_role(role.permissions)
    missing = [
        p.value
        for p, held in grants.items()
        if p not in membership.grants or not _covers(membership.grants[p], held)
    ]
    if missing or (role.all_apis and not membership.all_apis):
        checks.add(
            field,
            f"Its role '{role.name}' holds more than you do"
            + (": " + ", ".join(sorted(missing)) if missing else " (access to all APIs)")
            + "; only someone holding all of it may change or remove it.",
            UserErrorCode.OUT_OF_SCOPE_PERMISSION,
        )


def check_role_assignable(
    checks: Checks, actor: Principal, role: Role, *, field: str = "roleId"
) -> None:
    """Assigning a role (to a member or an API Access) may not escalate the assigner."""
    check_no_escalation(
        checks,
        actor,
        role.workspace_id,
        grants_from_role(role.permissions),
        role.all_apis,
        field=field,
    )


def _parse_permissions(checks: Checks, specs: Sequence[PermissionSpec]) -> dict[Permission, Grant]:
    grants: dict[Permission, Grant] = {}
    if not checks.at_most("permissions", len(specs), MAX_PERMISSION_ENTRIES, "permissions"):
        return grants
    for spec in specs:
        try:
            permission = Permission(spec.name)
        except ValueError:
            checks.add(
                "permissions",
                f"Unknown permission {excerpt(spec.name)}.",
                UserErrorCode.INVALID,
            )
            continue
        constraints: dict[str, str] = {}
        if spec.name_pattern is not None:
            if CONSTRAINABLE.get(permission) != "namePattern":
                checks.add(
                    "permissions",
                    f"'{spec.name}' takes no namePattern.",
                    UserErrorCode.INVALID,
                )
                continue
            if len(spec.name_pattern) > MAX_PATTERN_LENGTH:  # before compiling it
                checks.add(
                    "permissions",
                    f"namePattern must be at most {MAX_PATTERN_LENGTH} characters.",
                    UserErrorCode.TOO_LONG,
                )
                continue
            error = pattern_error(spec.name_pattern)
            if error is not None:
                checks.add(
                    "permissions",
                    f"namePattern of '{spec.name}' is {error}.",
                    UserErrorCode.INVALID,
                )
                continue
            constraints["namePattern"] = spec.name_pattern
        grants[permission] = Grant(permission, constraints)
    return grants


def _stored(grants: dict[Permission, Grant]) -> list[dict[str, Any]]:
    return [{"name": p.value, **g.constraints} for p, g in sorted(grants.items())]


def role_summary(role: Role) -> dict[str, Any]:
    return {"name": role.name, "permissions": role.permissions, "allApis": role.all_apis}


async def create_role(
    *,
    session: AsyncSession,
    actor: Principal,
    workspace_id: uuid.UUID,
    name: str,
    description: str = "",
    permissions: Sequence[PermissionSpec],
    all_apis: bool = False,
) -> Role:
    """Create a custom role holding only permissions the actor holds."""
    actor.require(workspace_id, Permission.CREATE_ROLE)
    checks = Checks()
    name = checks.text("name", name, max_length=100)
    description = checks.text("description", description, max_length=1000, required=False)
    grants = _parse_permissions(checks, permissions)
    check_no_escalation(checks, actor, workspace_id, grants, all_apis, field="permissions")
    await check_unique_name(checks, session, Role, workspace_id, name, label=LABEL)
    checks.raise_if_any()
    async with transaction(session):
        role = Role(
            workspace_id=workspace_id,
            name=name,
            description=description,
            permissions=_stored(grants),
            all_apis=all_apis,
        )
        session.add(role)
        record(
            session,
            actor=actor,
            workspace_id=workspace_id,
            action=AuditAction.CREATE_ROLE,
            target_type="Role",
            target_id=role.id,
            after=role_summary(role),
        )
    return role


async def update_role(
    *,
    session: AsyncSession,
    actor: Principal,
    role_id: uuid.UUID,
    name: str | None = None,
    description: str | None = None,
    permissions: Sequence[PermissionSpec] | None = None,
    all_apis: bool | None = None,
) -> Role:
    """Edit a custom role; fields left ``None`` keep their value."""
    role = await get_scoped(session, actor, Role, role_id, Permission.UPDATE_ROLE, label="Role")
    checks = Checks()
    if role.built_in:
        raise InputError.one("id", "Built-in roles cannot be changed.", UserErrorCode.BUILT_IN)
    before = role_summary(role)
    new_name = role.name if name is None else checks.text("name", name, max_length=100)
    new_description = (
        role.description
        if description is None
        else checks.text("description", description, max_length=1000, required=False)
    )
    grants = (
        grants_from_role(role.permissions)
        if permissions is None
        else _parse_permissions(checks, permissions)
    )
    new_all_apis = role.all_apis if all_apis is None else all_apis
    if permissions is not None or all_apis is not None:
        check_no_escalation(
            checks, actor, role.workspace_id, grants, new_all_apis, field="permissions"
        )
    if name is not None:
        await check_unique_name(
            checks, session, Role, role.workspace_id, new_name, role.id, label=LABEL
        )
    checks.raise_if_any()
    async with transaction(session):
        role.name, role.description = new_name, new_description
        role.permissions, role.all_apis = _stored(grants), new_all_apis
        session.add(role)
        record(
            session,
            actor=actor,
            workspace_id=role.workspace_id,
            action=AuditAction.UPDATE_ROLE,
            target_type="Role",
            target_id=role.id,
            before=before,
            after=role_summary(role),
        )
    return role


async def _check_not_held(session: AsyncSession, role_id: uuid.UUID) -> None:
    """IN_USE if a member or an API Access holds the role."""
    holders = await session.scalar(select(func.count()).where(col(Member.role_id) == role_id))
    keys = await session.scalar(select(func.count()).where(col(ApiAccess.role_id) == role_id))
    if holders or keys:
        raise InputError.one(
            "id",
            f"The role is held by {holders} member(s) and {keys} API Access key(s); "
            "assign them another role first.",
            UserErrorCode.IN_USE,
        )


async def delete_role(*, session: AsyncSession, actor: Principal, role_id: uuid.UUID) -> Role:
    """Delete a custom role that no member and no API Access holds."""
    role = await get_scoped(session, actor, Role, role_id, Permission.DELETE_ROLE, label="Role")
    if role.built_in:
        raise InputError.one("id", "Built-in roles cannot be deleted.", UserErrorCode.BUILT_IN)
    await _check_not_held(session, role.id)
    try:
        async with transaction(session):
            record(
                session,
                actor=actor,
                workspace_id=role.workspace_id,
                action=AuditAction.DELETE_ROLE,
                target_type="Role",
                target_id=role.id,
                before=role_summary(role),
            )
            if not await delete_row(session, role):  # a concurrent deleteRole won
                raise NotFound("Role not found.")
    except IntegrityError:
        # The foreign key: a concurrent request gave the role to someone after the check.
        await _check_not_held(session, role_id)
        raise
    return role


async def recheck_role(session: AsyncSession, role_id: uuid.UUID) -> None:
    """After a write assigning ``role_id`` met an integrity error: NOT_FOUND on ``roleId`` if
    the role is gone (a concurrent deleteRole won), as if the requests had come one after the
    other. Returns when it still exists, for the caller to re-raise what it caught."""
    if await session.scalar(select(col(Role.id)).where(col(Role.id) == role_id)) is None:
        raise InputError.one("roleId", "Role not found in this workspace.", UserErrorCode.NOT_FOUND)


async def list_roles(
    *, session: AsyncSession, actor: Principal, workspace_id: uuid.UUID, args: PageArgs
) -> Page[Role]:
    """The workspace's roles by name."""
    actor.require(workspace_id, Permission.GET_ROLE)
    query = select(Role).where(col(Role.workspace_id) == workspace_id)
    return await paginate(session, query, sort=[col(Role.name), col(Role.id)], args=args)
