"""Names unique within a workspace (or a client): checked up front for a clear userError, and
held by a unique constraint for a concurrent create between the check and the commit.

Names compare case-insensitively for every alphabet ("Équipe" is "équipe"), the same way on
SQLite and PostgreSQL: both sides are folded by the database's Unicode lower()."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.db.sql import fold
from accessplane.errors import FieldError, InputError, UserErrorCode
from accessplane.services.pagination import Column
from accessplane.services.validation import Checks


def duplicate(label: str, value: str, *, field: str = "name") -> FieldError:
    """The userError for a taken value; ``label`` names the kind, e.g. "A plan"."""
    return FieldError(
        field, f"{label} with {field} '{value}' exists already.", UserErrorCode.DUPLICATE
    )


def duplicate_error(label: str, value: str, *, field: str = "name") -> InputError:
    """The same, to raise when the unique constraint caught a concurrent create."""
    return InputError([duplicate(label, value, field=field)])


async def check_unique(
    checks: Checks,
    session: AsyncSession,
    column: Column,
    value: str,
    *,
    within: ColumnElement[bool],
    label: str,
    field: str = "name",
    exclude: ColumnElement[bool] | None = None,
) -> None:
    """Add a DUPLICATE userError if another row ``within`` the scope has ``value`` in ``column``
    (compared case-insensitively); skipped when the field is already refused."""
    if not value or any(e.field == field for e in checks.errors):
        return
    query = select(literal(1)).where(within, fold(column) == fold(literal(value)))
    if exclude is not None:
        query = query.where(exclude)
    if await session.scalar(query.limit(1)) is not None:
        checks.errors.append(duplicate(label, value, field=field))


async def check_unique_name(
    checks: Checks,
    session: AsyncSession,
    model: Any,
    workspace_id: uuid.UUID,
    name: str,
    exclude: uuid.UUID | None = None,
    *,
    label: str,
) -> None:
    """``check_unique`` for the ``name`` of a workspace's ``model`` rows (other than the row
    ``exclude``, when renaming it)."""
    await check_unique(
        checks,
        session,
        model.name,
        name,
        label=label,
        within=model.workspace_id == workspace_id,
        exclude=None if exclude is None else model.id != exclude,
    )


async def recheck_unique_name(
    session: AsyncSession,
    model: Any,
    workspace_id: uuid.UUID,
    name: str,
    exclude: uuid.UUID | None = None,
    *,
    label: str,
) -> None:
    """After a write met a unique constraint: raise the DUPLICATE userError if ``name`` is now
    taken (a concurrent create or rename won), as if the requests had come one after the
    other. Returns when it is not, for the caller to re-raise what it caught."""
    checks = Checks()
    await check_unique_name(checks, session, model, workspace_id, name, exclude, label=label)
    checks.raise_if_any()
