"""Bundled icons survive Qt copying them: a detached icon (``addPixmap``) draws through an engine
that is still alive (PySide freed the Python copy ``clone()`` returned: a segfault, or a freed
object's memory read as another type)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

DETACH = textwrap.dedent("""
    import gc
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from desktopviz.app.icons import icon
    icons = []
    for name in ("zoom-in", "zoom-out", "import") * 20:
        original = icon(name)
        copy = QIcon(original)
        copy.addPixmap(original.pixmap(16, 16))  # detaches: Qt asks the engine for a clone
        icons.append(copy)
    gc.collect()
    drawn = 0
    for copy in icons:
        image = copy.pixmap(24, 24).toImage()
        drawn += any(image.pixelColor(x, y).alpha() for x in range(24) for y in range(24))
    del icons
    gc.collect()
    print("drawn", drawn)
""")


def test_a_detached_icon_still_draws():
    r = subprocess.run(
        [sys.executable, "-c", DETACH],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert r.returncode == 0, (r.returncode, r.stderr[-2000:])
    assert r.stdout.split() == ["drawn", "60"]
