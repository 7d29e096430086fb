"""Benchmark the decision endpoint against a bare Starlette endpoint, at every generated scale,
in one run, and report requests/s, p50, p99, the ratio to bare, p99 at half of saturation and
the server's memory.

For each fixtures file (one per scale, written by ``bench.decision_generate``): start
AccessPlane and the bare app (bench/baseline.py) under the same uvicorn settings; check one
answer of every kind and warm the caches (each warm credential asked once, up to
``--rss-credentials`` of them, then the unknown and the limited ones); read the server's RSS;
drive every scenario with wrk, every answer checked; then the paced runs at half of saturation.

    .venv/bin/python -m bench.decision_run --duration 10
"""

from __future__ import annotations

import asyncio
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import typer
from alembic.script import ScriptDirectory
from sqlalchemy import text

from accessplane.db import create_engine
from accessplane.db.migrate import alembic_config
from accessplane.models import RateLimitPeriod
from bench.decision_generate import OPERATIONS, OPS_API_IDENTIFIER
from bench.decision_load import Load, Measured, Scenario, UnexpectedAnswers, run_wrk
from bench.decision_report import BARE, LIVE, Memory, Paced, ScaleResult, render
from bench.fixtures import DecisionFixtures
from bench.load import require_wrk
from bench.run import code_under_test
from bench.server import UvicornOptions, serve, start, wait_idle

RESULTS = Path(__file__).parent / "results"
DEFAULT_FIXTURES = ("decision-1k.json", "decision-1m.json")
CALIBRATION_SECONDS = 3  # the paced run's first try, which measures the latency to allow for
CHECK_SAMPLE = 20  # forward-auth answers checked one by one before the load (check: all)
MINUTE = 60  # the window of a --warm-period minute plan, in seconds
# The same warm credentials asking about the API declaring operations (GET /orders, one of the
# operations its product chose): the operation check's cost is the ratio to the plain warm run.
OPS_SCENARIOS = {"check-ops": "check-warm", "authorize-ops": "authorize-warm"}
TARGET_OPS_RATIO = 0.9
# The server's CPU per warm request with and without the operation check, by scale and
# scenario, in microseconds (``_operations_cpu``).
OPS_CPU: dict[str, dict[str, float]] = {}
# The warm scenarios again against a third server with the call log off
# (ACCESSPLANE_CALL_LOG_ENABLED=false), in the same round: the call log's cost is the ratio of
# on over off; the budget is at least 0.9.
NO_CALL_LOG = "nolog"
CALL_LOG_SCENARIOS = {"check-warm": "check-warm-nolog", "authorize-warm": "authorize-warm-nolog"}
TARGET_CALL_LOG_RATIO = 0.9
# The servers' CPU per warm request with the call log on and off, by scale and scenario, in
# microseconds (``_call_log_cpu``).
CPU_PER_REQUEST: dict[str, dict[str, float]] = {}

cli = typer.Typer(add_completion=False, help=__doc__)


def scenarios(fixtures: DecisionFixtures, working_set: int) -> list[Scenario]:
    """What is measured at one scale, in the order of a round."""
    api = fixtures.api
    authorize = f"/v1/authorize?api={api}"
    ops = f"{OPERATIONS} operations declared"
    warm, unknown = fixtures.warm_tokens_file, fixtures.unknown_tokens_file
    limited = fixtures.limited_tokens_file
    return [
        Scenario(BARE, 'bare Starlette {"ok": true}', "bare", "plain", "/bare", 200,
                 expect_body='"ok":true'),
        Scenario("healthz", "AccessPlane /healthz (its middleware, no decision)", "app",
                 "plain", "/healthz", 200, expect_body='"status":"ok"'),
        Scenario("check-warm", "check, warm", "app", "check", "/v1/check", 200, "ok",
                 tokens_file=warm, tokens_max=working_set),
        Scenario("check-ops", f"check, warm, {ops}", "app", "check", "/v1/check", 200, "ok",
                 tokens_file=warm, tokens_max=working_set),
        Scenario("authorize-warm", "authorize, warm", "app", "authorize", authorize, 200, "ok",
                 tokens_file=warm, tokens_max=working_set),
        Scenario("authorize-ops", f"authorize, warm, {ops}", "app", "authorize",
                 f"/v1/authorize?api={OPS_API_IDENTIFIER}", 200, "ok", tokens_file=warm,
                 tokens_max=working_set),
        Scenario("check-unknown", "check, unknown", "app", "check", "/v1/check", 200,
                 "unknown_credential", tokens_file=unknown),
        Scenario("authorize-unknown", "authorize, unknown", "app", "authorize", authorize, 401,
                 "unknown_credential", tokens_file=unknown),
        Scenario("check-limited", "check, at rate limit", "app", "check", "/v1/check", 200,
                 "rate_limited", tokens_file=limited),
        Scenario("authorize-limited", "authorize, at rate limit", "app", "authorize", authorize,
                 429, "rate_limited", tokens_file=limited),
    ]  # fmt: skip


