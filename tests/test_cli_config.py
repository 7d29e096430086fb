"""``accessplane export``, ``apply`` and ``config-schema`` against a real SQLite file."""

from __future__ import annotations

import json
import re
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accessplane.cli import app
from accessplane.settings import get_settings

runner = CliRunner()
SECRET = "cli-config-secret-0123456789abcdef01"

CONFIG = """\
version: 1
workspace: acme
apis:
  - {identifier: payments, name: Payments}
  - {identifier: orders, name: Orders}
plans:
  - name: gold
    rateLimit: {requests: 100, period: MINUTE}
products:
  - {name: Payments API, authMethod: AUTH_TOKEN, apis: [payments], published: true}
clients:
  - name: Acme Corp
    apps:
      - {name: prod, authMethod: AUTH_TOKEN, products: [Payments API], plan: gold}
"""


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "cli.db"
    monkeypatch.setenv("ACCESSPLANE_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("ACCESSPLANE_SECRET_KEY", SECRET)
    monkeypatch.delenv("ACCESSPLANE_KEY", raising=False)
    get_settings.cache_clear()
    result = runner.invoke(app, ["init", "--name", "Acme", "--owner-email", "ada@example.com"])
    assert result.exit_code == 0, result.output
    yield path
    get_settings.cache_clear()


def rows(database: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as db:
        return list(db.execute(sql))


def write(tmp_path: Path, text: str, name: str = "acme.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_dry_run_prints_the_plan_and_writes_nothing(database: Path, tmp_path: Path) -> None:
    events = rows(database, "SELECT count(*) FROM audit_event")
    result = runner.invoke(app, ["apply", "-f", str(write(tmp_path, CONFIG)), "--dry-run"])

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:3] == ["+ api payments", "+ api orders", "+ plan gold"]
    assert "+ app Acme Corp/prod" in lines
    assert lines[-1] == "Dry run: 6 change(s) planned, nothing written."
    assert "apt_" not in result.output
    assert rows(database, "SELECT count(*) FROM api") == [(0,)]
    assert rows(database, "SELECT count(*) FROM audit_event") == events


def test_apply_writes_new_tokens_to_a_private_file_and_is_idempotent(
    database: Path, tmp_path: Path
) -> None:
    config = write(tmp_path, CONFIG)
    credentials = tmp_path / "tokens.txt"
    first = runner.invoke(app, ["apply", "-f", str(config), "--credentials-file", str(credentials)])

    assert first.exit_code == 0, first.output
    assert "Applied 6 change(s)." in first.stdout
    assert "apt_" not in first.output
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert re.fullmatch(r"Acme Corp/prod: apt_\S+\n", credentials.read_text())
    assert rows(database, "SELECT identifier FROM api ORDER BY identifier") == [
        ("orders",),
        ("payments",),
    ]
    # Audited as the system principal: the command line without --key.
    assert rows(
        database, "SELECT DISTINCT actor_type FROM audit_event WHERE action = 'createApi'"
    ) == [("SYSTEM",)]

    again = runner.invoke(app, ["apply", "-f", str(config)])
    assert again.exit_code == 0, again.output
    assert again.stdout == "No changes.\n"

    exported = runner.invoke(app, ["export", "--workspace", "acme"])
    assert exported.exit_code == 0, exported.output
    assert "apt_" not in exported.stdout
    assert "tokenHint" not in exported.stdout
    round_trip = runner.invoke(
        app, ["apply", "-f", str(write(tmp_path, exported.stdout, "e.yaml"))]
    )
    assert round_trip.stdout == "No changes.\n"


def test_apply_prints_new_tokens_once_without_a_credentials_file(
    database: Path, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["apply", "-f", str(write(tmp_path, CONFIG))])

    assert result.exit_code == 0, result.output
    assert re.search(r"^Acme Corp/prod: apt_\S+$", result.stdout, re.MULTILINE)


def test_prune_deletes_what_the_file_leaves_out(database: Path, tmp_path: Path) -> None:
    assert runner.invoke(app, ["apply", "-f", str(write(tmp_path, CONFIG))]).exit_code == 0
    smaller = write(tmp_path, CONFIG.replace("  - {identifier: orders, name: Orders}\n", ""), "s")

    kept = runner.invoke(app, ["apply", "-f", str(smaller)])
    pruned = runner.invoke(app, ["apply", "-f", str(smaller), "--prune"])

    assert kept.stdout == "No changes.\n"
    assert pruned.exit_code == 0, pruned.output
    assert pruned.stdout.splitlines()[0] == "- api orders"
    assert rows(database, "SELECT identifier FROM api") == [("payments",)]


def test_a_bad_file_answers_with_each_path_and_writes_nothing(
    database: Path, tmp_path: Path
) -> None:
    bad = CONFIG.replace("identifier: orders", "identifier: Orders!").replace(
        "requests: 100", "requests: -1"
    )
    result = runner.invoke(app, ["apply", "-f", str(write(tmp_path, bad))])

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    errors = result.stderr.splitlines()
    assert [line.split(":")[1].strip() for line in errors] == [
        "apis[1].identifier",
        "plans[0].rateLimit.requests",
    ]
    assert rows(database, "SELECT count(*) FROM api") == [(0,)]


def test_apply_as_an_api_key_is_audited_as_the_key(database: Path, tmp_path: Path) -> None:
    init = runner.invoke(app, ["init", "--name", "Beta", "--owner-email", "bob@example.com"])
    key = re.search(r"apk_\S+", init.stdout)
    assert key is not None
    config = write(tmp_path, CONFIG.replace("workspace: acme", "workspace: beta"))

    result = runner.invoke(app, ["apply", "-f", str(config)], env={"ACCESSPLANE_KEY": key[0]})
    wrong = runner.invoke(
        app, ["apply", "-f", str(write(tmp_path, CONFIG, "a.yaml")), "--key", key[0]]
    )

    assert result.exit_code == 0, result.output
    assert rows(
        database, "SELECT DISTINCT actor_type FROM audit_event WHERE action = 'createApi'"
    ) == [("API_ACCESS",)]
    assert wrong.exit_code == 1  # the key of beta cannot apply to acme
    assert wrong.stderr.startswith("accessplane: ")


def test_config_schema_prints_the_committed_schema() -> None:
    result = runner.invoke(app, ["config-schema"])

    assert result.exit_code == 0
    committed = Path(__file__).resolve().parents[1] / "docs" / "workspace-config.schema.json"
    assert result.stdout == committed.read_text(encoding="utf-8")
    assert json.loads(result.stdout)["title"] == "AccessPlane workspace configuration"
