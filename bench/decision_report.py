"""Render the decision benchmark as Markdown: throughput and ratio to the bare endpoint per
scenario and scale, flatness across scales, p99 at half of saturation, and memory."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from bench.decision_load import Measured, Scenario
from bench.fixtures import DecisionFixtures

TARGET_RATIO = 0.6  # the performance budget: at least 60 % of the bare endpoint's throughput
TARGET_P99_MS = 5.0  # ... and p99 under 5 ms at half of saturation
TARGET_RSS_MB = 300.0  # ... and under 300 MB RSS with 100 k credentials cached
BUDGET_CREDENTIALS = 100_000
BARE = "bare"
LIVE = "check-live"  # warm checks rotating through many apps, each with a live counter
TARGET_LIVE = 0.9  # many live counters cost a decision at most 10 %


@dataclass(frozen=True, slots=True)
class Summary:
    """The median over rounds of each figure."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int  # all rounds together

    @classmethod
    def of(cls, rounds: list[Measured]) -> Summary:
        return cls(
            rps=statistics.median(m.rps for m in rounds),
            p50_ms=statistics.median(m.p50_ms for m in rounds),
            p99_ms=statistics.median(m.p99_ms for m in rounds),
            requests=sum(m.requests for m in rounds),
        )


@dataclass(frozen=True, slots=True)
class Paced:
    """A run held near a target rate (half of the endpoint's measured saturation)."""

    target_rps: float
    connections: int
    pace_ms: float
    measured: Measured


@dataclass(frozen=True, slots=True)
class Memory:
    """VmRSS of the server process, in MB, at the steps of a scale's run."""

    started_mb: float
    cached: int  # credentials asked once each (so cached) before cached_mb was read
    cold_seconds: float  # how long their first (cold) lookups took, 16 at a time
    cached_mb: float
    after_load_mb: float
    peak_mb: float  # VmHWM at the end


@dataclass
class ScaleResult:
    """Everything measured on one dataset."""

    fixtures: DecisionFixtures
    scenarios: list[Scenario]
    working_set: int
    rounds: dict[str, list[Measured]] = field(default_factory=dict)
    paced: dict[str, Paced] = field(default_factory=dict)
    memory: Memory | None = None

    def summary(self, key: str) -> Summary:
        return Summary.of(self.rounds[key])

    def ratio(self, key: str) -> float:
        return self.summary(key).rps / self.summary(BARE).rps


def _rps(value: float) -> str:
    return f"{value:,.0f}"


def _scale(result: ScaleResult) -> str:
    return f"{result.fixtures.label} ({result.fixtures.dialect})"


