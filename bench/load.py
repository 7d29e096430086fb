"""Drive a target with wrk (a load generator that is not the system under test)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).parent / "lua" / "request.lua"
MARKER = "BENCH_RESULT "
TIMEOUT = 60  # seconds; a slow target under 8 connections can take several per request


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """How hard and how long to push: the same for every target."""

    duration: int = 10  # seconds measured
    warmup: int = 3  # seconds run and discarded before measuring
    connections: int = 8
    threads: int = 1  # one wrk thread leaves the other core to the server


@dataclass(frozen=True, slots=True)
class Request:
    """One fixed request, repeated."""

    url: str
    method: str = "GET"
    body: dict[str, Any] | None = None
    token: str | None = None


@dataclass(frozen=True, slots=True)
class Measurement:
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk not found: apt-get update && apt-get install -y wrk")
    return path


def measure(request: Request, seconds: int, options: LoadOptions) -> Measurement:
    """Run wrk against ``request`` for ``seconds``."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as body:
        if request.body is not None:
            json.dump(request.body, body)
            body.flush()
        env = {
            **os.environ,
            "BENCH_METHOD": request.method,
            "BENCH_BODY_FILE": body.name if request.body is not None else "",
            "BENCH_TOKEN": request.token or "",
        }
        command = [
            require_wrk(),
            f"--threads={options.threads}",
            f"--connections={options.connections}",
            f"--duration={seconds}s",
            f"--timeout={TIMEOUT}s",
            f"--script={SCRIPT}",
            request.url,
        ]
        run = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    line = next((x for x in run.stdout.splitlines() if x.startswith(MARKER)), None)
    if line is None:
        raise RuntimeError(f"no result from wrk:\n{run.stdout}{run.stderr}")
    data = json.loads(line.removeprefix(MARKER))
    latency = data["latency_us"]
    return Measurement(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=latency["p50"] / 1000,
        p95_ms=latency["p95"] / 1000,
        p99_ms=latency["p99"] / 1000,
        errors=sum(data["errors"].values()),
    )
