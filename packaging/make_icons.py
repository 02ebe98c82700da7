"""Render the app icon (``desktopviz/resources/icons/desktopviz.svg``) for the installers:
``OUT/hicolor/<N>x<N>/apps/<app id>.png`` for Linux, ``OUT/desktopviz.ico`` for Windows and
``OUT/desktopviz.icns`` for macOS. Usage: python packaging/make_icons.py OUT_DIR"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def render(svg: Path, size: int, out: Path) -> None:
    """Draw ``svg`` into a transparent ``size``-pixel square PNG at ``out``."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(svg)).render(painter)
    painter.end()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out), "PNG"):
        raise SystemExit(f"make_icons: could not write {out}")


def main(out_dir: Path) -> None:
    """Write every icon file under ``out_dir``."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtGui import QGuiApplication

    from desktopviz.resources import APP_ID, resource_path

    _app = QGuiApplication.instance() or QGuiApplication([])
    svg = resource_path("icons", "desktopviz.svg")
    pngs = {}
    for size in SIZES:
        pngs[size] = out_dir / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        render(svg, size, pngs[size])
    largest = Image.open(pngs[SIZES[-1]])
    ico_sizes = [s for s in SIZES if s <= 256]
    largest.save(
        out_dir / "desktopviz.ico",
        sizes=[(s, s) for s in ico_sizes],
        append_images=[Image.open(pngs[s]) for s in ico_sizes],
    )
    largest.save(out_dir / "desktopviz.icns")
    print(f"make_icons: {len(SIZES)} PNGs, desktopviz.ico, desktopviz.icns in {out_dir}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