# MTLS apps (bench.decision_generate --certificates): forward auth with the client
# certificate in Envoy's header, as "Hash=<fingerprint>", in place of a token.
CERTIFICATE_HEADER = "X-Forwarded-Client-Cert"


def certificate_scenarios(fixtures: DecisionFixtures, working_set: int) -> list[Scenario]:
    """Forward auth by a forwarded certificate, registered (warm) and unknown; none when the
    dataset has no MTLS apps."""
    if not fixtures.certificates:
        return []
    authorize = f"/v1/authorize?api={fixtures.api}"
    return [
        Scenario("authorize-certificate", "authorize, certificate, warm", "app", "authorize",
                 authorize, 200, "ok", tokens_file=fixtures.certificates_file,
                 tokens_max=working_set, credential_header=CERTIFICATE_HEADER),
        Scenario("authorize-certificate-unknown", "authorize, certificate, unknown", "app",
                 "authorize", authorize, 401, "certificate_not_recognised",
                 tokens_file=fixtures.unknown_certificates_file,
                 credential_header=CERTIFICATE_HEADER),
    ]  # fmt: skip


def prepare_certificates(app: str, fixtures: DecisionFixtures, working_set: int) -> None:
    """Check the certificate scenarios' answers, and warm the working set's look-ups."""
    if not fixtures.certificates:
        return
    for file, limit, status, reason in (
        (fixtures.certificates_file, working_set, 200, "ok"),
        (fixtures.unknown_certificates_file, None, 401, "certificate_not_recognised"),
    ):
        answers: Counter[tuple[int, str]] = Counter()
        with httpx.Client(base_url=app, timeout=60) as client:
            for value in read_tokens(file, limit):
                response = client.get(
                    "/v1/authorize",
                    params={"api": fixtures.api},
                    headers={
                        "X-AccessPlane-Gateway-Secret": fixtures.gateway_secret,
                        CERTIFICATE_HEADER: value,
                    },
                )
                answers[response.status_code, _reason(response)] += 1
        expect(f"authorize, certificate, {reason}", answers, status, reason)


def call_log_scenarios(plan: list[Scenario]) -> list[Scenario]:
    """The warm scenarios of ``plan`` against the server with the call log off."""
    return [
        replace(s, key=CALL_LOG_SCENARIOS[s.key], title=f"{s.title}, call log off",
                server=NO_CALL_LOG)
        for s in plan
        if s.key in CALL_LOG_SCENARIOS
    ]  # fmt: skip


def warm_call_log_off(url: str, fixtures: DecisionFixtures, working_set: int) -> None:
    """Warm the call-log-off server's cache with the same working set."""
    warm = read_tokens(fixtures.warm_tokens_file, working_set)
    answers = asyncio.run(ask(url, warm, endpoint="check", fixtures=fixtures))
    expect("check, warm, call log off", answers, 200, "ok")


