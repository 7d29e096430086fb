"""SQL that SQLite and PostgreSQL spell differently, behind one Python name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Insert, String, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import SQLModel

from accessplane.db import changes

# The SQLite function registered on every connection by ``create_engine``: SQLite's own
# lower() folds ASCII letters only, so "Équipe" and "équipe" would differ.
SQLITE_LOWER = "unicode_lower"


def unicode_lower(value: str | None) -> str | None:
    """Python's lower-casing, which covers every alphabet (as PostgreSQL's lower() does in a
    UTF-8 database)."""
    return None if value is None else value.lower()


class FoldCase(FunctionElement[str]):
    """``lower(value)`` for every letter, not only ASCII: compare two folded values to compare
    names case-insensitively, the same way on both databases."""

    type = String()
    name = "fold_case"
    inherit_cache = True


@compiles(FoldCase)
def _fold_case(element: FoldCase, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(FoldCase, "sqlite")
def _fold_case_sqlite(element: FoldCase, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{SQLITE_LOWER}({compiler.process(element.clauses, **kw)})"


def fold(value: ColumnElement[Any] | Mapped[Any] | str) -> ColumnElement[str]:
    """``value`` lower-cased in SQL, for any alphabet."""
    return FoldCase(value)


def insert_new(session: AsyncSession, model: type[SQLModel], rows: Sequence[SQLModel]) -> Insert:
    """``INSERT`` of ``rows`` that skips those a unique constraint already holds (``ON CONFLICT
    DO NOTHING``): concurrent identical inserts all succeed and store one row. Add
    ``.returning(...)`` to learn which rows were new.

    The statement bypasses the unit of work, so the rows' change tags are recorded here: the
    decision caches must forget what these rows change, as for rows added to the session.
    ``rows`` may not be empty: an INSERT needs at least one row."""
    if not rows:
        raise ValueError("insert_new needs at least one row")
    changes.changed(session, *(tag for row in rows for tag in changes.row_tags(row)))
    dialect = session.get_bind().dialect.name
    values = [row.model_dump() for row in rows]
    if dialect == "postgresql":
        return postgresql.insert(model).values(values).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(model).values(values).on_conflict_do_nothing()
    raise NotImplementedError(f"insert_new does not know the {dialect} dialect")


async def delete_row(session: AsyncSession, instance: Any) -> bool:
    """``DELETE`` the row of ``instance`` (a model with an ``id``) at once; False when no row
    matched because a concurrent request deleted it first, which the unit of work would only
    warn about. The row's change tags are recorded, as a flush would."""
    model = type(instance)
    changes.changed(session, *changes.row_tags(instance))
    deleted = await session.execute(
        delete(model).where(model.id == instance.id).returning(model.id)
    )
    return deleted.first() is not None
