"""``accessplane serve``'s server: uvloop and httptools when installed, and several workers only
where they share their state (PostgreSQL and Redis)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from accessplane.cli import app
from accessplane.settings import get_settings

runner = CliRunner()
REFUSAL = (
    "accessplane: --workers > 1 needs PostgreSQL and Redis "
    "(SQLite keeps caches and rate-limit counters per process)"
)


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh SQLite database; yields its path."""
    path = tmp_path / "serve.db"
    monkeypatch.setenv("ACCESSPLANE_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("ACCESSPLANE_SECRET_KEY", "serve-stack-secret-0123456789abcdef")
    monkeypatch.delenv("ACCESSPLANE_REDIS_URL", raising=False)
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What ``uvicorn.run`` is called with, instead of serving."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **options: calls.append(options))
    return calls


def test_serve_runs_uvloop_and_httptools(environment: Path, served: list[dict[str, Any]]) -> None:
    result = runner.invoke(app, ["serve"])

    assert result.exit_code == 0, result.output
    [options] = served
    assert (options["loop"], options["http"]) == ("uvloop", "httptools")
    # uvicorn loads what was named: httptools' protocol, uvloop's event loop.
    config = uvicorn.Config("accessplane.app:create_app", **options)
    config.load()
    assert config.http_protocol_class.__name__ == "HttpToolsProtocol"
    factory = config.get_loop_factory()
    assert factory is not None
    loop = factory()
    try:
        assert type(loop).__module__.startswith("uvloop")
    finally:
        loop.close()


def test_serve_falls_back_to_asyncio_and_h11_without_them(
    environment: Path, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A None entry makes the module unimportable, as on a platform without its wheel.
    monkeypatch.setitem(sys.modules, "uvloop", None)
    monkeypatch.setitem(sys.modules, "httptools", None)

    result = runner.invoke(app, ["serve"])

    assert result.exit_code == 0, result.output
    [options] = served
    assert (options["loop"], options["http"]) == ("asyncio", "h11")


@pytest.mark.parametrize(
    ("database_url", "redis_url"),
    [
        (None, None),  # the SQLite default of the fixture
        (None, "redis://127.0.0.1:6379/0"),
        ("postgresql+asyncpg://ap:pw@127.0.0.1:1/ap", None),
    ],
)
def test_several_workers_are_refused_without_postgresql_and_redis(
    environment: Path,
    served: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    database_url: str | None,
    redis_url: str | None,
) -> None:
    if database_url:
        monkeypatch.setenv("ACCESSPLANE_DATABASE_URL", database_url)
    if redis_url:
        monkeypatch.setenv("ACCESSPLANE_REDIS_URL", redis_url)

    result = runner.invoke(app, ["serve", "--workers", "2"])

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [REFUSAL]
    assert served == []
    assert not environment.exists()  # refused before migrating


def test_one_worker_on_sqlite_serves(environment: Path, served: list[dict[str, Any]]) -> None:
    result = runner.invoke(app, ["serve", "--workers", "1"])

    assert result.exit_code == 0, result.output
    assert [options["workers"] for options in served] == [1]
    assert environment.exists()


def test_several_workers_on_postgresql_with_redis_pass_the_check(
    environment: Path, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on port 1: the start gets past the check and stops at the connection.
    monkeypatch.setenv("ACCESSPLANE_DATABASE_URL", "postgresql+asyncpg://ap:pw@127.0.0.1:1/ap")
    monkeypatch.setenv("ACCESSPLANE_REDIS_URL", "redis://127.0.0.1:6379/0")

    result = runner.invoke(app, ["serve", "--workers", "4"])

    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("accessplane: configuration error: cannot connect to the database ")
