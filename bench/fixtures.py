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


@dataclass(frozen=True, slots=True)
class DecisionFixtures:
    """One generated dataset of the decision endpoint's benchmark (``bench.decision_generate``).

    Token files hold one token per line; paths are relative to the repository root, like a
    relative SQLite URL.
    """

    database_url: str
    secret_key: str  # bench-only, derived from the seed so the digests are reproducible
    gateway_secret: str  # bench-only X-AccessPlane-Gateway-Secret
    seed: int
    credentials: int  # apps on the unlimited plan (the warm ones); the stored total adds `limited`
    api: str  # the identifier of the one API every app may call
    warm_plan: str  # e.g. "100000/SECOND"
    limited_plan: str  # e.g. "1/HOUR"
    warm_tokens_file: str  # a seeded sample of the warm apps' tokens, in random order
    warm_tokens: int  # lines in that file
    unknown_tokens_file: str  # well-formed tokens (valid checksum) that no app holds
    unknown_tokens: int
    limited_tokens_file: str  # every app on the limited plan
    limited_tokens: int
    generated_at: str
    generation_seconds: float
    # MTLS apps, each with one registered certificate (a seeded random fingerprint), and files
    # of forwarded-certificate header values (Envoy's XFCC "Hash=<fingerprint>"): a sample of
    # registered ones in random order, and fingerprints nobody registered.
    certificates: int = 0
    certificates_file: str = ""
    unknown_certificates_file: str = ""

    @property
    def dialect(self) -> str:
        return "sqlite" if self.database_url.startswith("sqlite") else "postgresql"

    @property
    def label(self) -> str:
        return scale_label(self.credentials)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        path.chmod(0o600)

    @classmethod
    def load(cls, path: Path) -> DecisionFixtures:
        data: dict[str, Any] = json.loads(path.read_text())
        return cls(**data)


def scale_label(n: int) -> str:
    """A number of credentials as people say it: 1k, 1m, 250k, 1234."""
    for size, suffix in ((1_000_000, "m"), (1_000, "k")):
        if n >= size and n % (size // 10) == 0:
            return f"{n / size:g}{suffix}"
    return str(n)
