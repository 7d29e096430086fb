"""Migrations on fresh databases, SQLite and PostgreSQL: every revision goes down and up again
leaving the schema as it was, and any number of ``accessplane serve`` started together on an
empty database migrate it once and all come up."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from accessplane.db import create_engine
from accessplane.db.migrate import alembic_config, downgrade, upgrade
from tests.conftest import POSTGRES_URL, SECRET, require_service
from tests.notify.conftest import free_port

Schema = dict[str, Any]


@asynccontextmanager
async def fresh_postgres() -> AsyncIterator[str]:
    """An empty PostgreSQL database of its own, next to ACCESSPLANE_TEST_DATABASE_URL's,
    dropped afterwards."""
    require_service(
        "PostgreSQL",
        POSTGRES_URL is not None,
        "set ACCESSPLANE_TEST_DATABASE_URL=postgresql+asyncpg://…",
    )
    assert POSTGRES_URL is not None
    base = make_url(POSTGRES_URL)
    name = f"{base.database}_fresh_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a database with no table at all."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/fresh.db"
        return
    async with fresh_postgres() as url:
        yield url


def revisions() -> list[str]:
    """Every revision, oldest first: whatever the migrations folder holds today."""
    script = ScriptDirectory.from_config(alembic_config())
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def _read_schema(connection: Connection) -> Schema:
    inspector = inspect(connection)
    tables: dict[str, Any] = {}
    for table in inspector.get_table_names():
        if table == "alembic_version":
            continue
        tables[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                for c in inspector.get_columns(table)
            ],
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted(
                (
                    str(fk["name"]),
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                    str(sorted(fk.get("options", {}).items())),
                )
                for fk in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (
                    str(index["name"]),
                    tuple(str(c) for c in index["column_names"]),
                    str(index.get("expressions")),
                    bool(index["unique"]),
                )
                for index in inspector.get_indexes(table)
            ),
            "unique": sorted(
                (str(u["name"]), tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(table)
            ),
            "checks": sorted(
                (str(c["name"]), c["sqltext"]) for c in inspector.get_check_constraints(table)
            ),
        }
    schema: Schema = {"tables": tables}
    if connection.dialect.name == "postgresql":
        # Types live apart from tables: a downgrade that forgets one breaks the next upgrade.
        schema["enums"] = sorted(
            (enum["name"], tuple(enum["labels"])) for enum in inspector.get_enums()
        )
    return schema


async def read_schema(engine: AsyncEngine) -> Schema:
    async with engine.connect() as connection:
        return await connection.run_sync(_read_schema)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        found = await connection.execute(text("SELECT version_num FROM alembic_version"))
        return found.scalar_one_or_none()


async def test_every_migration_goes_down_and_up_again(empty_database: str) -> None:
    engine = create_engine(empty_database)
    try:
        empty = await read_schema(engine)
        history = revisions()
        await upgrade(engine)
        at_head = await read_schema(engine)
        assert at_head["tables"], "the migrations created no table"

        # From head to base, one revision at a time; each step also goes back up and down.
        below = ["base", *history[:-1]]
        for revision, previous in zip(reversed(history), reversed(below), strict=True):
            assert await current_revision(engine) == revision
            before = await read_schema(engine)
            await downgrade(engine, previous)
            after = await read_schema(engine)
            assert after != before, f"downgrading {revision} changed nothing"
            await upgrade(engine, revision)
            assert await read_schema(engine) == before, f"{revision} down then up differs"
            await downgrade(engine, previous)
            assert await read_schema(engine) == after, f"{revision} down twice differs"

        assert await current_revision(engine) is None
        assert await read_schema(engine) == empty  # no table and no type left behind
        await upgrade(engine)
        assert await read_schema(engine) == at_head
    finally:
        await engine.dispose()


@asynccontextmanager
async def serving(
    database_url: str, log: Path
) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    """``accessplane serve`` on a free port, started now; yields its URL and process."""
    port = free_port()
    env = {
        **os.environ,
        "ACCESSPLANE_DATABASE_URL": database_url,
        "ACCESSPLANE_SECRET_KEY": SECRET,
        "ACCESSPLANE_PORT": str(port),
        "ACCESSPLANE_REDIS_URL": "",
    }
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "accessplane.cli", "serve", env=env, stdout=output, stderr=output
        )
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


def output_of(log: Path) -> str:
    return log.read_text(errors="replace")


async def healthy(url: str, process: asyncio.subprocess.Process, log: Path) -> None:
    """Wait until ``url`` is ready; fail at once if its process exits."""
    async with httpx.AsyncClient(base_url=url) as http, asyncio.timeout(60):
        while True:
            assert process.returncode is None, f"serve exited:\n{output_of(log)}"
            try:
                if (await http.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)


async def test_instances_started_together_on_an_empty_database_all_come_up(
    empty_database: str, tmp_path: Path
) -> None:
    logs = [tmp_path / f"serve-{i}.log" for i in range(2)]
    async with (
        serving(empty_database, logs[0]) as first,
        serving(empty_database, logs[1]) as second,
    ):
        await asyncio.gather(healthy(*first, logs[0]), healthy(*second, logs[1]))

    engine = create_engine(empty_database)
    try:
        async with engine.connect() as connection:
            workspaces = (await connection.execute(text("SELECT name FROM workspace"))).all()
        assert await current_revision(engine) == revisions()[-1]
    finally:
        await engine.dispose()
    assert [name for (name,) in workspaces] == ["Default"]  # bootstrapped once
