"""Keyset pagination over any select: stable under inserts, no OFFSET scans.

A cursor is the opaque encoding of the sort key of the last row seen (e.g. name and id); the next
page starts strictly after it, so deep pages cost the same as the first.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped

from accessplane.errors import InputError, UserErrorCode

T = TypeVar("T")
# A column to sort or group by: a table column, or a model attribute wrapped in sqlmodel.col().
Column = ColumnElement[Any] | Mapped[Any]


@dataclass(frozen=True, slots=True)
class PageArgs:
    """What the client asked for: ``first`` rows after ``after``."""

    first: int
    after: str | None = None


@dataclass(slots=True)
class Page(Generic[T]):
    """One page of rows with the cursor of each and whether more follow."""

    items: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    # the query without paging, for a lazily computed totalCount
    count_query: Select[Any] | None = None


def page_args(first: int | None, after: str | None, *, default: int, maximum: int) -> PageArgs:
    """Validate ``first`` (1..maximum, as GitHub's API does) and return the page arguments."""
    size = default if first is None else first
    if not 1 <= size <= maximum:
        raise InputError.one(
            "first", f"first must be between 1 and {maximum}.", UserErrorCode.INVALID
        )
    return PageArgs(first=size, after=after)


def _jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_jsonable(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def inspect_column(column: Column) -> ColumnElement[Any]:
    """The SQL column behind a model attribute."""
    return column if isinstance(column, ColumnElement) else column.expression  # type: ignore[attr-defined]


def _typed(value: Any, python_type: type) -> Any:
    """A cursor's value as its column's type; ValueError for a value of another JSON type (a
    forged cursor), which would otherwise reach the database as a mistyped parameter."""
    if python_type is uuid.UUID or python_type is datetime:
        if not isinstance(value, str):
            raise ValueError(value)
        return uuid.UUID(value) if python_type is uuid.UUID else datetime.fromisoformat(value)
    # SQLModel's string columns declare ``object``; exactly the type: a bool is an int.
    if type(value) is not (str if python_type is object else python_type):
        raise ValueError(value)
    return value


def decode_cursor(cursor: str, columns: Sequence[Column]) -> list[Any]:
    """The sort key inside a cursor, typed like ``columns``; a bad cursor is a userError."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(columns):
            raise ValueError
        return [
            _typed(value, inspect_column(column).type.python_type)
            for value, column in zip(values, columns, strict=True)
        ]
    except (ValueError, TypeError, NotImplementedError):
        raise InputError.one("after", "The cursor is not valid.", UserErrorCode.INVALID) from None


def after_clause(
    columns: Sequence[Column], values: Sequence[Any], *, descending: bool = False
) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in ``columns`` order (a row-value comparison spelled
    out, since SQLite and PostgreSQL differ in their support for tuples)."""
    clauses = []
    for i, column in enumerate(columns):
        equal_prefix = [columns[j] == values[j] for j in range(i)]
        beyond = column < values[i] if descending else column > values[i]
        clauses.append(and_(*equal_prefix, beyond))
    return or_(*clauses)


async def paginate(
    session: AsyncSession,
    query: Select[Any],
    *,
    sort: Sequence[Column],
    args: PageArgs,
    descending: bool = False,
) -> Page[Any]:
    """Run ``query`` for one page, ordered by ``sort`` (whose last column must be unique)."""
    paged = query
    if args.after is not None:
        values = decode_cursor(args.after, sort)
        paged = paged.where(after_clause(sort, values, descending=descending))
    sort_labels = [column.label(f"page_sort{i}") for i, column in enumerate(sort)]
    order = [column.desc() for column in sort] if descending else list(sort)
    paged = paged.add_columns(*sort_labels).order_by(*order).limit(args.first + 1)
    rows = (await session.execute(paged)).all()
    has_next = len(rows) > args.first
    rows = rows[: args.first]
    width = len(sort)
    return Page(
        items=[row[0] for row in rows],
        cursors=[encode_cursor(tuple(row[-width:])) for row in rows],
        has_next_page=has_next,
        has_previous_page=args.after is not None,
        count_query=query,
    )


async def count(session: AsyncSession, query: Select[Any]) -> int:
    """How many rows ``query`` returns."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return int(total or 0)
