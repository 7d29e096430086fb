"""What the generator hands to the benchmark: where the data is and how to reach it.

The file holds a bench-only secret key and an Owner API key for a throw-away database; it lives
under ``bench/results/``, which git ignores.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Fixtures:
    """One generated dataset."""

    database_url: str
    secret_key: str
    seed: int
    scale: dict[str, int]
    workspace_id: str  # global id, as a client sends it
    owner_token: str  # an Owner API key of the workspace
    developer_member_id: str  # global id of a Developer member with many grants
    developer_effective_apis: int  # how many APIs that member reaches (direct or via groups)
    generated_at: str

    @property
    def dialect(self) -> str:
        return "sqlite" if self.database_url.startswith("sqlite") else "postgresql"

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        path.chmod(0o600)

    @classmethod
    def load(cls, path: Path) -> Fixtures:
        data: dict[str, Any] = json.loads(path.read_text())
        return cls(**data)
