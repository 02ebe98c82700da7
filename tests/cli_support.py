"""Run the installed ``desktopviz`` console script in a subprocess, as a user does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def console_script() -> str:
    """The ``desktopviz`` entry point pip installed beside this interpreter."""
    beside = Path(sys.executable).parent / "desktopviz"
    if beside.is_file():
        return str(beside)
    found = shutil.which("desktopviz")
    if found is None:
        raise RuntimeError("the desktopviz console script is not installed (pip install -e .)")
    return found


def dv(
    *args: str,
    cache: Path | None = None,
    env: dict | None = None,
    timeout: float = 300,
    input: str | None = None,
) -> subprocess.CompletedProcess:
    """``desktopviz [--cache CACHE] ARGS...``: its exit code, stdout and stderr."""
    cmd = [console_script()]
    if cache is not None:
        cmd += ["--cache", str(cache)]
    return subprocess.run(
        cmd + list(args),
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        input=input,
    )
