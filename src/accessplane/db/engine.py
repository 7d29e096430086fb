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


def pool_usage(engine: AsyncEngine) -> dict[tuple[str, ...], float]:
    """The connection pool's state for the metrics, by state: ``checked_out`` (in use),
    ``idle`` (open, waiting), ``overflow`` (open beyond the pool's size), and ``size`` (the
    configured pool size); empty for a pool that keeps no connections."""
    pool: Any = engine.pool
    try:
        return {
            ("checked_out",): pool.checkedout(),
            ("idle",): pool.checkedin(),
            ("overflow",): max(0, pool.overflow()),
            ("size",): pool.size(),
        }
    except AttributeError:  # NullPool, StaticPool: nothing pooled to report
        return {}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers work while one writer commits; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # Deterministic: the same name always folds the same, whichever connection asks.
    dbapi_connection.create_function(SQLITE_LOWER, 1, unicode_lower, deterministic=True)


# session.info key: set inside ``unit_of_work``, where ``transaction`` only flushes.
_UNIT_OF_WORK = "accessplane.unit_of_work"


@asynccontextmanager
async def transaction(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """Commit everything done inside the block, or nothing if it raises."""
    if session.info.get(_UNIT_OF_WORK):
        # Part of a larger unit: it commits or rolls back everything at its end.
        yield session
        await session.flush()
        return
    try:
        yield session
        await session.commit()
    except BaseException:
        await session.rollback()
        raise


@asynccontextmanager
async def unit_of_work(session: AsyncSession, *, commit: bool = True) -> AsyncIterator[None]:
    """Make the services' transactions inside the block one: all of them commit at its end
    (unless ``commit`` is false: a dry run), or none if it raises."""
    session.info[_UNIT_OF_WORK] = True
    try:
        yield
        session.info.pop(_UNIT_OF_WORK, None)
        if commit:
            await session.commit()
        else:
            await session.rollback()
    except BaseException:
        await session.rollback()
        raise
    finally:
        session.info.pop(_UNIT_OF_WORK, None)
