"""Benchmark AccessPlane against hand-written and bare baselines, on every generated database,
in one run, and report the ratios.

For each fixtures file (one per database, written by ``bench.generate``): count the SQL
statements of each target in-process and check that the baseline answers exactly what GraphQL
answers; then start AccessPlane and the baseline app under the same uvicorn settings and drive
each target with wrk, warming up first.

    .venv/bin/python -m bench.run --fixtures bench/results/sqlite.json \
        --fixtures bench/results/postgresql.json
"""

from __future__ import annotations

import asyncio
import os
import platform
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import typer
from pydantic import SecretStr

import accessplane
from accessplane.settings import Settings
from bench.fixtures import Fixtures
from bench.load import LoadOptions, Measurement, Request, measure, require_wrk
from bench.report import DatabaseResult, render
from bench.server import UvicornOptions, serve, wait_idle
from bench.statements import count_statements
from bench.targets import Target, targets

RESULTS = Path(__file__).parent / "results"
SAME_ANSWER = [("a", "c"), ("a10", "c10")]  # GraphQL target, its hand-written twin

cli = typer.Typer(add_completion=False, help=__doc__)


def server_environment(fixtures: Fixtures) -> dict[str, str]:
    """The environment of both servers: production mode, the dataset's database and secret."""
    return {
        "ACCESSPLANE_ENVIRONMENT": "production",
        "ACCESSPLANE_DATABASE_URL": fixtures.database_url,
        "ACCESSPLANE_SECRET_KEY": fixtures.secret_key,
        "ACCESSPLANE_GRAPHIQL": "false",
    }


def check_answers(fixtures: Fixtures, answers: dict[str, Any]) -> None:
    """Refuse to compare apples and oranges: GraphQL must answer without errors, exactly what
    the hand-written endpoint answers, and the Developer's real number of APIs."""
    for key, answer in answers.items():
        if "errors" in answer:
            raise SystemExit(f"target ({key}) answered errors: {answer['errors']}")
    for graphql, hand_written in SAME_ANSWER:
        both = graphql in answers and hand_written in answers
        if both and answers[graphql] != answers[hand_written]:
            raise SystemExit(f"({graphql}) and ({hand_written}) answer different JSON")
    if "b" not in answers:
        return
    total = answers["b"]["data"]["node"]["apis"]["totalCount"]
    if total != fixtures.developer_effective_apis:
        raise SystemExit(
            f"Member.apis counted {total}, expected {fixtures.developer_effective_apis}"
        )


def check_live(target: Target, url: str) -> None:
    """One request over HTTP, so a misconfigured server is caught before it is measured."""
    headers = {"authorization": f"Bearer {target.token}"} if target.token else {}
    response = httpx.request(
        target.method, url + target.path, json=target.body, headers=headers, timeout=30
    )
    if response.status_code != 200 or "errors" in response.json():
        raise SystemExit(f"target ({target.key}) answered {response.status_code}: {response.text}")


def measure_target(target: Target, url: str, load: LoadOptions) -> Measurement:
    """Warm up, then measure, each time on an idle server."""
    request = Request(url + target.path, target.method, target.body, target.token)
    wait_idle(url)
    if load.warmup:
        measure(request, load.warmup, load)
        wait_idle(url)
    measured = measure(request, load.duration, load)
    wait_idle(url)
    return measured


def bench_database(
    fixtures: Fixtures,
    load: LoadOptions,
    server: UvicornOptions,
    rounds: int,
    stamp: str,
    only: frozenset[str] = frozenset(),
) -> DatabaseResult:
    """Everything measured on one database."""
    env = server_environment(fixtures)
    settings = Settings(
        environment="production",
        database_url=fixtures.database_url,
        secret_key=SecretStr(fixtures.secret_key),
        graphiql=False,
    )  # as the servers read it from ``env``
    plan = [t for t in targets(fixtures) if not only or t.key in only]
    counted = asyncio.run(count_statements(settings, plan))
    check_answers(fixtures, {key: answer for key, (_, answer) in counted.items()})
    result = DatabaseResult(fixtures, plan, {key: n for key, (n, _) in counted.items()})
    logs = RESULTS / "logs"
    with (
        serve("accessplane.app:create_app", env=env, options=server,
              log=logs / f"{stamp}-{fixtures.dialect}-app.log") as app_url,
        serve("bench.baseline:create_app", env=env, options=server,
              log=logs / f"{stamp}-{fixtures.dialect}-baseline.log") as baseline_url,
    ):  # fmt: skip
        urls = {"app": app_url, "baseline": baseline_url}
        for target in plan:
            check_live(target, urls[target.server])
        # Rounds interleave the targets, so a burst of noise on this shared machine hits one
        # round of each rather than every round of one.
        for i in range(rounds):
            for target in plan:
                measured = measure_target(target, urls[target.server], load)
                result.rounds.setdefault(target.key, []).append(measured)
                typer.echo(
                    f"  {fixtures.dialect} round {i + 1} ({target.key}): "
                    f"{measured.rps:,.1f} req/s, p50 {measured.p50_ms:.1f} ms, "
                    f"p95 {measured.p95_ms:.1f} ms",
                    err=True,
                )
    return result


