"""Tenant isolation, in one place: whether a principal may know of an object at all.

An object of a workspace the principal has no membership in is answered exactly like a missing
one (NOT_FOUND), so nobody learns what another tenant holds. Services load the subject of an
operation through ``load_in_workspace`` (or ``get_scoped``, which adds the permission) and never
read a principal's memberships themselves; ``tests/test_tenancy_rule.py`` keeps it so.
"""

from __future__ import annotations

import uuid
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.auth.principals import Principal
from accessplane.errors import NotFound

M = TypeVar("M")


def require_tenant(actor: Principal, obj: M | None, *, label: str) -> M:
    """``obj`` if it belongs to one of the principal's workspaces, else NOT_FOUND ("<label> not
    found."), the answer for a missing object too."""
    workspace_id = workspace_of(obj)
    if obj is None or workspace_id is None or workspace_id not in actor.memberships:
        raise NotFound(f"{label} not found.")
    return obj


def workspace_of(obj: object) -> uuid.UUID | None:
    """The workspace an object belongs to; None for one of no workspace (and for None)."""
    workspace_id: uuid.UUID | None = getattr(obj, "workspace_id", None)
    return workspace_id


async def load_in_workspace(
    session: AsyncSession, actor: Principal, model: type[M], object_id: uuid.UUID, *, label: str
) -> M:
    """Load an object by id, NOT_FOUND when it is missing or another workspace's."""
    return require_tenant(actor, await session.get(model, object_id), label=label)


def member_id_in(actor: Principal, workspace_id: uuid.UUID) -> uuid.UUID | None:
    """The principal's member id in the workspace; None for a key (keys are not members) and
    for a workspace it does not belong to."""
    membership = actor.memberships.get(workspace_id)
    return membership.member_id if membership is not None else None
