"""Where PySide6 is not installed (.ci/run's core venv), the CLI works and `desktopviz gui` says
in one line that the window needs PySide6."""

from __future__ import annotations

import importlib.util

import pytest

from tests.cli_support import dv

needs_no_qt = pytest.mark.skipif(
    importlib.util.find_spec("PySide6") is not None,
    reason="PySide6 is installed: the window would start (tests/app test `desktopviz gui`)",
)


@needs_no_qt
def test_gui_without_pyside6_is_one_line(tmp_path):
    cache = tmp_path / "cache"
    assert dv("ls", cache=cache).returncode == 0  # the other commands never need Qt
    run = dv("gui", cache=cache, env={"QT_QPA_PLATFORM": "offscreen"}, timeout=120)
    assert run.returncode != 0
    assert "PySide6" in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
