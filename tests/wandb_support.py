"""Running the real ``wandb`` SDK for tests: offline, silent, in its own process and folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).parent / "formats" / "wandb_scripts"


def wandb_env(base: Path) -> dict[str, str]:
    """Environment for a wandb process that never touches the network or the user's folders."""
    env = dict(os.environ)
    env.update(
        WANDB_MODE="offline",
        WANDB_SILENT="true",
        WANDB_DISABLE_GIT="true",
        WANDB_DISABLE_CODE="true",
        WANDB_CONSOLE="off",
        WANDB_DIR=str(base / "w"),
        WANDB_CACHE_DIR=str(base / "wc"),
        WANDB_DATA_DIR=str(base / "wd"),
        WANDB_ARTIFACT_DIR=str(base / "artifacts"),
        WANDB_CONFIG_DIR=str(base / "wcfg"),
    )
    return env


def run_script(name: str, *args: str, base: Path) -> str:
    """Run a script of ``wandb_scripts/`` with the real SDK; return its stdout."""
    base.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(
        [sys.executable, str(SCRIPTS / name), *args],
        cwd=base,
        env=wandb_env(base),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if r.returncode != 0:
        raise AssertionError(f"{name} failed:\n{r.stderr[-3000:]}")
    return r.stdout


def build_wandb_artifacts(base: Path) -> dict[str, Any]:
    """Log a dataset (every cell type) and a predictions artifact (references) with real wandb."""
    run_script("build_artifacts.py", str(base), base=base)
    return json.loads((base / "built.json").read_text())


def load_with_wandb(artifact_root: Path, table: str, base: Path) -> dict[str, Any]:
    """Load a table from a download folder with the real SDK's ``Table.from_json``."""
    return json.loads(run_script("load_table.py", str(artifact_root), table, base=base))