def cpu_seconds(pid: int) -> float:
    """The CPU time a process (every thread of it) has used, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _call_log_cpu(
    result: ScaleResult, pids: dict[str, int], urls: dict[str, str], options: RunOptions
) -> None:
    """One more run of each warm scenario with the call log on and off, reading the serving
    process's CPU time around it: CPU per request holds still when other processes share the
    machine, where requests/s does not."""
    found: dict[str, float] = {}
    for key in (*CALL_LOG_SCENARIOS, *CALL_LOG_SCENARIOS.values()):
        scenario = next(s for s in result.scenarios if s.key == key)
        before = cpu_seconds(pids[scenario.server])
        measured = measure(scenario, urls[scenario.server], options.load, 0, result.fixtures)
        found[key] = (cpu_seconds(pids[scenario.server]) - before) / measured.requests * 1e6
        typer.echo(
            f"  {result.fixtures.label} {key}: {found[key]:.0f} µs CPU per request", err=True
        )
    CPU_PER_REQUEST[result.fixtures.label] = found


def _operations_cpu(result: ScaleResult, pid: int, url: str, options: RunOptions) -> None:
    """CPU per request of the warm scenarios with and without the operation check, from the
    serving process's CPU time around a run of each, in the order A B B A so that a drift
    of the machine weighs on both alike: requests/s moves with whatever else the shared
    machine runs, CPU per request much less."""
    spent: dict[str, list[float]] = {}
    for ops_key, plain in OPS_SCENARIOS.items():
        for key in (plain, ops_key, ops_key, plain):
            scenario = next(s for s in result.scenarios if s.key == key)
            before = cpu_seconds(pid)
            measured = measure(scenario, url, options.load, 0, result.fixtures)
            spent.setdefault(key, []).append((cpu_seconds(pid) - before) / measured.requests * 1e6)
    OPS_CPU[result.fixtures.label] = {k: statistics.mean(v) for k, v in spent.items()}
    for key, value in OPS_CPU[result.fixtures.label].items():
        typer.echo(f"  {result.fixtures.label} {key}: {value:.0f} µs CPU per request", err=True)


def live_scenario(fixtures: DecisionFixtures, live_apps: int) -> Scenario:
    """Warm checks rotating through ``live_apps`` apps: on a per-minute plan each of them keeps
    a live rate-limit counter while the load lasts."""
    return Scenario(
        LIVE,
        f"check, warm, {live_apps:,} apps live",
        "app",
        "check",
        "/v1/check",
        200,
        "ok",
        tokens_file=fixtures.warm_tokens_file,
        tokens_max=live_apps,
    )


def server_environment(
    fixtures: DecisionFixtures, *, cache_size: int, cache_ttl: int
) -> dict[str, str]:
    """Both servers' environment: production mode, the dataset, a cache for every credential
    the run warms, and a TTL longer than the run so warm stays warm."""
    certificates = {"ACCESSPLANE_DECISION_CERTIFICATE_HEADER": CERTIFICATE_HEADER}
    return {
        **(certificates if fixtures.certificates else {}),
        "ACCESSPLANE_ENVIRONMENT": "production",
        "ACCESSPLANE_DATABASE_URL": fixtures.database_url,
        "ACCESSPLANE_SECRET_KEY": fixtures.secret_key,
        "ACCESSPLANE_GRAPHIQL": "false",
        "ACCESSPLANE_DECISION_GATEWAY_SECRET": fixtures.gateway_secret,
        "ACCESSPLANE_DECISION_CACHE_SIZE": str(cache_size),
        "ACCESSPLANE_DECISION_CACHE_TTL": str(cache_ttl),
    }


def read_tokens(path: str, limit: int | None = None) -> list[str]:
    tokens = [line.strip() for line in Path(path).read_text().splitlines() if line.strip()]
    return tokens[:limit] if limit is not None else tokens


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """A memory figure of a process from /proc/<pid>/status, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


