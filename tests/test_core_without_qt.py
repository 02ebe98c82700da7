"""The core never imports Qt: importing every core module leaves PySide6 and pyqtgraph unloaded."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import desktopviz


def test_core_modules_do_not_load_qt():
    names = [
        m.name
        for m in pkgutil.walk_packages(desktopviz.__path__, "desktopviz.")
        if not m.name.startswith("desktopviz.app")
    ]
    assert "desktopviz.store.cache" in names and "desktopviz.cli.main" in names
    code = (
        "import importlib, sys\n"
        f"for n in {names!r}:\n"
        "    if n != 'desktopviz.__main__': importlib.import_module(n)\n"
        "bad = [m for m in ('PySide6', 'pyqtgraph') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ""
