"""Render results as Markdown: one table per database, then the ratios side by side."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from bench.fixtures import Fixtures
from bench.load import Measurement
from bench.targets import RATIOS, Target


@dataclass(frozen=True, slots=True)
class Summary:
    """The median over rounds of each figure."""

    rps: float
    requests: int  # completed in all rounds together
    p50_ms: float
    p95_ms: float
    errors: int

    @classmethod
    def of(cls, rounds: list[Measurement]) -> Summary:
        return cls(
            rps=statistics.median(m.rps for m in rounds),
            requests=sum(m.requests for m in rounds),
            p50_ms=statistics.median(m.p50_ms for m in rounds),
            p95_ms=statistics.median(m.p95_ms for m in rounds),
            errors=sum(m.errors for m in rounds),
        )


@dataclass
class DatabaseResult:
    """Everything measured on one database."""

    fixtures: Fixtures
    targets: list[Target]
    statements: dict[str, int]
    rounds: dict[str, list[Measurement]] = field(default_factory=dict)

    def summary(self, key: str) -> Summary:
        return Summary.of(self.rounds[key])


def _rps(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _database_table(result: DatabaseResult) -> list[str]:
    scale = result.fixtures.scale
    lines = [
        f"### {result.fixtures.dialect}",
        "",
        f"{scale['apis']} APIs, {scale['members']} members, {scale['groups']} groups "
        f"({scale['group_memberships']} memberships), {scale['grants']} grants; seed "
        f"{result.fixtures.seed}; the Developer reaches "
        f"{result.fixtures.developer_effective_apis} APIs.",
        "",
        "| | target | SQL statements | requests/s | median ms | p95 ms | requests | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for target in result.targets:
        s = result.summary(target.key)
        lines.append(
            f"| ({target.key}) | {target.title} | {result.statements[target.key]} | "
            f"{_rps(s.rps)} | {s.p50_ms:.1f} | {s.p95_ms:.1f} | {s.requests} | {s.errors} |"
        )
    return lines


def _ratio_table(results: list[DatabaseResult]) -> list[str]:
    header = " | ".join(
        f"{r.fixtures.dialect} throughput | {r.fixtures.dialect} median latency" for r in results
    )
    lines = [
        "### Ratios (same run)",
        "",
        "Throughput ratio: requests/s of the first over the second (1.0 = as fast as the "
        "baseline). Latency ratio: median latency of the first over the second (1.0 = as quick).",
        "",
        f"| ratio | meaning | {header} |",
        "|---|---|" + "---:|---:|" * len(results),
    ]
    for top, bottom, meaning in RATIOS:
        cells = []
        for result in results:
            if top not in result.rounds or bottom not in result.rounds:
                cells.append("n/a | n/a")  # not measured in this run (bench.run --only)
                continue
            a, b = result.summary(top), result.summary(bottom)
            if not (a.requests and b.requests):
                cells.append("n/a | n/a")  # a target that completed nothing has no ratio
                continue
            cells.append(f"{a.rps / b.rps:.2f} | {a.p50_ms / b.p50_ms:.2f}")
        lines.append(f"| ({top})/({bottom}) | {meaning} | {' | '.join(cells)} |")
    return lines


def render(results: list[DatabaseResult], *, preamble: list[str]) -> str:
    """The whole report."""
    lines = [*preamble, ""]
    for result in results:
        lines += [*_database_table(result), ""]
    lines += _ratio_table(results)
    return "\n".join(lines) + "\n"
