"""Fixtures: a migrated database per test (SQLite always, PostgreSQL when configured), the app,
GraphQL clients per kind of caller, a scenario builder and a SQL statement counter."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import event, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from accessplane.app import create_app
from accessplane.db import create_engine
from accessplane.db.migrate import upgrade
from accessplane.settings import Settings
from tests.support.graphql import GraphQLClient
from tests.support.scenario import Scenario

POSTGRES_URL = os.environ.get("ACCESSPLANE_TEST_DATABASE_URL")
IN_CI = os.environ.get("CI") == "true"
# PostgreSQL's SQLSTATEs for a database that does not exist, and one that exists already.
INVALID_CATALOG_NAME = "3D000"
DUPLICATE_DATABASE = "42P04"
CONNECT = {"timeout": 10}  # seconds: a server that never answers is unavailable, not a hang
SECRET = "test-secret-0123456789abcdef0123456789abcdef"


# Why the PostgreSQL of ACCESSPLANE_TEST_DATABASE_URL cannot be used (None: it can), found once
# at the start of the session by ``pytest_sessionstart``.
postgres_problem: str | None = None


def pytest_sessionstart(session: pytest.Session) -> None:
    """Check ACCESSPLANE_TEST_DATABASE_URL once, creating its database when the server has none
    of that name (the PostgreSQL fixtures connect to it to create and drop databases of their
    own). When it cannot be used its tests skip, all with the one reason found here; in CI the
    session stops at once."""
    global postgres_problem
    if POSTGRES_URL is None:
        return
    postgres_problem = asyncio.run(ensure_database(POSTGRES_URL))
    if postgres_problem is not None and IN_CI:
        pytest.exit(f"PostgreSQL is required in CI: {postgres_problem}", returncode=1)


async def ensure_database(url: str) -> str | None:
    """Connect to ``url``; if its database does not exist, create it through the server's
    ``postgres`` database. None when ``url`` then works, else why it does not."""
    try:
        await _connect_once(url)
        return None
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != INVALID_CATALOG_NAME:
            return f"cannot use {_shown(url)}: {error.orig}"
    except OSError as error:
        return f"cannot connect to {_shown(url)}: {error}"
    target = make_url(url)
    server = target.set(database="postgres").render_as_string(hide_password=False)
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT", connect_args=CONNECT)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != DUPLICATE_DATABASE:  # a concurrent session
            return f"{_shown(url)} does not exist and cannot be created: {error.orig}"
    except OSError as error:
        return f"cannot connect to {_shown(url)}: {error}"
    finally:
        await engine.dispose()
    return None


async def _connect_once(url: str) -> None:
    engine = create_async_engine(url, connect_args=CONNECT)
    try:
        async with engine.connect():
            pass
    finally:
        await engine.dispose()


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def require_service(name: str, configured: bool, reason: str) -> None:
    """Skip when a real service is not available, except in CI where that is a failure."""
    if configured:
        return
    if IN_CI:
        pytest.fail(f"{name} is required in CI: {reason}")
    pytest.skip(f"{name} not available: {reason}")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating each time would be slower)."""
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def migrate() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(migrate())
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> Iterator[str]:
    """A PostgreSQL database of this test session's own (so parallel runs cannot disturb each
    other), created next to ACCESSPLANE_TEST_DATABASE_URL's, migrated once, dropped at the end."""
    require_service(
        "PostgreSQL",
        POSTGRES_URL is not None,
        "set ACCESSPLANE_TEST_DATABASE_URL=postgresql+asyncpg://…",
    )
    assert POSTGRES_URL is not None
    require_service("PostgreSQL", postgres_problem is None, postgres_problem or "")
    base = make_url(POSTGRES_URL)
    name = f"{base.database}_{os.getpid()}_{secrets.token_hex(3)}"
    url = base.set(database=name).render_as_string(hide_password=False)

    async def admin(statement: str) -> None:
        engine = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    async def migrate() -> None:
        await admin(f'CREATE DATABASE "{name}"')
        engine = create_engine(url)
        await upgrade(engine)
        await engine.dispose()

    try:
        asyncio.run(migrate())
    except OSError as error:
        require_service("PostgreSQL", False, f"cannot connect: {error}")
    yield url
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_migrated")
    yield url

    async def truncate() -> None:
        engine = create_engine(url)
        async with engine.begin() as connection:
            # A test that failed mid-transaction may leave a connection holding locks; end it, or
            # TRUNCATE would wait for it forever.
            await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            # The tables the migrations made, whatever the models say.
            tables = (
                (
                    await connection.execute(
                        text(
                            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                            "AND tablename <> 'alembic_version'"
                        )
                    )
                )
                .scalars()
                .all()
            )
            names = ", ".join(f'"{t}"' for t in tables)
            await connection.execute(text(f"TRUNCATE {names} CASCADE"))
        await engine.dispose()

    asyncio.run(truncate())


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(environment="test", database_url=database_url, secret_key=SECRET)  # type: ignore[arg-type]


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings.database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session for arranging and checking; requests get their own."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def app(settings: Settings, engine: AsyncEngine):  # type: ignore[no-untyped-def]
    return create_app(settings, engine=engine)


@pytest.fixture
async def http(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def graphql(app, engine: AsyncEngine, settings: Settings, http: httpx.AsyncClient) -> GraphQLClient:  # type: ignore[no-untyped-def]
    return GraphQLClient(app=app, engine=engine, settings=settings, http=http)


@pytest.fixture
def scenario(session: AsyncSession, settings: Settings) -> Scenario:
    return Scenario(session=session, secret=SECRET.encode())


class QueryCounter:
    """Counts the SQL statements an engine runs inside ``with counter:``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.statements: list[str] = []
        self._active = False
        event.listen(engine.sync_engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, _conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if self._active:
            self.statements.append(statement)

    def __enter__(self) -> QueryCounter:
        self.statements.clear()
        self._active = True
        return self

    def __exit__(self, *_: object) -> None:
        self._active = False

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(engine: AsyncEngine) -> QueryCounter:
    return QueryCounter(engine)
