"""Row-level rules: what a principal may load, by workspace and permission (cf. NetBox's
``restrict()``). Another workspace's object and a missing one look the same: NOT_FOUND."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane import access_rule
from accessplane.auth.permissions import Permission
from accessplane.auth.principals import Principal
from accessplane.errors import FieldError, InputError, NotFound, UserErrorCode
from accessplane.models import Api
from accessplane.services.tenancy import load_in_workspace, workspace_of
from accessplane.services.validation import Checks

M = TypeVar("M")


async def get_scoped(
    session: AsyncSession,
    actor: Principal,
    model: type[M],
    object_id: uuid.UUID,
    permission: Permission,
    *,
    label: str,
) -> M:
    """Load the subject of an operation, or raise NOT_FOUND / FORBIDDEN."""
    obj = await load_in_workspace(session, actor, model, object_id, label=label)
    workspace_id = workspace_of(obj)
    assert workspace_id is not None  # load_in_workspace found it in one of the actor's
    actor.require(workspace_id, permission)
    return obj


async def get_referenced(
    session: AsyncSession,
    model: type[Any],
    ids: list[uuid.UUID],
    workspace_id: uuid.UUID,
    *,
    field: str,
    label: str,
    checks: Checks | None = None,
) -> list[Any]:
    """Load objects named in an input (not its subject): unknown ones are a userError, raised at
    once, or with ``checks`` added to the other fields' errors (and nothing returned)."""
    if not ids:
        return []
    unique_ids = list(dict.fromkeys(ids))
    rows = (
        await session.scalars(
            select(model).where(model.id.in_(unique_ids), model.workspace_id == workspace_id)
        )
    ).all()
    found = {row.id for row in rows}
    missing = [i for i in unique_ids if i not in found]
    if missing:
        error = FieldError(
            field,
            f"{len(missing)} {label}(s) not found in this workspace.",
            UserErrorCode.NOT_FOUND,
        )
        if checks is None:
            raise InputError([error])
        checks.errors.append(error)
        return []
    by_id = {row.id: row for row in rows}
    return [by_id[i] for i in unique_ids]


def accessible_api_clause(actor: Principal, workspace_id: uuid.UUID) -> ColumnElement[bool]:
    """SQL condition on ``Api``: the APIs the principal may reach in the workspace, by the
    access rule (``accessplane.access_rule``); a role's permissions alone never reach an API.
    """
    membership = actor.membership(workspace_id)
    # The principal's role was read with it: allApis answers without SQL, for API Access keys
    # too, whose role is their only path.
    if membership.all_apis:
        return true()
    if membership.member_id is None:  # API Access keys hold no grants of their own
        return col(Api.id).is_(None)
    return access_rule.reached_by(membership.member_id)


async def get_accessible_api(
    session: AsyncSession, actor: Principal, api_id: uuid.UUID, permission: Permission
) -> Api:
    """An API-scoped operation needs the permission and access to the API; an API one cannot
    reach is NOT_FOUND, as it is invisible in every list."""
    api = await get_scoped(session, actor, Api, api_id, permission, label="API")
    reachable = await session.scalar(
        select(col(Api.id)).where(
            col(Api.id) == api_id, accessible_api_clause(actor, api.workspace_id)
        )
    )
    if reachable is None:
        raise NotFound("API not found.")
    return api
