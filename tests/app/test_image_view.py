"""The image view: files decode in a worker, wheel and keys zoom, dragging pans, overlays are
drawn over the image where their boxes are, a broken file says so."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication

from desktopviz.app.palette import class_colour
from desktopviz.app.state import OverlaySettings
from desktopviz.app.widgets.image_view import ImageView
from desktopviz.formats.image_cells import image_cell
from tests.app.test_cell_delegates import edge_in_colour


@pytest.fixture
def view(qtbot):
    widget = ImageView()
    qtbot.addWidget(widget)
    widget.resize(400, 300)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def picture(tmp_path: Path) -> Path:
    """A 200 x 100 PNG: left half dark grey, right half light grey."""
    pixels = np.full((100, 200, 3), 60, np.uint8)
    pixels[:, 100:] = 200
    path = tmp_path / "picture.png"
    Image.fromarray(pixels).save(path)
    return path


def wheel(view: ImageView, notches: int) -> None:
    centre = view.viewport().rect().center()
    event = QWheelEvent(
        QPointF(centre),
        QPointF(view.viewport().mapToGlobal(centre)),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), event)


def test_a_file_loads_in_a_worker_and_fits_the_view(qtbot, view, picture):
    with qtbot.waitSignal(view.image_loaded, timeout=10_000) as loaded:
        view.set_image(picture)
        assert view.message() == "Loading…"  # nothing decoded on the UI thread
    assert loaded.args[0].width() == 200
    assert view.has_image()
    assert view.zoom == pytest.approx(min(400 / 200, 300 / 100), rel=0.05)
    shot = view.viewport().grab().toImage()
    middle = view.viewport().rect().center()
    left = shot.pixelColor(middle.x() - 40, middle.y())
    right = shot.pixelColor(middle.x() + 40, middle.y())
    assert left.red() < 90 and right.red() > 170


def test_wheel_and_keys_zoom(qtbot, view, picture):
    view.set_image(QImage(str(picture)))
    fitted = view.zoom
    wheel(view, 2)
    assert view.zoom == pytest.approx(fitted * 1.25**2, rel=0.01)
    qtbot.keyClick(view, Qt.Key.Key_Minus)
    assert view.zoom == pytest.approx(fitted * 1.25, rel=0.01)
    qtbot.keyClick(view, Qt.Key.Key_1)
    assert view.zoom == pytest.approx(1.0)
    qtbot.keyClick(view, Qt.Key.Key_Plus)
    assert view.zoom == pytest.approx(1.25)
    qtbot.keyClick(view, Qt.Key.Key_0)
    assert view.zoom == pytest.approx(fitted, rel=0.01)


def test_dragging_pans_a_zoomed_image(qtbot, view, picture):
    view.set_image(QImage(str(picture)))
    view.set_zoom(6.0)
    bar = view.horizontalScrollBar()
    before = bar.value()
    start = view.viewport().rect().center()
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view.viewport(), start + QPoint(80, 0))
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=start + QPoint(80, 0))
    assert bar.value() == before - 80


def test_double_click_toggles_fit_and_actual_pixels(qtbot, view, picture):
    view.set_image(QImage(str(picture)))
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton)
    assert view.zoom == pytest.approx(1.0)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton)
    assert view.zoom == pytest.approx(2.0, rel=0.05)


def test_overlays_are_drawn_where_the_boxes_are(qtbot, view, picture):
    record = {
        "_type": "image-file",
        "width": 200,
        "height": 100,
        "boxes": [
            (
                "truth",
                [
                    {
                        "class_id": 2,
                        "label": "bus",
                        "domain": "pixel",
                        "min_x": 20.0,
                        "min_y": 20.0,
                        "max_x": 80.0,
                        "max_y": 70.0,
                    }
                ],
            )
        ],
    }
    cell = image_cell(record)
    view.set_image(QImage(str(picture)))
    view.set_overlays(cell, OverlaySettings())
    target = view.viewportTransform().mapRect(view.sceneRect())
    scale = target.width() / 200
    box = QRectF(target.left() + 20 * scale, target.top() + 20 * scale, 60 * scale, 50 * scale)
    view.viewport().repaint()
    shot = view.viewport().grab().toImage()
    assert edge_in_colour(shot, box, class_colour(2)) > 0.9
    view.set_overlays(cell, OverlaySettings(hidden_classes=frozenset({"bus"})))
    view.viewport().repaint()
    assert edge_in_colour(view.viewport().grab().toImage(), box, class_colour(2)) < 0.1


def test_masks_are_blended_in_the_class_colour(qtbot, view, picture):
    ids = np.zeros((100, 200), np.uint8)
    ids[:, 100:] = 5  # right half: class 5
    mask = QImage(ids.tobytes(), 200, 100, 200, QImage.Format.Format_Grayscale8).copy()
    record = {"_type": "image-file", "width": 200, "height": 100, "masks": [("seg", {})]}
    view.set_image(QImage(str(picture)))
    cell = image_cell(record, {0: "background", 5: "tree"})
    view.set_overlays(cell, OverlaySettings(mask_opacity=0.5), {"seg": mask})
    view.viewport().repaint()
    shot = view.viewport().grab().toImage()
    middle = view.viewport().rect().center()
    left, right = (
        shot.pixelColor(middle.x() - 40, middle.y()),
        shot.pixelColor(middle.x() + 40, middle.y()),
    )
    assert left == QColor(60, 60, 60)  # class 0 is "background": hidden by default
    expected = class_colour(5)
    for channel in ("red", "green", "blue"):
        blended = (getattr(expected, channel)() + 200) / 2
        assert abs(getattr(right, channel)() - blended) <= 3


def test_a_broken_file_says_so(qtbot, view, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with qtbot.waitSignal(view.load_failed, timeout=10_000) as failed:
        view.set_image(bad)
    assert "not an image" in failed.args[0]
    assert not view.has_image()
    assert "not an image" in view.message()


def test_toolbar_buttons_zoom(qtbot, view, picture):
    view.set_image(QImage(str(picture)))
    bar = view.make_toolbar()
    qtbot.addWidget(bar)
    actions = {a.text(): a for a in bar.actions()}
    fitted = view.zoom
    actions["Zoom in (+)"].trigger()
    assert view.zoom > fitted
    actions["1:1"].trigger()
    assert view.zoom == pytest.approx(1.0)
    actions["Fit (0)"].trigger()
    assert view.zoom == pytest.approx(fitted, rel=0.01)
