"""Async engine for SQLite (embedded default) and PostgreSQL (scale)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from accessplane.db.sql import SQLITE_LOWER, unicode_lower


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Build the engine; SQLite gets WAL, foreign keys, a busy timeout and a lower() for every
    alphabet."""
    kwargs: dict[str, Any] = {"echo": echo}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers work while one writer commits; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # Deterministic: the same name always folds the same, whichever connection asks.
    dbapi_connection.create_function(SQLITE_LOWER, 1, unicode_lower, deterministic=True)


@asynccontextmanager
async def transaction(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """Commit everything done inside the block, or nothing if it raises."""
    try:
        yield session
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
