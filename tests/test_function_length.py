"""Small rooms: no function in src/ grows past 80 lines (docstring and comments included), so
each step of a long operation has a name of its own (CONTRIBUTING.md, style)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "accessplane"
LIMIT = 80


def long_functions(root: Path, limit: int) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                length = node.end_lineno - node.lineno + 1
                if length > limit:
                    found.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({length})")
    return found


def test_no_function_in_src_exceeds_80_lines() -> None:
    assert long_functions(SRC, LIMIT) == []


def test_the_check_finds_a_long_function(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(LIMIT))
    (tmp_path / "long.py").write_text(f"def too_long():\n{body}", encoding="utf-8")

    assert long_functions(tmp_path, LIMIT) == ["long.py:1 too_long (81)"]
