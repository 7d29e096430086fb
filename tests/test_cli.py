"""The ``accessplane`` command: migrate, init, version, and the first-start bootstrap."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accessplane import __version__
from accessplane.auth.tokens import token_digest
from accessplane.cli import _init, _migrate, app
from accessplane.settings import Settings, get_settings

runner = CliRunner()
SECRET = "cli-test-secret-0123456789abcdef0123"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.db"
    monkeypatch.setenv("ACCESSPLANE_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("ACCESSPLANE_SECRET_KEY", SECRET)
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def test_version() -> None:
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.output.strip() == __version__


def test_init_prints_an_owner_key_once_and_stores_only_its_digest(database: Path) -> None:
    result = runner.invoke(app, ["init", "--name", "Acme", "--owner-email", "Ada@Example.com"])

    assert result.exit_code == 0, result.output
    [token] = set(re.findall(r"apk_[A-Za-z0-9]{36}", result.output))
    with sqlite3.connect(database) as db:
        digests = [row[0] for row in db.execute("SELECT token_digest FROM api_access")]
        dump = "\n".join(db.iterdump())
        owner = db.execute(
            "SELECT u.email, r.name FROM member m JOIN user_account u ON u.id = m.user_id "
            "JOIN role r ON r.id = m.role_id"
        ).fetchall()
    assert digests == [token_digest(token, SECRET.encode())]
    assert token not in dump
    assert owner == [("ada@example.com", "Owner")]


def test_init_refuses_an_invalid_email(database: Path) -> None:
    result = runner.invoke(app, ["init", "--owner-email", "not-an-email"])

    assert result.exit_code != 0
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM workspace").fetchone() == (0,)


def test_migrate_is_idempotent(database: Path) -> None:
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    with sqlite3.connect(database) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert {"workspace", "api", "api_grant", "audit_event"} <= tables


async def test_serve_bootstraps_only_an_empty_database(database: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{database}", secret_key=SECRET)  # type: ignore[arg-type]
    await _migrate(settings)

    first = await _init(settings, "Default", "owner@example.com", only_if_empty=True)
    second = await _init(settings, "Default", "owner@example.com", only_if_empty=True)

    assert first is not None
    assert first.token.startswith("apk_")
    assert second is None