def _throughput(results: list[ScaleResult]) -> list[str]:
    lines = [
        "### Throughput and latency, as fast as the server answers",
        "",
        "| scenario | scale | requests/s | p50 ms | p99 ms | ratio to bare | requests |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for scenario in results[0].scenarios:
        for result in results:
            s = result.summary(scenario.key)
            ratio = "1.00" if scenario.key == BARE else f"{result.ratio(scenario.key):.2f}"
            lines.append(
                f"| {scenario.title} | {_scale(result)} | {_rps(s.rps)} | {s.p50_ms:.2f} | "
                f"{s.p99_ms:.2f} | {ratio} | {s.requests:,} |"
            )
    return lines


def _targets(results: list[ScaleResult]) -> list[str]:
    decisions = [s for s in results[0].scenarios if s.mode in ("check", "authorize")]
    scales = " | ".join(f"{r.fixtures.label} ratio" for r in results)
    flat = len(results) > 1
    lines = [
        "### Against the budget (the performance budget)",
        "",
        f"Ratio to bare: at least {TARGET_RATIO}. Flatness: requests/s at the largest scale "
        "over the smallest (1.00 = flat).",
        "",
        f"| scenario | {scales} |" + (" largest / smallest |" if flat else "")
        + (" ≥ 0.6 everywhere |"),
        "|---|" + "---:|" * len(results) + ("---:|" if flat else "") + "---|",
    ]  # fmt: skip
    smallest = min(results, key=lambda r: r.fixtures.credentials)
    largest = max(results, key=lambda r: r.fixtures.credentials)
    for scenario in decisions:
        ratios = [r.ratio(scenario.key) for r in results]
        cells = [f"{x:.2f}" for x in ratios]
        if flat:
            small, large = smallest.summary(scenario.key), largest.summary(scenario.key)
            cells.append(f"{large.rps / small.rps:.2f}")
        cells.append("yes" if min(ratios) >= TARGET_RATIO else "**no**")
        lines.append(f"| {scenario.title} | {' | '.join(cells)} |")
    return lines


def _paced(results: list[ScaleResult]) -> list[str]:
    lines = [
        "### Latency at half of saturation (warm credentials)",
        "",
        "Target: half of the same endpoint's requests/s above (warm scenarios), held by pausing "
        "each connection between its requests (wrk cannot send at a fixed rate, and wrk2 is not "
        "in Debian); achieved is what the run reached. The bare endpoint, held the same way, is "
        "the control: what this machine and wrk add to any p99.",
        "",
        "| endpoint | scale | target req/s | achieved req/s | connections | p50 ms | p99 ms "
        f"| p99 < {TARGET_P99_MS:g} ms |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for result in results:
        for endpoint, paced in result.paced.items():
            m = paced.measured
            ok = "yes" if m.p99_ms < TARGET_P99_MS else "**no**"
            lines.append(
                f"| {endpoint} | {_scale(result)} | {_rps(paced.target_rps)} | {_rps(m.rps)} | "
                f"{paced.connections} | {m.p50_ms:.2f} | {m.p99_ms:.2f} | {ok} |"
            )
    return lines


def _memory(results: list[ScaleResult]) -> list[str]:
    lines = [
        "### Memory of the server process (VmRSS)",
        "",
        "| scale | at start MB | credentials cached | cold lookups/s while caching "
        "| with them cached MB | after the load MB "
        f"| peak (VmHWM) MB | < {TARGET_RSS_MB:g} MB |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for result in results:
        m = result.memory
        if m is None:
            continue
        if m.cached < BUDGET_CREDENTIALS:
            ok = f"n/a (fewer than {BUDGET_CREDENTIALS:,} cached)"
        else:
            ok = "yes" if max(m.cached_mb, m.after_load_mb) < TARGET_RSS_MB else "**no**"
        lines.append(
            f"| {_scale(result)} | {m.started_mb:.0f} | {m.cached:,} | "
            f"{m.cached / m.cold_seconds:,.0f} | {m.cached_mb:.0f} | "
            f"{m.after_load_mb:.0f} | {m.peak_mb:.0f} | {ok} |"
        )
    return lines


def _datasets(results: list[ScaleResult]) -> list[str]:
    lines = ["Datasets:", ""]
    for r in results:
        f = r.fixtures
        lines.append(
            f"- {f.label}: {f.credentials:,} apps on plan {f.warm_plan} and "
            f"{f.limited_tokens} on plan {f.limited_plan}, {f.dialect}, seed {f.seed}; "
            f"warm scenarios rotate through {r.working_set:,} of them, unknown through "
            f"{f.unknown_tokens:,} well-formed tokens nobody holds, limited through the "
            f"{f.limited_tokens} limited apps."
        )
    return lines


def _live(results: list[ScaleResult]) -> list[str]:
    """Warm checks with many live rate-limit counters over warm checks with the working set's."""
    measured = [r for r in results if LIVE in r.rounds]
    if not measured:
        return []
    lines = [
        "### Live rate-limit counters",
        "",
        "Warm checks rotating through many apps on a per-minute plan (each keeps a live "
        "rate-limit counter) over warm checks rotating through the working set, same server, "
        "same run; the working set's runs come first, a minute after the warming's counters "
        f"(goal: at least {TARGET_LIVE}).",
        "",
        "| scale | plan | working set req/s | live apps | their req/s | ratio |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in measured:
        live = next(s for s in r.scenarios if s.key == LIVE)
        warm, many = r.summary("check-warm").rps, r.summary(LIVE).rps
        lines.append(
            f"| {_scale(r)} | {r.fixtures.warm_plan} | {_rps(warm)} ({r.working_set:,} apps) | "
            f"{live.tokens_max:,} | {_rps(many)} | {many / warm:.2f} |"
        )
    return lines


def render(results: list[ScaleResult], *, preamble: list[str]) -> str:
    """The whole report."""
    lines = [*preamble, "", *_datasets(results), ""]
    for part in (_throughput, _targets, _live, _paced, _memory):
        section = part(results)
        if section:
            lines += [*section, ""]
    return "\n".join(lines)