async def schema_is_current(url: str) -> tuple[str | None, str | None]:
    """The dataset's migration revision and the checkout's head."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        await engine.dispose()
    return revision, head


# Checking answers and warming the caches, over HTTP like the load


async def ask(
    url: str,
    tokens: Sequence[str],
    *,
    endpoint: str,
    fixtures: DecisionFixtures,
    concurrency: int = 16,
) -> Counter[tuple[int, str]]:
    """Ask about each token once; how many answers had each (status, reason)."""
    answers: Counter[tuple[int, str]] = Counter()
    pending = iter(tokens)
    headers = {"X-AccessPlane-Gateway-Secret": fixtures.gateway_secret}

    async def worker(client: httpx.AsyncClient) -> None:
        for token in pending:
            if endpoint == "check":
                body = {"credential": token, "api": fixtures.api, "method": "GET",
                        "path": "/orders", "ip": "203.0.113.7"}  # fmt: skip
                response = await client.post("/v1/check", json=body)
            else:
                response = await client.get(
                    "/v1/authorize",
                    params={"api": fixtures.api},
                    # As lua/decision.lua sends it: the request the gateway asks about.
                    headers={
                        "Authorization": f"Bearer {token}",
                        "X-Forwarded-Method": "GET",
                        "X-Forwarded-Uri": "/orders",
                    },
                )
            answers[response.status_code, _reason(response)] += 1

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=60
    ) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return answers


def _reason(response: httpx.Response) -> str:
    try:
        data: Any = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("reason"), str):
        return str(data["reason"])
    return str(response.headers.get("x-accessplane-reason", f"(no reason: {response.text[:200]})"))


def expect(what: str, answers: Counter[tuple[int, str]], status: int, reason: str) -> None:
    wrong = {k: n for k, n in answers.items() if k != (status, reason)}
    if wrong:
        raise SystemExit(
            f"{what}: expected every answer {status} {reason}, got "
            + ", ".join(f"{n} x {s} {r}" for (s, r), n in answers.most_common())
        )


def prepare(
    app: str, bare: str, fixtures: DecisionFixtures, *, working_set: int, warm_credentials: int
) -> tuple[int, float]:
    """Check one answer of every kind, warm the caches; returns how many warm credentials
    were asked (and so are cached), and the seconds their first, cold, lookups took."""
    response = httpx.get(f"{bare}/bare")
    if response.status_code != 200 or response.json() != {"ok": True}:
        raise SystemExit(f"bare endpoint answered {response.status_code}: {response.text}")
    warm = read_tokens(fixtures.warm_tokens_file, max(working_set, warm_credentials))
    unknown = read_tokens(fixtures.unknown_tokens_file)
    limited = read_tokens(fixtures.limited_tokens_file)

    def step(what: str, tokens: Sequence[str], endpoint: str, status: int, reason: str) -> float:
        started = time.perf_counter()
        answers = asyncio.run(ask(app, tokens, endpoint=endpoint, fixtures=fixtures))
        expect(what, answers, status, reason)
        seconds = time.perf_counter() - started
        typer.echo(f"  {what}: {len(tokens):,} asked in {seconds:.1f} s", err=True)
        return seconds

    cold = step("check, warm working set", warm[:working_set], "check", 200, "ok")
    # The cold scenario's yardstick: the same requests from the same client, now warm.
    again = step("check, the working set again (warm)", warm[:working_set], "check", 200, "ok")
    typer.echo(f"  cold over warm, same requests: {again / cold:.2f}", err=True)
    step("authorize, warm", warm[:CHECK_SAMPLE], "authorize", 200, "ok")
    with_ops = replace(fixtures, api=OPS_API_IDENTIFIER)
    for endpoint in ("check", "authorize"):
        answers = asyncio.run(ask(app, warm[:CHECK_SAMPLE], endpoint=endpoint, fixtures=with_ops))
        expect(f"{endpoint}, warm, {OPERATIONS} operations declared", answers, 200, "ok")
    step("check, unknown", unknown, "check", 200, "unknown_credential")
    step("authorize, unknown", unknown[:CHECK_SAMPLE], "authorize", 401, "unknown_credential")
    # Each limited app's one request per hour goes first; every later one is limited.
    first = asyncio.run(ask(app, limited, endpoint="check", fixtures=fixtures))
    if set(first) - {(200, "ok"), (200, "rate_limited")}:
        raise SystemExit(f"check, limited, first request: {dict(first)}")
    step("check, at rate limit", limited, "check", 200, "rate_limited")
    step("authorize, at rate limit", limited, "authorize", 429, "rate_limited")
    if len(warm) > working_set:
        cold += step(
            "check, warming for the memory figure and the live apps",
            warm[working_set:], "check", 200, "ok",
        )  # fmt: skip
    return len(warm), cold


# Load runs


def measure(
    scenario: Scenario, url: str, load: Load, warmup: int, fixtures: DecisionFixtures
) -> Measured:
    """Warm up, then measure, each time on an idle server."""
    api = OPS_API_IDENTIFIER if scenario.key in OPS_SCENARIOS else fixtures.api
    options = {"api": api, "gateway_secret": fixtures.gateway_secret}
    wait_idle(url)
    if warmup:
        run_wrk(scenario, url, Load(warmup, load.connections, load.threads), **options)
        wait_idle(url)
    measured = run_wrk(scenario, url, load, **options)
    wait_idle(url)
    return measured


def paced(
    scenario: Scenario,
    url: str,
    *,
    target_rps: float,
    connections: int,
    seconds: int,
    warmup: int,
    fixtures: DecisionFixtures,
) -> Paced:
    """Hold the load near ``target_rps``: each connection pauses between its requests. A
    connection's cycle is its latency plus the pause, so the pause is the cycle the target
    needs minus the latency a first, short run measured."""
    cycle_ms = connections * 1000 / target_rps
    first = measure(
        scenario, url, Load(CALIBRATION_SECONDS, connections, pace_ms=cycle_ms), 0, fixtures
    )
    pace_ms = max(0.0, cycle_ms - first.mean_ms)
    measured = measure(scenario, url, Load(seconds, connections, pace_ms=pace_ms), warmup, fixtures)
    return Paced(target_rps, connections, pace_ms, measured)


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Everything a scale's run is told, the same for every scale."""

    app_factory: str
    load: Load
    warmup: int
    rounds: int
    working_set: int
    rss_credentials: int
    live_apps: int
    paced_connections: int
    cache_ttl: int
    server: UvicornOptions
    stamp: str


