"""The committed ``schema.graphql`` is the served schema: the console's types are generated from
it, so a change to the API must come with the regenerated file."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from accessplane.cli import app
from accessplane.schema.build import build_schema
from accessplane.settings import Settings

SCHEMA_FILE = Path(__file__).parent.parent / "schema.graphql"
REGENERATE = "regenerate it with: .venv/bin/accessplane schema > schema.graphql"


def test_committed_schema_is_the_served_schema() -> None:
    served = build_schema(Settings()).as_str() + "\n"
    committed = SCHEMA_FILE.read_text(encoding="utf-8")
    assert committed == served, f"schema.graphql differs from the served schema; {REGENERATE}"


def test_schema_command_prints_the_sdl() -> None:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    assert result.output == SCHEMA_FILE.read_text(encoding="utf-8")


def test_schema_command_reports_breaking_changes(tmp_path: Path) -> None:
    older = tmp_path / "older.graphql"
    # An older schema with a field the current one lacks: removing it breaks clients.
    older.write_text(
        SCHEMA_FILE.read_text(encoding="utf-8").replace(
            "type AccessPath {\n", "type AccessPath {\n  retired: String\n", 1
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["schema", "--breaking-against", str(older)])
    assert result.exit_code == 0, result.output
    assert result.output == "BREAKING FIELD_REMOVED: Field AccessPath.retired was removed.\n"

    same = CliRunner().invoke(app, ["schema", "--breaking-against", str(SCHEMA_FILE)])
    assert same.output == "No breaking changes.\n"
