"""Class colours for boxes, masks and legends: colour-blind-friendly first, then spread hues.

The first twelve colours are Okabe-Ito's (without black) followed by Paul Tol's muted set; they
stay apart under the common colour-vision deficiencies. Further classes get hues a golden angle
apart, so any class id has a stable colour.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

CLASS_COLOURS = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#882255",  # wine
    "#44AA99",  # teal
    "#999933",  # olive
    "#AA4499",  # purple
    "#DDCC77",  # sand
)
GOLDEN_ANGLE = 137.508
SIDE_COLOURS = ("#0072B2", "#E69F00")
"""Side 0 and side 1 of a comparison: Okabe-Ito blue and orange (apart for every common
colour-vision deficiency)."""


def class_colour(class_id: int) -> QColor:
    """The colour of a class id (stable across tables, views and runs)."""
    if 0 <= class_id < len(CLASS_COLOURS):
        return QColor(CLASS_COLOURS[class_id])
    hue = (class_id * GOLDEN_ANGLE) % 360.0
    return QColor.fromHsvF(hue / 360.0, 0.65, 0.9)


def text_colour_on(background: QColor) -> QColor:
    """Black or white, whichever reads better on ``background``."""
    r, g, b = background.redF(), background.greenF(), background.blueF()
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return QColor("#000000") if luminance > 0.55 else QColor("#ffffff")


def mute(widget: QWidget) -> QWidget:
    """Draw a widget's text in the palette's muted colour (readable in light and dark themes)."""
    widget.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return widget