def bench_scale(fixtures: DecisionFixtures, options: RunOptions) -> ScaleResult:
    """Everything measured on one dataset."""
    revision, head = asyncio.run(schema_is_current(fixtures.database_url))
    if revision != head:
        raise SystemExit(
            f"{fixtures.database_url} is at migration {revision}, the code at {head}: "
            "generate it again (python -m bench.decision_generate ... --reset)"
        )
    working_set = min(options.working_set, fixtures.warm_tokens)
    live_apps = min(options.live_apps, fixtures.warm_tokens)
    if live_apps and not fixtures.warm_plan.endswith(f"/{RateLimitPeriod.MINUTE.value}"):
        raise typer.BadParameter(
            f"--live-apps needs a dataset whose warm plan counts per minute, not "
            f"{fixtures.warm_plan}: generate it with --warm-period minute"
        )
    plan = scenarios(fixtures, working_set) + certificate_scenarios(fixtures, working_set)
    plan += call_log_scenarios(plan)
    env = server_environment(
        fixtures,
        cache_size=max(200_000, 2 * options.rss_credentials, 2 * live_apps),
        cache_ttl=options.cache_ttl,
    )
    logs = RESULTS / "logs" / f"{options.stamp}-decision-{fixtures.label}"
    result = ScaleResult(fixtures, plan, working_set)
    with (
        start(options.app_factory, env=env, options=options.server,
              log=Path(f"{logs}-app.log")) as app,
        serve("bench.baseline:create_app", env=env, options=options.server,
              log=Path(f"{logs}-bare.log")) as bare_url,
        start(options.app_factory, env={**env, "ACCESSPLANE_CALL_LOG_ENABLED": "false"},
              options=options.server, log=Path(f"{logs}-nolog.log")) as nolog,
    ):  # fmt: skip
        started_mb = rss_mb(app.pid)
        cached, cold_seconds = prepare(
            app.url,
            bare_url,
            fixtures,
            working_set=working_set,
            warm_credentials=max(options.rss_credentials, live_apps),
        )
        prepare_certificates(app.url, fixtures, working_set)
        warm_call_log_off(nolog.url, fixtures, working_set)
        wait_idle(app.url)
        cached_mb = rss_mb(app.pid)
        if live_apps:
            # Warming started a counter for each app: the working set's runs come after their
            # windows end, so they count with the working set's counters alone.
            typer.echo(f"  waiting {MINUTE} s for the warming's counters to end", err=True)
            time.sleep(MINUTE)
        urls = {"app": app.url, "bare": bare_url, NO_CALL_LOG: nolog.url}
        _rounds(result, urls, options)
        _paced_runs(result, urls, options)
        _call_log_cpu(result, {"app": app.pid, NO_CALL_LOG: nolog.pid}, urls, options)
        _operations_cpu(result, app.pid, app.url, options)
        if live_apps:
            _live(result, app.url, options, live_apps)
        result.memory = Memory(
            started_mb=started_mb,
            cached=cached,
            cold_seconds=cold_seconds,
            cached_mb=cached_mb,
            after_load_mb=rss_mb(app.pid),
            peak_mb=rss_mb(app.pid, "VmHWM"),
        )
    return result


