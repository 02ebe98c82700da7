"""Run the installed ``desktopviz`` console script in a subprocess, as a user does."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

needs_qt = pytest.mark.skipif(
    importlib.util.find_spec("PySide6") is None,
    reason="needs PySide6 (the window, or Qt's PDF writer): .ci/run's core venv has none",
)


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


def snapshot(cache: Path) -> dict:
    """Everything a user could see of the cache: every index row and the visible listing."""
    conn = sqlite3.connect(cache / "index.sqlite")
    tables = [
        r[0]
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
    ]
    dump = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in tables}
    conn.close()
    return {"index": dump, "ls": dv("ls", cache=cache, timeout=120).stdout}


def stored_files(cache: Path) -> set[str]:
    """Every blob and derived file of a cache (what a failed import must not add)."""
    return {
        p.relative_to(cache).as_posix()
        for d in ("blobs", "derived")
        for p in (cache / d).rglob("*")
        if p.is_file()
    }


def small_table(folder: Path) -> Path:
    """``ok.table.json``: a two-row W&B table in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    good = folder / "ok.table.json"
    good.write_text(json.dumps({"_type": "table", "columns": ["a"], "data": [[1], [2]]}))
    return good


def png_bytes(w: int = 8, h: int = 8) -> bytes:
    """A small seeded PNG."""
    buf = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()