def code_under_test() -> str:
    """Which AccessPlane was measured: its path, and its git revision if it is a checkout."""
    package = Path(accessplane.__file__).parent
    git = ["git", "-C", str(package)]
    revision = subprocess.run(
        [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    if revision.returncode != 0:
        return f"`{package}` (not a git checkout)"
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--", "."], capture_output=True, text=True
    )
    state = " with uncommitted changes" if dirty.stdout.strip() else ""
    return f"`{package}` at {revision.stdout.strip()}{state}"


def preamble(command: str, load: LoadOptions, server: UvicornOptions, rounds: int) -> list[str]:
    """When, where and how: what a reader needs to compare two reports."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    wrk = subprocess.run([require_wrk(), "--version"], capture_output=True, text=True).stdout
    packages = ", ".join(
        f"{name} {version(name)}"
        for name in (
            "strawberry-graphql",
            "starlette",
            "uvicorn",
            "sqlalchemy",
            "aiosqlite",
            "asyncpg",
        )
    )
    return [
        f"## AccessPlane benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{command}`",
        "",
        f"- Machine: {os.cpu_count()} CPUs ({cpu}), load average at start "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; Python {platform.python_version()}; "
        f"{packages}; {wrk.split(' Copyright')[0].strip()}.",
        f"- Code: {code_under_test()}.",
        f"- Servers: uvicorn, {server.workers} worker, loop `{server.loop}`, http `{server.http}`, "
        "access log off, ACCESSPLANE_ENVIRONMENT=production.",
        f"- Load: wrk, {load.threads} thread(s), {load.connections} connections, "
        f"{load.warmup} s warm-up then {load.duration} s measured per target; {rounds} round(s) "
        "interleaving the targets, median of rounds reported.",
    ]


@cli.command()
def main(
    fixtures: list[Path] = typer.Option(
        None,
        help="Fixtures files from bench.generate (default: every bench/results/*.json "
        "named sqlite.json or postgresql.json).",
    ),
    duration: int = typer.Option(10, min=1, help="Seconds measured per target."),
    warmup: int = typer.Option(3, min=0, help="Seconds of warm-up per target."),
    connections: int = typer.Option(8, min=1),
    threads: int = typer.Option(1, min=1, help="wrk threads."),
    rounds: int = typer.Option(1, min=1, help="Interleaved rounds; the median is reported."),
    loop: str = typer.Option("asyncio", help="uvicorn --loop, the same for every server."),
    http: str = typer.Option("h11", help="uvicorn --http, the same for every server."),
    only: str = typer.Option(
        "", help="Comma-separated target keys to measure (e.g. d,e,f); default: every target."
    ),
) -> None:
    """Measure every target on every database and print the Markdown report."""
    require_wrk()
    paths = fixtures or [
        p for p in (RESULTS / "sqlite.json", RESULTS / "postgresql.json") if p.exists()
    ]
    if not paths:
        raise typer.BadParameter("no fixtures: run `python -m bench.generate` first")
    load = LoadOptions(duration=duration, warmup=warmup, connections=connections, threads=threads)
    server = UvicornOptions(loop=loop, http=http)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    command = shlex.join([Path(sys.executable).name, "-m", "bench.run", *sys.argv[1:]])
    head = preamble(command, load, server, rounds)
    keys = frozenset(k.strip() for k in only.split(",") if k.strip())
    results = [bench_database(Fixtures.load(p), load, server, rounds, stamp, keys) for p in paths]
    report = render(results, preamble=head)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{stamp}.md"
    out.write_text(report)
    typer.echo(report)
    typer.echo(f"Written to {out}", err=True)


if __name__ == "__main__":
    cli()