def _rounds(result: ScaleResult, urls: dict[str, str], options: RunOptions) -> None:
    """Rounds interleave the scenarios, so a burst of noise on a shared machine hits one round
    of each rather than every round of one."""
    for i in range(options.rounds):
        for scenario in result.scenarios:
            measured = measure(
                scenario, urls[scenario.server], options.load, options.warmup, result.fixtures
            )
            result.rounds.setdefault(scenario.key, []).append(measured)
            _progress(f"{result.fixtures.label} round {i + 1} {scenario.key}", measured)


def _paced_runs(result: ScaleResult, urls: dict[str, str], options: RunOptions) -> None:
    """Half of saturation, for the decision endpoint's warm scenarios and, as the control that
    says how much of a p99 is this machine's, for the bare endpoint."""
    for scenario in result.scenarios:
        if not (scenario.key.endswith("-warm") or scenario.key == BARE):
            continue
        half = result.summary(scenario.key).rps / 2
        held = paced(
            scenario,
            urls[scenario.server],
            target_rps=half,
            connections=options.paced_connections,
            seconds=options.load.seconds,
            warmup=options.warmup,
            fixtures=result.fixtures,
        )
        result.paced[scenario.endpoint] = held
        _progress(f"{result.fixtures.label} {scenario.key} held at {half:,.0f}/s", held.measured)


def _live(result: ScaleResult, url: str, options: RunOptions, live_apps: int) -> None:
    """Warm checks with ``live_apps`` live counters, after everything else (their counters
    outlive the runs by a minute). Each app is asked once first, so all of them count from
    the first measured request, and the rotation keeps them live: each comes back within
    seconds, well inside its minute."""
    fixtures = result.fixtures
    tokens = read_tokens(fixtures.warm_tokens_file, live_apps)
    answers = asyncio.run(ask(url, tokens, endpoint="check", fixtures=fixtures))
    expect("check, live apps", answers, 200, "ok")
    scenario = live_scenario(fixtures, live_apps)
    result.scenarios.append(scenario)
    for i in range(options.rounds):
        measured = measure(scenario, url, options.load, options.warmup, fixtures)
        result.rounds.setdefault(scenario.key, []).append(measured)
        _progress(f"{fixtures.label} live {i + 1} {scenario.key}", measured)


def _progress(what: str, m: Measured) -> None:
    typer.echo(
        f"  {what}: {m.rps:,.0f} req/s, p50 {m.p50_ms:.2f} ms, p99 {m.p99_ms:.2f} ms",
        err=True,
    )


