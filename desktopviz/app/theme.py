"""Light and dark themes (Fusion style with our palettes and ``desktopviz/resources/style.qss``), following
the system's colour scheme unless the user picks one; alias chips drawn the same way everywhere.

Public API: :data:`THEMES`, :func:`apply_theme`, :func:`is_dark`, :func:`follow_system_theme`,
:func:`chip_colours`, :func:`draw_chips`, :func:`chips_width`, :func:`monospace_font`.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from desktopviz.resources import resource_path

THEMES = ("system", "light", "dark")
"""The choices in View > Theme."""

_LIGHT = {
    "Window": "#f4f5f7",
    "WindowText": "#1f2328",
    "Base": "#ffffff",
    "AlternateBase": "#f6f8fa",
    "ToolTipBase": "#ffffff",
    "ToolTipText": "#1f2328",
    "PlaceholderText": "#6e7781",
    "Text": "#1f2328",
    "Button": "#f6f7f9",
    "ButtonText": "#1f2328",
    "BrightText": "#ffffff",
    "Light": "#ffffff",
    "Midlight": "#e7e9ec",
    "Mid": "#c9ced6",
    "Dark": "#a0a7b1",
    "Shadow": "#6e7781",
    "Highlight": "#2f6feb",
    "HighlightedText": "#ffffff",
    "Link": "#0969da",
    "LinkVisited": "#8250df",
}
_DARK = {
    "Window": "#202226",
    "WindowText": "#e3e5e8",
    "Base": "#17181b",
    "AlternateBase": "#1d1f23",
    "ToolTipBase": "#2b2e33",
    "ToolTipText": "#e3e5e8",
    "PlaceholderText": "#7d8590",
    "Text": "#e3e5e8",
    "Button": "#2a2d32",
    "ButtonText": "#e3e5e8",
    "BrightText": "#ffffff",
    "Light": "#3a3e45",
    "Midlight": "#30333a",
    "Mid": "#454a52",
    "Dark": "#15161a",
    "Shadow": "#0b0c0e",
    "Highlight": "#3d74e0",
    "HighlightedText": "#ffffff",
    "Link": "#6ea8fe",
    "LinkVisited": "#b392f0",
}
_DISABLED_TEXT = {"light": "#a0a7b1", "dark": "#6b717a"}


def is_dark(mode: str) -> bool:
    """Whether ``mode`` (system, light, dark) means dark colours now."""
    if mode == "dark":
        return True
    if mode == "light":
        return False
    app = QApplication.instance()
    return bool(app) and app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def palette_for(dark: bool) -> QPalette:
    """Our light or dark palette."""
    palette = QPalette()
    for role_name, colour in (_DARK if dark else _LIGHT).items():
        palette.setColor(getattr(QPalette.ColorRole, role_name), QColor(colour))
    disabled = QColor(_DISABLED_TEXT["dark" if dark else "light"])
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return palette


def apply_theme(app: QApplication, mode: str = "system") -> None:
    """Style ``app`` with Fusion, our palette for ``mode`` and the bundled style sheet."""
    if mode not in THEMES:
        mode = "system"
    dark = is_dark(mode)
    palette = palette_for(dark)
    app.setStyle(QStyleFactory.create("Fusion"))
    app.setPalette(palette)
    app.setProperty("desktopviz_theme", mode)
    qss = resource_path("style.qss")
    text = qss.read_text(encoding="utf-8") if qss.is_file() else ""
    dim = palette.color(QPalette.ColorRole.PlaceholderText).name()
    text = text.replace("@ICONS@", resource_path("icons").as_posix()).replace("@DIM@", dim)
    app.setStyleSheet(text)


def current_theme(app: QApplication) -> str:
    """The theme mode last applied (``system`` if none)."""
    return app.property("desktopviz_theme") or "system"


def follow_system_theme(app: QApplication) -> None:
    """Re-apply the theme when the system switches between light and dark (mode ``system``)."""

    def changed(_scheme: Qt.ColorScheme) -> None:
        if current_theme(app) == "system":
            apply_theme(app, "system")

    app.styleHints().colorSchemeChanged.connect(changed)


# -- alias chips ----------------------------------------------------------------------------
_CHIP_HUES = {"latest": 140, "production": 215, "staging": 35, "best": 280}


def chip_colours(alias: str, palette: QPalette) -> tuple[QColor, QColor]:
    """Background and text colour of an alias chip (fixed hues for well-known aliases)."""
    hue = _CHIP_HUES.get(alias, zlib.crc32(alias.encode()) % 360)
    dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
    if dark:
        return QColor.fromHsl(hue, 110, 62), QColor.fromHsl(hue, 200, 200)
    return QColor.fromHsl(hue, 170, 228), QColor.fromHsl(hue, 160, 62)


def _chip_font(font: QFont) -> QFont:
    small = QFont(font)
    small.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
    small.setWeight(QFont.Weight.DemiBold)
    return small


CHIP_GAP = 4


def chips_width(aliases: Sequence[str], font: QFont) -> int:
    """The width :func:`draw_chips` needs for ``aliases``."""
    metrics = QFontMetrics(_chip_font(font))
    return sum(metrics.horizontalAdvance(a) + 12 + CHIP_GAP for a in aliases)


def draw_chips(
    painter: QPainter,
    x: float,
    centre_y: float,
    aliases: Sequence[str],
    font: QFont,
    palette: QPalette,
    max_right: float | None = None,
) -> float:
    """Paint rounded alias chips left to right from ``x``; return where the last one ends.

    Chips that would pass ``max_right`` are left out and the row ends with "+N".
    """
    small = _chip_font(font)
    metrics = QFontMetrics(small)
    height = metrics.height() + 2
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setFont(small)
    for i, alias in enumerate(aliases):
        width = metrics.horizontalAdvance(alias) + 12
        text = alias
        if max_right is not None and x + width > max_right:
            text = f"+{len(aliases) - i}"
            width = metrics.horizontalAdvance(text) + 12
            if x + width > max_right:
                break
            bg, fg = (
                palette.color(QPalette.ColorRole.Midlight),
                palette.color(QPalette.ColorRole.WindowText),
            )
        else:
            bg, fg = chip_colours(alias, palette)
        rect = QRectF(x, centre_y - height / 2, width, height)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(bg)
        painter.drawRoundedRect(rect, height / 2, height / 2)
        painter.setPen(fg)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        x += width + CHIP_GAP
        if text != alias:
            break
    painter.restore()
    return x


def monospace_font() -> QFont:
    """The system's fixed-width font (snippets, digests)."""
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
