"""The ``accessplane`` command: migrate, init, version, the first-start bootstrap, and the one
line an operator's mistake ends a command with."""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import make_url
from typer.testing import CliRunner

from accessplane import __version__
from accessplane.auth.tokens import token_digest
from accessplane.cli import _init, _migrate, app
from accessplane.settings import Settings, get_settings
from tests.conftest import POSTGRES_URL, require_service

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


def workspaces(database: Path) -> list[str]:
    with sqlite3.connect(database) as db:
        return [row[0] for row in db.execute("SELECT name FROM workspace ORDER BY name")]


def single_error_line(result: Result) -> str:
    """The one line a refused command printed on stderr (no traceback, nothing on stdout)."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output
    return lines[0]


def test_init_refuses_a_second_workspace_of_the_same_name(database: Path) -> None:
    first = runner.invoke(app, ["init", "--name", "Acme", "--owner-email", "ada@example.com"])
    again = runner.invoke(app, ["init", "--name", "acme ", "--owner-email", "bob@example.com"])
    other = runner.invoke(app, ["init", "--name", "Beta", "--owner-email", "bob@example.com"])

    assert first.exit_code == 0, first.output
    assert again.exit_code == 1
    assert single_error_line(again) == "accessplane: A workspace with name 'acme' exists already."
    assert other.exit_code == 0, other.output
    assert workspaces(database) == ["Acme", "Beta"]


def test_init_prints_the_url_of_the_configured_port(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCESSPLANE_PORT", "9123")
    get_settings.cache_clear()

    result = runner.invoke(app, ["init", "--owner-email", "ada@example.com"])

    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:9123/graphql" in result.stdout
    assert ":8000" not in result.stdout


def test_init_prints_the_url_under_the_public_url(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCESSPLANE_PUBLIC_URL", "https://access.example.com/")
    get_settings.cache_clear()

    result = runner.invoke(app, ["init", "--owner-email", "ada@example.com"])

    assert result.exit_code == 0, result.output
    assert "GraphiQL at https://access.example.com/graphql " in result.stdout
    assert "http://127.0.0.1" not in result.stdout


def test_init_writes_the_owner_key_to_a_private_file_not_the_output(
    database: Path, tmp_path: Path
) -> None:
    key_file = tmp_path / "owner.key"

    result = runner.invoke(
        app, ["init", "--owner-email", "ada@example.com", "--owner-key-file", str(key_file)]
    )

    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    token = key_file.read_text(encoding="ascii").strip()
    assert re.fullmatch(r"apk_[A-Za-z0-9]{36}", token)
    assert "apk_" not in result.output
    assert str(key_file) in result.stdout
    with sqlite3.connect(database) as db:
        digests = [row[0] for row in db.execute("SELECT token_digest FROM api_access")]
    assert digests == [token_digest(token, SECRET.encode())]


def test_init_never_overwrites_a_key_file(database: Path, tmp_path: Path) -> None:
    key_file = tmp_path / "owner.key"
    key_file.write_text("an earlier key\n", encoding="ascii")

    result = runner.invoke(
        app, ["init", "--owner-email", "ada@example.com", "--owner-key-file", str(key_file)]
    )

    assert result.exit_code == 1
    assert "exists already" in single_error_line(result)
    assert key_file.read_text(encoding="ascii") == "an earlier key\n"
    assert not database.exists() or workspaces(database) == []


def test_a_refused_init_leaves_no_key_file(database: Path, tmp_path: Path) -> None:
    key_file = tmp_path / "owner.key"
    assert runner.invoke(app, ["init", "--owner-email", "ada@example.com"]).exit_code == 0

    result = runner.invoke(
        app, ["init", "--owner-email", "ada@example.com", "--owner-key-file", str(key_file)]
    )

    assert result.exit_code == 1
    assert "exists already" in single_error_line(result)
    assert not key_file.exists()


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """A clean ACCESSPLANE_* environment for a command to read (set variables on the result)."""
    for name in list(os.environ):
        if name.startswith("ACCESSPLANE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env file, and a SQLite default of its own
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.mark.parametrize(
    "command", [["migrate"], ["serve"], ["worker"], ["init", "--owner-email", "a@example.com"]]
)
def test_production_refuses_the_development_secret_in_one_line(
    environment: pytest.MonkeyPatch, command: list[str]
) -> None:
    environment.setenv("ACCESSPLANE_ENVIRONMENT", "production")

    result = runner.invoke(app, command)

    assert result.exit_code == 1
    assert single_error_line(result).startswith(
        "accessplane: configuration error: ACCESSPLANE_SECRET_KEY must be set to a random value"
    )
    assert not Path("accessplane.db").exists()


@pytest.mark.parametrize("command", ["serve", "schema"])
def test_an_invalid_setting_is_named_in_one_line(
    environment: pytest.MonkeyPatch, command: str
) -> None:
    environment.setenv("ACCESSPLANE_PORT", "eighty")

    result = runner.invoke(app, [command])

    assert result.exit_code == 1
    line = single_error_line(result)
    assert line.startswith("accessplane: configuration error: ACCESSPLANE_PORT: ")
    assert "valid integer" in line


def test_an_unreadable_json_setting_is_one_line(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("ACCESSPLANE_OIDC_ISSUERS", "[{")

    result = runner.invoke(app, ["migrate"])

    assert result.exit_code == 1
    assert "oidc_issuers" in single_error_line(result)


def test_an_unreachable_database_server_is_one_line(environment: pytest.MonkeyPatch) -> None:
    # Port 1 on the loopback interface: nothing listens, the connection is refused at once.
    environment.setenv("ACCESSPLANE_DATABASE_URL", "postgresql+asyncpg://ap:pw@127.0.0.1:1/ap")

    result = runner.invoke(app, ["migrate"])

    assert result.exit_code == 1
    line = single_error_line(result)
    assert line.startswith(
        "accessplane: configuration error: cannot connect to the database "
        "postgresql+asyncpg://ap:***@127.0.0.1:1/ap: "
    )
    assert "pw" not in line


def test_a_database_file_in_a_missing_directory_is_one_line(
    environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/missing/accessplane.db"
    environment.setenv("ACCESSPLANE_DATABASE_URL", url)

    result = runner.invoke(app, ["init", "--owner-email", "a@example.com"])

    assert result.exit_code == 1
    assert single_error_line(result) == (
        "accessplane: configuration error: ACCESSPLANE_DATABASE_URL: "
        f"no directory {tmp_path}/missing"
    )


def test_a_malformed_database_url_is_one_line(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("ACCESSPLANE_DATABASE_URL", "not a url")

    result = runner.invoke(app, ["migrate"])

    assert result.exit_code == 1
    assert single_error_line(result).startswith(
        "accessplane: configuration error: ACCESSPLANE_DATABASE_URL: "
    )


def test_serve_on_a_missing_postgresql_database_exits_with_one_line() -> None:
    """A real process, so nothing (logging, uvicorn) adds a traceback the runner would hide."""
    require_service(
        "PostgreSQL",
        POSTGRES_URL is not None,
        "set ACCESSPLANE_TEST_DATABASE_URL=postgresql+asyncpg://…",
    )
    assert POSTGRES_URL is not None
    missing = make_url(POSTGRES_URL).set(database=f"accessplane_missing_{secrets.token_hex(4)}")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ACCESSPLANE_")},
        "ACCESSPLANE_DATABASE_URL": missing.render_as_string(hide_password=False),
    }

    result = subprocess.run(
        [sys.executable, "-m", "accessplane", "serve", "--port", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("accessplane: configuration error: cannot connect to the database ")
    assert line.endswith(f'database "{missing.database}" does not exist')
