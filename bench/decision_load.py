"""Drive the decision endpoint (or the bare one) with wrk and ``lua/decision.lua``: every request
carries the next credential of a token file, and every answer is checked."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.load import MARKER, TIMEOUT, require_wrk

SCRIPT = Path(__file__).parent / "lua" / "decision.lua"
SAMPLE = "BENCH_SAMPLE "


@dataclass(frozen=True, slots=True)
class Scenario:
    """One kind of request and the one answer it must get."""

    key: str
    title: str
    server: str  # "app" or "bare"
    mode: str  # "check", "authorize" or "plain" (see lua/decision.lua)
    path: str
    expect_status: int
    expect_reason: str | None = None  # check and authorize
    expect_body: str | None = None  # plain
    tokens_file: str | None = None
    tokens_max: int = 0  # the first N lines of tokens_file; 0: all
    # authorize: the header each line goes in (e.g. a forwarded client certificate); None:
    # Authorization: Bearer.
    credential_header: str | None = None

    @property
    def endpoint(self) -> str:
        return self.mode if self.mode != "plain" else self.key


@dataclass(frozen=True, slots=True)
class Load:
    """How a run pushes: connections, wrk threads, and a pause between a connection's requests
    (0 drives the server as fast as it answers)."""

    seconds: int
    connections: int
    threads: int = 1
    pace_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class Measured:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    socket_errors: int  # connect, read, write, timeout
    unexpected: int  # answers other than the scenario's expected one
    sample: str  # the first unexpected answer, for the error message

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


class UnexpectedAnswers(RuntimeError):
    """A run got answers it should not have: its figures would measure something else."""


def run_wrk(scenario: Scenario, url: str, load: Load, *, api: str, gateway_secret: str) -> Measured:
    """One wrk run of ``scenario`` against the server at ``url``; raises UnexpectedAnswers if
    any answer differs from the expected one or any socket failed."""
    env = {
        **os.environ,
        "BENCH_MODE": scenario.mode,
        "BENCH_PATH": scenario.path,
        "BENCH_API": api,
        "BENCH_TOKENS_FILE": scenario.tokens_file or "",
        "BENCH_TOKENS_MAX": str(scenario.tokens_max),
        "BENCH_GATEWAY_SECRET": gateway_secret,
        "BENCH_CREDENTIAL_HEADER": scenario.credential_header or "",
        "BENCH_EXPECT_STATUS": str(scenario.expect_status),
        "BENCH_EXPECT_REASON": scenario.expect_reason or "",
        "BENCH_EXPECT_BODY": scenario.expect_body or "",
        "BENCH_PACE_MS": f"{load.pace_ms:.3f}",
    }
    command = [
        require_wrk(),
        f"--threads={load.threads}",
        f"--connections={load.connections}",
        f"--duration={load.seconds}s",
        f"--timeout={TIMEOUT}s",
        f"--script={SCRIPT}",
        url + scenario.path,
    ]
    run = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    lines = run.stdout.splitlines()
    line = next((x for x in lines if x.startswith(MARKER)), None)
    if line is None:
        raise RuntimeError(f"no result from wrk:\n{run.stdout}{run.stderr}")
    data = json.loads(line.removeprefix(MARKER))
    latency, errors = data["latency_us"], data["errors"]
    measured = Measured(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=latency["p50"] / 1000,
        p99_ms=latency["p99"] / 1000,
        mean_ms=latency["mean"] / 1000,
        # "status" counts every answer of 400 or more, which unknown and limited expect.
        socket_errors=sum(errors[k] for k in ("connect", "read", "write", "timeout")),
        unexpected=data["unexpected"],
        sample=next((x.removeprefix(SAMPLE) for x in lines if x.startswith(SAMPLE)), ""),
    )
    if measured.unexpected or measured.socket_errors:
        expected = " ".join(
            str(x)
            for x in (scenario.expect_status, scenario.expect_reason, scenario.expect_body)
            if x is not None
        )
        raise UnexpectedAnswers(
            f"{scenario.key}: {measured.unexpected} of {data['responses']} answers were not "
            f"{expected}, {measured.socket_errors} socket errors; first unexpected answer: "
            f"{measured.sample or '(none)'}"
        )
    return measured
