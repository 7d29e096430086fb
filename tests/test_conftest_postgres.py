"""The test session's PostgreSQL set-up (tests/conftest.py): a database named in
ACCESSPLANE_TEST_DATABASE_URL that does not exist yet is created, and a server that cannot be
reached is said once, not as an error per test. Each case runs pytest in a process of its own."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from accessplane.db import create_engine
from tests.conftest import POSTGRES_URL, require_service

ROOT = Path(__file__).resolve().parent.parent
THIS = Path(__file__).relative_to(ROOT).as_posix()


async def test_database_url_is_a_migrated_database(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with AsyncSession(engine) as session:
            assert await session.scalar(text("SELECT count(*) FROM workspace")) == 0
    finally:
        await engine.dispose()


def run_pytest(url: str, *, ci: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the test above, both variants, against ``url`` in a pytest process of its own."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["ACCESSPLANE_TEST_DATABASE_URL"] = url
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"{THIS}::test_database_url_is_a_migrated_database",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def database_exists(name: str) -> bool:
    assert POSTGRES_URL is not None
    engine = create_async_engine(POSTGRES_URL)
    try:
        async with engine.connect() as connection:
            found = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
    finally:
        await engine.dispose()
    return found is not None


async def drop_database(name: str) -> None:
    assert POSTGRES_URL is not None
    engine = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


def test_a_missing_test_database_is_created() -> None:
    require_service(
        "PostgreSQL", POSTGRES_URL is not None, "set ACCESSPLANE_TEST_DATABASE_URL=postgresql+…"
    )
    assert POSTGRES_URL is not None
    name = f"accessplane_missing_{secrets.token_hex(4)}"
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        result = run_pytest(url)
        created = asyncio.run(database_exists(name))
    finally:
        asyncio.run(drop_database(name))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    assert "error" not in result.stdout.lower()
    assert created


def test_an_unreachable_server_is_one_skip_reason() -> None:
    # Port 1 on the loopback interface: nothing listens, the connection is refused at once.
    result = run_pytest("postgresql+asyncpg://ap:pw@127.0.0.1:1/ap")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 skipped" in result.stdout
    [reason] = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert "cannot connect to postgresql+asyncpg://ap:***@127.0.0.1:1/ap" in reason
    assert "error" not in result.stdout.lower().replace(reason.lower(), "")


def test_an_unreachable_server_stops_a_ci_session_once() -> None:
    result = run_pytest("postgresql+asyncpg://ap:pw@127.0.0.1:1/ap", ci=True)

    assert result.returncode == 1
    [said] = result.stderr.splitlines()
    assert said.startswith("Exit: PostgreSQL is required in CI: cannot connect to postgresql")
    assert "passed" not in result.stdout
    assert "error" not in result.stdout.lower()
