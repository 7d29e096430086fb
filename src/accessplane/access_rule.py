"""The access rule, written once: a member reaches an API by a direct grant, by a grant to one
of its groups, or through a role with ``allApis``; effective access is the union of these paths.

Every layer asks it here: scoping (which APIs a caller sees), ``explainAccess``, the
``Member.apis`` loader and the decision endpoint, so they cannot disagree. It builds SQL on the
models alone, so services, loaders and the decision package all import it without cycles.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    String,
    Uuid,
    cast,
    literal_column,
    null,
    select,
    union_all,
)
from sqlmodel import col

from accessplane.models import Api, ApiGrant, GroupMember, Member, Role

# One branch of the union: six columns, some typed as bare NULLs.
_Branch = Select[*tuple[Any, ...]]


class AccessPathKind(StrEnum):
    """How a member reaches an API."""

    DIRECT = "DIRECT"
    GROUP = "GROUP"
    ROLE = "ROLE"  # a role with allApis


def _kind(kind: AccessPathKind) -> ColumnElement[str]:
    # Inline, not a bound parameter: a constant of the rule, typed alike on every dialect.
    return literal_column(f"'{kind.value}'", String).label("kind")


def _no_id(name: str) -> ColumnElement[uuid.UUID]:
    return cast(null(), Uuid).label(name)


def paths(
    member_ids: Sequence[uuid.UUID], api_ids: Sequence[uuid.UUID] | None = None
) -> CompoundSelect[Any]:
    """Every path from these members to APIs (only to ``api_ids`` when given), one row per
    path: ``member_id``, ``api_id``, ``kind`` (an ``AccessPathKind`` value), ``grant_id`` (of a
    direct or group grant), ``group_id`` (of a group grant) and ``role_id`` (of an allApis
    role). It starts from the members, so its cost follows what they reach."""
    direct: _Branch = select(
        col(ApiGrant.member_id).label("member_id"),
        col(ApiGrant.api_id).label("api_id"),
        _kind(AccessPathKind.DIRECT),
        col(ApiGrant.id).label("grant_id"),
        _no_id("group_id"),
        _no_id("role_id"),
    ).where(col(ApiGrant.member_id).in_(member_ids))
    via_group: _Branch = (
        select(
            col(GroupMember.member_id),
            col(ApiGrant.api_id),
            _kind(AccessPathKind.GROUP),
            col(ApiGrant.id),
            col(ApiGrant.group_id),
            _no_id("role_id"),
        )
        .join(GroupMember, col(GroupMember.group_id) == col(ApiGrant.group_id))
        .where(col(GroupMember.member_id).in_(member_ids))
    )
    by_role: _Branch = (
        select(
            col(Member.id),
            col(Api.id),
            _kind(AccessPathKind.ROLE),
            _no_id("grant_id"),
            _no_id("group_id"),
            col(Role.id),
        )
        .join(Role, col(Role.id) == col(Member.role_id))
        .join(Api, col(Api.workspace_id) == col(Member.workspace_id))
        .where(col(Member.id).in_(member_ids), col(Role.all_apis))
    )
    if api_ids is not None:
        direct = direct.where(col(ApiGrant.api_id).in_(api_ids))
        via_group = via_group.where(col(ApiGrant.api_id).in_(api_ids))
        by_role = by_role.where(col(Api.id).in_(api_ids))
    return union_all(direct, via_group, by_role)


def reached(
    member_ids: Sequence[uuid.UUID], api_ids: Sequence[uuid.UUID] | None = None
) -> Select[Any]:
    """``(api_id, member_id)`` for each API a member reaches, once however many paths lead
    there."""
    every = paths(member_ids, api_ids).subquery("access_paths")
    return select(every.c.api_id, every.c.member_id).distinct()


def reached_by(member_id: uuid.UUID) -> ColumnElement[bool]:
    """SQL condition on ``Api``: the member reaches it."""
    every = paths([member_id]).subquery("access_paths")
    return col(Api.id).in_(select(every.c.api_id))
