"""Qt test fixtures: one demo cache built per session (copied per test that writes to it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def demo_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real cache holding the built-in demo project (built once per test session, 120 images)."""
    from desktopviz.demo import build_demo
    from desktopviz.store.cache import Cache

    root = tmp_path_factory.mktemp("demo") / "cache"
    with Cache(root) as cache:
        build_demo(cache, n_images=120)
    return root


@pytest.fixture
def demo_cache(demo_cache_dir: Path, tmp_path: Path):
    """A private copy of the demo cache, open (tests may write to it)."""
    from desktopviz.store.cache import Cache

    root = tmp_path / "demo-cache"
    shutil.copytree(demo_cache_dir, root)
    c = Cache(root)
    yield c
    c.close()


@pytest.fixture
def app_state(qtbot, demo_cache):
    """An AppState on a private demo cache."""
    from desktopviz.app.state import AppState

    state = AppState(demo_cache)
    yield state
    state.engine.close()
