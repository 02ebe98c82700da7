"""Fixtures of the command-line tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_support import dv, small_table


@pytest.fixture
def primed(tmp_path: Path) -> Path:
    """A cache holding one good artifact (so 'unchanged' is not just 'empty')."""
    cache = tmp_path / "cache"
    r = dv("import", str(small_table(tmp_path / "good")), cache=cache)
    assert r.returncode == 0, r.stderr
    return cache
