"""What is measured: each target is one fixed request to one of the two servers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bench.fixtures import Fixtures
from bench.queries import API_TABLE, MEMBER_APIS, VIEWER, body


@dataclass(frozen=True, slots=True)
class Target:
    """``server`` is ``app`` (AccessPlane) or ``baseline`` (bench/baseline.py)."""

    key: str
    title: str
    server: Literal["app", "baseline"]
    path: str
    method: str = "GET"
    body: dict[str, Any] | None = None
    token: str | None = None


# (numerator, denominator, what the ratio says)
RATIOS: list[tuple[str, str, str]] = [
    ("a", "c", "API table, 100 rows: GraphQL / hand-written SQL"),
    ("a10", "c10", "API table, 10 rows: GraphQL / hand-written SQL"),
    ("b", "c", "Member.apis, 100 rows: GraphQL / API-table hand-written SQL"),
    ("d", "e", "authenticated viewer / bare Starlette JSON"),
    ("d", "f", "authenticated viewer / minimal Strawberry schema (AccessPlane's own cost)"),
]


def targets(fixtures: Fixtures) -> list[Target]:
    """Every target, in the order they are measured."""
    token = fixtures.owner_token
    workspace = fixtures.workspace_id

    def graphql(key: str, title: str, document: str, **variables: Any) -> Target:
        return Target(key, title, "app", "/graphql", "POST", body(document, **variables), token)

    def baseline(key: str, title: str, first: int) -> Target:
        path = f"/baseline/apis?workspace={workspace}&first={first}"
        return Target(key, title, "baseline", path, token=token)

    return [
        graphql("a", "GraphQL API table, first: 100", API_TABLE, workspace=workspace, first=100),
        graphql("a10", "GraphQL API table, first: 10", API_TABLE, workspace=workspace, first=10),
        graphql(
            "b", "GraphQL Member.apis, first: 100", MEMBER_APIS, member=fixtures.developer_member_id
        ),
        baseline("c", "hand-written SQL API table, 100 rows", 100),
        baseline("c10", "hand-written SQL API table, 10 rows", 10),
        graphql("d", "GraphQL { viewer { kind name } }", VIEWER),
        Target("e", 'bare Starlette {"ok": true}', "baseline", "/bare"),
        Target(
            "f",
            "minimal Strawberry { viewer { kind name } }",
            "baseline",
            "/baseline/graphql",
            "POST",
            body(VIEWER),
            token,
        ),
    ]
