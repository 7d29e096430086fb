"""The ``accessplane`` command starts without loading the server: ``--help`` and ``version``
import neither the database layer, the GraphQL schema nor the web server. Asserted on what is
imported, in fresh processes, never on how long it takes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from accessplane import __version__

# Packages only the commands that run something may load.
HEAVY = {"sqlalchemy", "sqlmodel", "alembic", "strawberry", "uvicorn", "starlette", "asyncpg"}
SCRIPT = Path(sys.executable).with_name("accessplane")


def imported(command: list[str]) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``command`` with Python's import profiling on; the top-level packages it loaded."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    names = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return result, names


def test_importing_the_cli_loads_no_server_package() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import sys, accessplane.cli; print(*sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = {name.split(".")[0] for name in result.stdout.split()}

    assert "typer" in loaded
    assert "accessplane" in loaded
    assert not HEAVY & loaded


def test_python_dash_m_prints_the_version_without_the_server() -> None:
    result, loaded = imported([sys.executable, "-m", "accessplane", "version"])

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == __version__
    assert "accessplane" in loaded  # the profile did record the imports
    assert not HEAVY & loaded


def test_help_lists_the_commands_without_the_server() -> None:
    result, loaded = imported([str(SCRIPT), "--help"])

    assert result.returncode == 0, result.stderr
    for command in ("init", "migrate", "serve", "worker", "schema", "version"):
        assert command in result.stdout
    assert "typer" in loaded
    assert not HEAVY & loaded


def test_python_dash_m_names_itself_accessplane() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "accessplane", "--help"], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert "Usage: accessplane " in result.stdout
