"""The bundled SVG icons (``desktopviz/resources/icons``), drawn crisp at any size and tinted with the
current palette's text colour, so one file serves light and dark themes and every screen scale.

Public API: :func:`icon` (``icon("import")``), :func:`app_icon`.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QByteArray, QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QIcon, QIconEngine, QImage, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from desktopviz.resources import resource_path

_svg_text: dict[str, str] = {}
_clones: list[QIconEngine] = []


def _svg(name: str) -> str:
    if name not in _svg_text:
        path = resource_path("icons", f"{name}.svg")
        _svg_text[name] = path.read_text(encoding="utf-8") if path.is_file() else ""
    return _svg_text[name]


class _TintedSvgEngine(QIconEngine):
    """Paints an SVG whose strokes say ``currentColor`` in the palette's colour for the mode."""

    def __init__(self, name: str, role: QPalette.ColorRole) -> None:
        super().__init__()
        self._name = name
        self._role = role

    def _renderer(self, mode: QIcon.Mode) -> QSvgRenderer:
        palette = QApplication.palette()
        group = QPalette.ColorGroup.Disabled if mode == QIcon.Mode.Disabled else QPalette.Active
        role = QPalette.ColorRole.HighlightedText if mode == QIcon.Mode.Selected else self._role
        colour = palette.color(group, role).name()
        return QSvgRenderer(QByteArray(_svg(self._name).replace("currentColor", colour).encode()))

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        """Draw the icon into ``rect``."""
        self._renderer(mode).render(painter, QRectF(rect))

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        """The icon at ``size`` device pixels."""
        image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        self.paint(painter, QRect(QPoint(0, 0), size), mode, state)
        painter.end()
        return QPixmap.fromImage(image)

    def scaledPixmap(  # noqa: N802 - Qt override
        self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float
    ) -> QPixmap:
        """The icon at ``size`` logical pixels on a screen of ``scale`` device pixels each."""
        pixmap = self.pixmap(size * scale, mode, state)
        pixmap.setDevicePixelRatio(scale)
        return pixmap

    def clone(self) -> QIconEngine:
        """A copy (Qt needs it when an icon is detached, e.g. by ``addPixmap``).

        Qt owns the copy, but PySide frees what a Python override returns as soon as Python
        holds no reference: the icon then drew through a freed engine (a segfault, or a
        ``'QStandardItem' object has no attribute 'connect'`` when the memory was reused). The
        copies are kept here until Qt deletes them."""
        engine = _TintedSvgEngine(self._name, self._role)
        _clones[:] = [e for e in _clones if shiboken6.isValid(e)]
        _clones.append(engine)
        return engine

    def iconName(self) -> str:  # noqa: N802 - Qt override
        """The bundled icon's name."""
        return self._name


def icon(name: str, role: QPalette.ColorRole = QPalette.ColorRole.WindowText) -> QIcon:
    """The bundled icon ``resources/icons/<name>.svg`` tinted with ``role`` of the palette."""
    return QIcon(_TintedSvgEngine(name, role))


def app_icon() -> QIcon:
    """The application's own (coloured) icon."""
    return QIcon(str(resource_path("icons", "desktopviz.svg")))


def type_icon(artifact_type: str) -> QIcon:
    """The icon of an artifact type (dataset, model, predictions; a box for any other)."""
    name = f"type-{artifact_type}"
    return icon(name if _svg(name) else "artifact")


def file_icon(path: str) -> QIcon:
    """The icon of an artifact file by its name."""
    low = path.lower()
    if low.endswith((".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff")):
        return icon("file-image")
    if low.endswith((".table.json", ".csv", ".tsv", ".parquet", ".jsonl", ".ndjson")):
        return icon("table")
    if low.endswith(".json"):
        return icon("file-json")
    if low.endswith((".txt", ".md", ".log", ".yaml", ".yml", ".py", ".cfg", ".toml", ".ini")):
        return icon("file-text")
    return icon("file")
