"""The wheel carries the console: built after the console (make console), it holds
accessplane/console_dist/index.html and every asset that page loads, so an installed package
serves the console at / with no Node.js on the machine."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import require_service

ROOT = Path(__file__).parent.parent.parent
DIST = "accessplane/console_dist"


def build_wheel(directory: Path) -> Path:
    """The project's wheel, built offline with the hatchling of this environment."""
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*pip, "--wheel-dir", str(directory), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = directory.glob("accessplane-*.whl")
    return wheel


def test_the_wheel_contains_the_console(tmp_path: Path) -> None:
    require_service("npm", shutil.which("npm") is not None, "the console needs Node.js and npm")
    subprocess.run(["make", "--no-print-directory", "console"], cwd=ROOT, check=True, timeout=900)

    with zipfile.ZipFile(build_wheel(tmp_path)) as wheel:
        names = set(wheel.namelist())
        index = wheel.read(f"{DIST}/index.html").decode()

    assets = {n for n in names if n.startswith(f"{DIST}/assets/")}
    loaded = set(re.findall(r'(?:src|href)="/?(assets/[^"]+)"', index))
    assert any(n.endswith(".js") for n in assets)
    assert any(n.endswith(".css") for n in assets)
    assert loaded
    assert {f"{DIST}/{path}" for path in loaded} <= assets
