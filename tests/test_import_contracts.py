"""The import contracts of .importlinter hold: the core never imports Qt, pyqtgraph or the app
(but for `desktopviz gui`'s one lazy import), and inside the app widgets sit above the table
model, above the state. Runs the installed ``lint-imports`` as a developer does."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lint_imports() -> str:
    """The ``lint-imports`` script of this interpreter's environment."""
    beside = Path(sys.executable).with_name("lint-imports")
    found = str(beside) if beside.exists() else shutil.which("lint-imports")
    assert found, "lint-imports is not installed (pip install -e '.[test]')"
    return found


def test_import_contracts_are_kept():
    run = subprocess.run(
        [lint_imports(), "--no-cache", "--config", str(ROOT / ".importlinter")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "3 kept, 0 broken" in output, output
