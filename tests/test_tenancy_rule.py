"""Tenant isolation has one implementation (``services/tenancy.py``): no other module decides by
itself whether a principal belongs to an object's workspace, so a new service cannot forget
the check or answer it differently (FORBIDDEN instead of NOT_FOUND, say)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "accessplane"

# The principal class defines memberships; the tenancy module is the one place that reads them.
ALLOWED = {"auth/principals.py", "services/tenancy.py"}


def _is_memberships(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "memberships"


def violations(tree: ast.AST, *, in_services: bool) -> list[int]:
    """Lines that test membership of a workspace by hand: ``x in p.memberships`` anywhere, and
    in services also ``p.memberships.get(x)`` and ``p.memberships[x]`` (a look-up by id)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(
            isinstance(op, ast.In | ast.NotIn) and _is_memberships(right)
            for op, right in zip(node.ops, node.comparators, strict=True)
        ):
            lines.append(node.lineno)
        if not in_services:
            continue
        if isinstance(node, ast.Subscript) and _is_memberships(node.value):
            lines.append(node.lineno)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and _is_memberships(node.func.value)
        ):
            lines.append(node.lineno)
    return sorted(lines)


def test_only_the_tenancy_module_checks_workspace_membership() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if relative in ALLOWED:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        lines = violations(tree, in_services=relative.startswith("services/"))
        found += [f"{relative}:{line}" for line in lines]
    assert not found, (
        "Check tenancy through accessplane.services.tenancy (load_in_workspace, "
        f"require_tenant, member_id_in), not by hand: {found}"
    )


@pytest.mark.parametrize(
    ("source", "in_services", "expected"),
    [
        ("if obj.workspace_id not in actor.memberships: pass", False, [1]),
        ("ok = w in self.principal.memberships", False, [1]),
        ("m = actor.memberships.get(w)", True, [1]),
        ("m = actor.memberships[w]", True, [1]),
        ("m = actor.memberships.get(w)", False, []),
        ("ids = list(actor.memberships)", True, []),
        ("ok = w in actor.grants", True, []),
    ],
)
def test_the_rule_recognises_hand_made_checks(
    source: str, in_services: bool, expected: list[int]
) -> None:
    assert violations(ast.parse(source), in_services=in_services) == expected
