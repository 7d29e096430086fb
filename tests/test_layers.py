"""The package layers: a module imports only from its own layer or a lower one, and never a
private module (its own or a library's). Layers are declared here once, lowest first; a new
module must fall under one of them."""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).parent.parent / "src"
ROOT = "accessplane"

# Lowest first. A module belongs to the longest prefix that names it or a package above it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("errors", "settings", "net", "periodic", "bodylimit", "observability")),
    ("storage", ("models", "db")),
    ("access rules", ("auth", "access_rule")),
    # Services enqueue mail, so the outbox's links and templates sit below them; the worker
    # that sends it (notify.outbox, notify.reminders) sits above.
    ("services", ("services", "notify.links", "notify.rendering")),
    ("readers", ("loaders", "decision", "notify")),
    ("graphql", ("schema", "resolvers", "context")),
    (
        "entry points",
        ("signin", "app", "calls_export", "cli", "cli_workspace_config", "console", "__main__"),
    ),
]


def rank_of(module: str) -> int:
    """The layer index of ``module`` (the package itself, holding only its version, is lowest)."""
    if module == ROOT:
        return 0
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            name = f"{ROOT}.{prefix}"
            if (module == name or module.startswith(name + ".")) and (
                best is None or len(name) > best[0]
            ):
                best = (len(name), rank)
    if best is None:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS in {__file__}")
    return best[1]


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted((SRC / ROOT).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def imports(module: str, path: Path) -> Iterator[tuple[int, str, tuple[str, ...]]]:
    """(line, imported module, names imported from it) for every import, nested ones too."""
    package = module if is_package(path) else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            yield node.lineno, base, tuple(alias.name for alias in node.names)


def internal_targets(imported: str, names: tuple[str, ...], known: set[str]) -> Iterator[str]:
    """The project modules an import reaches: ``from accessplane import models`` is
    ``accessplane.models``, ``from accessplane.models import User`` is ``accessplane.models``."""
    submodules = [f"{imported}.{name}" for name in names if f"{imported}.{name}" in known]
    yield from submodules
    if not submodules or len(submodules) < len(names):
        yield imported


def private_parts(imported: str, names: tuple[str, ...]) -> list[str]:
    """The private modules an import names: ``a._b`` or ``from a import _b`` (a module)."""
    found = [
        imported
        for part in imported.split(".")
        if part.startswith("_") and not (part.startswith("__") and part.endswith("__"))
    ]
    for name in names:
        if name.startswith("_") and not name.startswith("__"):
            try:
                spec = importlib.util.find_spec(f"{imported}.{name}")
            except (ImportError, ValueError):
                spec = None
            if spec is not None:
                found.append(f"{imported}.{name}")
    return found


def test_every_module_is_in_a_layer() -> None:
    for module, _ in modules():
        rank_of(module)


def test_no_module_imports_from_a_higher_layer() -> None:
    known = {module for module, _ in modules()}
    assert len(known) > 100, "the source tree was not found"
    wrong = []
    for module, path in modules():
        own = rank_of(module)
        for line, imported, names in imports(module, path):
            if imported != ROOT and not imported.startswith(ROOT + "."):
                continue
            for target in internal_targets(imported, names, known):
                if rank_of(target) > own:
                    wrong.append(
                        f"{path.relative_to(SRC)}:{line}: {module} ({LAYERS[own][0]}) imports "
                        f"{target} ({LAYERS[rank_of(target)][0]})"
                    )
    assert not wrong, "imports into a higher layer:\n" + "\n".join(wrong)


def test_no_module_imports_a_private_module() -> None:
    wrong = [
        f"{path.relative_to(SRC)}:{line}: {private}"
        for module, path in modules()
        for line, imported, names in imports(module, path)
        for private in private_parts(imported, names)
    ]
    assert not wrong, "imports of private modules:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from authlib.integrations.httpx_client._compat import httpx2", True),
        ("from authlib.integrations.httpx_client import _compat", True),
        ("from authlib.integrations.starlette_client import OAuth", False),
        ("from __future__ import annotations", False),
    ],
)
def test_the_private_check_sees_both_spellings(source: str, expected: bool) -> None:
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.ImportFrom)
    assert node.module is not None
    names = tuple(alias.name for alias in node.names)
    assert bool(private_parts(node.module, names)) is expected


@pytest.mark.parametrize(
    ("module", "layer"),
    [
        ("accessplane.auth.principals", "access rules"),
        ("accessplane.signin.credentials", "entry points"),
        ("accessplane.notify.links", "services"),
        ("accessplane.notify.outbox", "readers"),
        ("accessplane", "foundation"),
    ],
)
def test_modules_fall_in_their_declared_layer(module: str, layer: str) -> None:
    assert LAYERS[rank_of(module)][0] == layer
