"""Alembic migrations, run programmatically on the application's own async engine.

Migrations are serialised across processes, so any number of instances may start at once on an
empty database: on PostgreSQL by an advisory lock, on SQLite by a lock file beside the
database. The first to take the lock migrates; the others wait, then find nothing left to do.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"
# The key of PostgreSQL's advisory lock for migrations: any fixed 64-bit number ("AccessPl").
MIGRATION_LOCK_KEY = 0x4163_6365_7373_506C


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url)
    return config


@asynccontextmanager
async def migration_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """Held by one process at a time for the database of ``engine``: around migrations, and
    around whatever a first start must do only once (the bootstrap of ``accessplane serve``).

    PostgreSQL: a session-level advisory lock on a connection of its own, released with that
    session even if the process dies. SQLite: an exclusive ``flock`` on ``<database>.lock``
    (never on the database file itself: closing any descriptor of that file would drop
    SQLite's own locks). An in-memory SQLite database is private to its process: no lock."""
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            await connection.execute(
                text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
            await connection.commit()  # the lock outlives the transaction; idle, not in one
            try:
                yield
            finally:
                await connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
                await connection.commit()
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        yield
        return
    # flock blocks: wait in a thread so the event loop keeps running meanwhile.
    descriptor = await asyncio.to_thread(_lock_file, f"{database}.lock")
    try:
        yield
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)


def _lock_file(path: str) -> int:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


async def _run(engine: AsyncEngine, operation: str, revision: str) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        getattr(command, operation)(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def upgrade(engine: AsyncEngine, revision: str = "head", *, lock: bool = True) -> None:
    """Bring the database to ``revision`` in one transaction, under ``migration_lock`` unless
    the caller already holds it (``lock=False``)."""
    if not lock:
        await _run(engine, "upgrade", revision)
        return
    async with migration_lock(engine):
        await _run(engine, "upgrade", revision)


async def downgrade(engine: AsyncEngine, revision: str, *, lock: bool = True) -> None:
    """Take the database back to ``revision`` (``base``: no table left), in one transaction."""
    if not lock:
        await _run(engine, "downgrade", revision)
        return
    async with migration_lock(engine):
        await _run(engine, "downgrade", revision)