def preamble(command: str, options: RunOptions) -> list[str]:
    """When, where and how: what a reader needs to compare two reports."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    wrk = subprocess.run([require_wrk(), "--version"], capture_output=True, text=True).stdout
    packages = ", ".join(
        f"{name} {version(name)}" for name in ("starlette", "uvicorn", "sqlalchemy", "limits")
    )
    o, load, server = options, options.load, options.server
    return [
        f"## Decision endpoint benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{command}`",
        "",
        f"- Machine: {os.cpu_count()} CPUs ({cpu}), load average at start "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; Python {platform.python_version()}; "
        f"{packages}; {wrk.split(' Copyright')[0].strip()}.",
        f"- Code: {code_under_test()}; app `{o.app_factory}`.",
        f"- Servers: uvicorn, {server.workers} worker, loop `{server.loop}`, http `{server.http}`, "
        "access log off, log level warning, ACCESSPLANE_ENVIRONMENT=production, gateway secret "
        f"set and sent, decision cache TTL {o.cache_ttl} s (longer than the run).",
        f"- Load: wrk, {load.threads} thread(s), {load.connections} connections, {o.warmup} s "
        f"warm-up then {load.seconds} s measured per scenario; {o.rounds} round(s) interleaving "
        f"the scenarios, median reported. Paced runs: {o.paced_connections} connections.",
        "- Every answer of every run was checked (status, and reason for the decision "
        "scenarios); a run with any other answer stops the benchmark.",
    ]


def operations_report(results: list[ScaleResult]) -> str:
    """The warm scenarios with an operation check (OPERATIONS declared on the API) over the
    same warm scenarios without, per scale: the budget is at least 0.9. Each round
    pairs the two runs made next to each other, so the median of the rounds' ratios is less
    exposed to a machine whose load drifts during the run than a ratio of medians."""
    lines = [
        "",
        f"### Operations: {OPERATIONS} declared on the API",
        "",
        "The same warm credentials and request (`GET /orders`, one of the operations the app "
        f"may call) on an API declaring {OPERATIONS} operations, over the same on an API "
        "declaring none: requests/s with the ratio of each round's two runs (made one after "
        "the other), their median and range; and the CPU each request cost the server (read "
        "from /proc around two more runs of each, A B B A), which moves much less than "
        "requests/s on a shared machine: without over with is the throughput ratio of a "
        f"CPU-bound server, judged against the target of at least {TARGET_OPS_RATIO}.",
        "",
        "| scenario | scale | requests/s | without operations | median ratio | rounds' ratios "
        "| CPU µs per request | without | CPU ratio (without / with) | ≥ 0.9 |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for key, plain in OPS_SCENARIOS.items():
        for result in results:
            title = next(s.title for s in result.scenarios if s.key == key)
            pairs = zip(result.rounds[key], result.rounds[plain], strict=True)
            ratios = sorted(ops.rps / base.rps for ops, base in pairs)
            cpu = OPS_CPU.get(result.fixtures.label, {})
            cpu_ops, cpu_plain = cpu.get(key, 0.0), cpu.get(plain, 0.0)
            cpu_ratio = cpu_plain / cpu_ops if cpu_ops else 0.0
            lines.append(
                f"| {title} | {result.fixtures.label} ({result.fixtures.dialect}) | "
                f"{result.summary(key).rps:,.0f} | {result.summary(plain).rps:,.0f} | "
                f"{statistics.median(ratios):.2f} | {ratios[0]:.2f}-{ratios[-1]:.2f} | "
                f"{cpu_ops:.0f} | {cpu_plain:.0f} | {cpu_ratio:.2f} | "
                f"{'yes' if cpu_ratio >= TARGET_OPS_RATIO else '**no**'} |"
            )
    return "\n".join(lines) + "\n"


def call_log_report(results: list[ScaleResult]) -> str:
    """The warm scenarios with the call log on (every decision buffered and written in
    batches) over the same with it off, per scale: the budget is at least 0.9."""
    lines = [
        "",
        "### Call log on over off",
        "",
        "The same warm credentials and request against two AccessPlane servers of the same "
        "settings but ACCESSPLANE_CALL_LOG_ENABLED, in the same round. Target: at least "
        f"{TARGET_CALL_LOG_RATIO}.",
        "",
        "The servers share the machine with wrk and each other, so requests/s moves with "
        "whatever else runs; the CPU each request cost the serving process (every thread, "
        "the writer's included, read from /proc around one more run of each) does not, and "
        "off over on is the throughput ratio of a server that is CPU-bound.",
        "",
        "| scenario | scale | call log on, requests/s | off | ratio | CPU µs per request on "
        "| off | CPU ratio (off / on) | ≥ 0.9 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for key, off_key in CALL_LOG_SCENARIOS.items():
        for result in results:
            title = next(s.title for s in result.scenarios if s.key == key)
            on, off = result.summary(key).rps, result.summary(off_key).rps
            cpu = CPU_PER_REQUEST.get(result.fixtures.label, {})
            cpu_on, cpu_off = cpu.get(key, 0.0), cpu.get(off_key, 0.0)
            cpu_ratio = cpu_off / cpu_on if cpu_on else 0.0
            ok = "yes" if cpu_ratio >= TARGET_CALL_LOG_RATIO else "**no**"
            lines.append(
                f"| {title} | {result.fixtures.label} ({result.fixtures.dialect}) | {on:,.0f} | "
                f"{off:,.0f} | {on / off:.2f} | {cpu_on:.0f} | {cpu_off:.0f} | "
                f"{cpu_ratio:.2f} | {ok} |"
            )
    return "\n".join(lines) + "\n"


@cli.command()
def main(
    fixtures: list[Path] = typer.Option(
        None,
        help="Fixtures files from bench.decision_generate (default: bench/results/"
        "decision-1k.json and decision-1m.json, those that exist).",
    ),
    duration: int = typer.Option(10, min=1, help="Seconds measured per scenario."),
    warmup: int = typer.Option(2, min=0, help="Seconds of wrk warm-up per scenario."),
    connections: int = typer.Option(8, min=1),
    threads: int = typer.Option(1, min=1, help="wrk threads."),
    rounds: int = typer.Option(1, min=1, help="Interleaved rounds; the median is reported."),
    working_set: int = typer.Option(
        1_000, min=1, help="Warm credentials the warm scenarios rotate through (every scale)."
    ),
    rss_credentials: int = typer.Option(
        100_000, min=0, help="Warm credentials cached before the memory figure is read."
    ),
    live_apps: int = typer.Option(
        0,
        min=0,
        help="Also measure warm checks rotating through this many apps (generate the dataset "
        "with --warm-period minute, so each keeps a live rate-limit counter); 0: not measured.",
    ),
    paced_connections: int = typer.Option(16, min=1, help="Connections of the paced runs."),
    cache_ttl: int = typer.Option(3600, min=1, help="ACCESSPLANE_DECISION_CACHE_TTL, seconds."),
    app_factory: str = typer.Option("accessplane.app:create_app", "--app", help="ASGI factory."),
    # What accessplane serve runs (accessplane.cli.server_stack) unless told otherwise.
    loop: str = typer.Option("uvloop", help="uvicorn --loop, the same for every server."),
    http: str = typer.Option("httptools", help="uvicorn --http, the same for every server."),
) -> None:
    """Measure every scenario at every scale and print the Markdown report."""
    require_wrk()
    paths = fixtures or [p for p in (RESULTS / n for n in DEFAULT_FIXTURES) if p.exists()]
    if not paths:
        raise typer.BadParameter("no fixtures: run `python -m bench.decision_generate` first")
    datasets = sorted((DecisionFixtures.load(p) for p in paths), key=lambda f: f.credentials)
    options = RunOptions(
        app_factory=app_factory,
        load=Load(duration, connections, threads),
        warmup=warmup,
        rounds=rounds,
        working_set=working_set,
        rss_credentials=rss_credentials,
        live_apps=live_apps,
        paced_connections=paced_connections,
        cache_ttl=cache_ttl,
        server=UvicornOptions(loop=loop, http=http),
        stamp=datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
    )
    command = shlex.join([Path(sys.executable).name, "-m", "bench.decision_run", *sys.argv[1:]])
    head = preamble(command, options)
    try:
        results = [bench_scale(f, options) for f in datasets]
    except UnexpectedAnswers as error:
        raise SystemExit(f"unexpected answers, no figures reported: {error}") from error
    report = render(results, preamble=head) + operations_report(results)
    report += call_log_report(results)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"decision-{options.stamp}.md"
    out.write_text(report)
    typer.echo(report)
    typer.echo(f"Written to {out}", err=True)


if __name__ == "__main__":
    cli()
