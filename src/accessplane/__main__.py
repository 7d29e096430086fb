"""``python -m accessplane``: the ``accessplane`` command, for when no script is installed."""

from __future__ import annotations

from accessplane.cli import app

app(prog_name="accessplane")
