"""Test-wide settings: offscreen Qt, wandb offline and silent, a fresh cache per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["WANDB_MODE"] = "offline"
os.environ["WANDB_SILENT"] = "true"
os.environ.pop("DESKTOPVIZ_CACHE", None)


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    """A folder for a fresh cache."""
    return tmp_path / "cache"


@pytest.fixture
def cache(cache_dir: Path):
    """A fresh, real cache (SQLite index, blobs, Parquet)."""
    from desktopviz.store.cache import Cache

    c = Cache(cache_dir)
    yield c
    c.close()
