"""The cell inspector shows the selected cell in full: an image with its boxes and overlay
toggles, a JSON tree, full text (as Markdown on request), other media with a preview; it copies
values."""

from __future__ import annotations

import io
import json
import wave

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication

from desktopviz.app.palette import class_colour
from desktopviz.app.state import AppState, CellRef, OverlaySettings
from desktopviz.app.widgets.cell_inspector import CellInspector
from desktopviz.app.widgets.table_panel import TablePanel
from tests.app.test_cell_delegates import edge_in_colour
from tests.app.test_table_panel import click_cell, make_panel  # noqa: F401 - the panel fixture
from tests.blob_support import damage_blob

PREDICTIONS = "street-scenes/scene-predictions:v1"


def shown_inspector(qtbot, state: AppState, width: int) -> CellInspector:
    """A cell inspector on ``state``, ``width`` x 760, shown and exposed."""
    widget = CellInspector(state)
    qtbot.addWidget(widget)
    widget.resize(width, 760)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def inspector(qtbot, app_state):
    yield shown_inspector(qtbot, app_state, 480)
    app_state.set_overlay_settings(OverlaySettings())


def column_of(panel: TablePanel, name: str) -> int:
    return [c.name for c in panel.model.columns].index(name)


def open_predictions(make_panel, app_state) -> TablePanel:  # noqa: F811
    return make_panel(app_state, PREDICTIONS, "joined.joined-table.json")


def click_check_box(qtbot, box) -> None:
    """Click a check box on its box (a wide check box only reacts on its box and label)."""
    centre = QPoint(8, box.height() // 2)
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, centre)


def text_cell(app_state, text: str) -> CellRef:
    version = app_state.cache.resolve(PREDICTIONS)
    return CellRef(version, "notes", 4, "notes", text, "plain", "string")


def test_clicking_an_image_cell_shows_the_image_and_its_boxes(
    qtbot,
    app_state,
    inspector,
    make_panel,  # noqa: F811
):
    panel = open_predictions(make_panel, app_state)
    click_cell(qtbot, panel, 3, column_of(panel, "image"))
    assert app_state.cell.row == 3 and app_state.cell.column == "image"
    assert inspector.title.text() == "image · row 3"
    qtbot.waitUntil(inspector.image_view.has_image, timeout=10_000)
    assert inspector.image_view.image().width() == 128
    labels = [
        inspector.box_list.topLevelItem(i).text(0)
        for i in range(inspector.box_list.topLevelItemCount())
    ]
    assert sorted(labels) == ["bus", "person", "sign", "sign"]
    assert inspector.image_caption.text().startswith("pred: ")


def test_image_overlays_follow_the_toggles_and_the_box_list(qtbot, app_state, inspector):
    version = app_state.cache.resolve(PREDICTIONS)
    row = app_state.engine.result(version, "predictions.table.json", _spec()).rows(3, 1)
    record = row.column("image").to_pylist()[0]
    app_state.set_cell(CellRef(version, "predictions.table.json", 3, "image", record, "media", ""))
    view = inspector.image_view
    qtbot.waitUntil(lambda: view.has_image() and inspector.image_cell is not None, timeout=10_000)
    cell = inspector.image_cell
    bus = next(b for b in cell.boxes if b.label == "bus")
    sign = next(b for b in cell.boxes if b.label == "sign")

    def on_screen(box):
        from PySide6.QtCore import QRectF

        target = view.viewportTransform().mapRect(view.sceneRect())
        x0, y0, x1, y1 = box.normalised(128.0, 128.0)
        w, h = target.width(), target.height()
        return QRectF(target.left() + x0 * w, target.top() + y0 * h, (x1 - x0) * w, (y1 - y0) * h)

    def shot():
        view.viewport().repaint()
        return view.viewport().grab().toImage()

    assert edge_in_colour(shot(), on_screen(bus), class_colour(bus.class_id)) > 0.8
    qtbot.mouseClick(inspector.legend.chip("bus"), Qt.MouseButton.LeftButton)
    assert edge_in_colour(shot(), on_screen(bus), class_colour(bus.class_id)) < 0.2
    item = inspector.box_list.topLevelItem([b.label for b in cell.boxes].index("bus"))
    assert item.foreground(0).color() != inspector.box_list.topLevelItem(0).foreground(0).color()
    qtbot.mouseClick(inspector.legend.chip("bus"), Qt.MouseButton.LeftButton)

    # selecting a box in the list highlights it; the others fade
    inspector.box_list.setCurrentItem(item)
    image = shot()
    assert edge_in_colour(image, on_screen(bus), class_colour(bus.class_id)) > 0.8
    assert (
        edge_in_colour(
            image,
            on_screen(sign),
            class_colour(sign.class_id),
        )
        < 0.2
    )


def test_json_and_nested_cells_show_as_a_tree(qtbot, app_state, inspector, make_panel):  # noqa: F811
    panel = open_predictions(make_panel, app_state)
    click_cell(qtbot, panel, 0, column_of(panel, "class_iou"))
    tree = inspector.json_tree
    assert inspector.pages.currentWidget() is tree
    keys = [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]
    expected = json.loads(app_state.cell.value)
    assert keys == list(expected)
    assert tree.topLevelItem(0).text(1) == str(expected[keys[0]])

    click_cell(qtbot, panel, 0, column_of(panel, "label_probs"))
    keys = [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]
    assert keys == ["bicycle", "building", "bus", "car", "person", "sign", "tree"]
    assert inspector.subtitle.text().startswith("dict · ")


def test_long_text_in_full_and_as_markdown(qtbot, app_state, inspector):
    text = "# Findings\n\nThe model **misses** small signs.\n\n" + "More words. " * 400
    app_state.set_cell(text_cell(app_state, text))
    shown = inspector.text
    assert inspector.pages.currentIndex() == 3
    assert shown.toPlainText() == text  # in full, as written
    assert not inspector.markdown.isChecked()
    click_check_box(qtbot, inspector.markdown)
    assert inspector.markdown.isChecked()
    rendered = shown.toPlainText()
    assert "**" not in rendered and "# Findings" not in rendered
    assert rendered.startswith("Findings") and "misses" in rendered
    assert "font-weight" in shown.toHtml()
    click_check_box(qtbot, inspector.markdown)
    assert shown.toPlainText() == text


def test_copy_value(qtbot, app_state, inspector, make_panel):  # noqa: F811
    QGuiApplication.clipboard().setText("")
    app_state.set_cell(text_cell(app_state, "a note\twith a tab"))
    qtbot.mouseClick(inspector.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "a note\twith a tab"

    panel = open_predictions(make_panel, app_state)
    click_cell(qtbot, panel, 2, column_of(panel, "label_probs"))
    qtbot.mouseClick(inspector.copy_button, Qt.MouseButton.LeftButton)
    assert json.loads(QGuiApplication.clipboard().text()) == app_state.cell.value

    click_cell(qtbot, panel, 2, column_of(panel, "confidence"))
    qtbot.mouseClick(inspector.copy_button, Qt.MouseButton.LeftButton)
    assert float(QGuiApplication.clipboard().text()) == app_state.cell.value


def test_a_corrupt_image_says_why(qtbot, app_state, inspector):
    version = app_state.cache.resolve(PREDICTIONS)
    row = app_state.engine.result(version, "predictions.table.json", _spec()).rows(5, 1)
    record = row.column("image").to_pylist()[0]
    damage_blob(app_state.cache, record["sha256"], lambda _: b"\x89PNG broken")
    app_state.set_cell(CellRef(version, "predictions.table.json", 5, "image", record, "media", ""))
    view = inspector.image_view
    qtbot.waitUntil(lambda: "image" in view.message() and "Loading" not in view.message())
    assert not view.has_image()
    assert "not an image" in view.message() or "broken" in view.message()


def test_audio_cells_show_a_waveform(qtbot, app_state, inspector):
    rate = 8000
    t = np.arange(rate) / rate
    samples = (np.sin(2 * np.pi * 440 * t) * 0.5 * 32767).astype(np.int16)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    info = app_state.cache.blobs.put_bytes(buf.getvalue())
    record = {"_type": "audio-file", "path": "media/audio/tone.wav", "sha256": info.sha256}
    version = app_state.cache.resolve(PREDICTIONS)
    app_state.set_cell(CellRef(version, "t", 0, "sound", record, "media", ""))
    assert inspector.pages.currentIndex() == 4
    assert "audio-file" in inspector.media_info.text()
    qtbot.waitUntil(inspector.waveform.isVisible, timeout=10_000)
    envelope = inspector.waveform.envelope
    assert len(envelope) > 100
    assert envelope[:, 1].max() == pytest.approx(0.5, abs=0.02)
    assert envelope[:, 0].min() == pytest.approx(-0.5, abs=0.02)
    assert inspector.open_button.isEnabled()


def test_nothing_selected(qtbot, app_state, inspector):
    app_state.set_cell(text_cell(app_state, "x"))
    app_state.set_cell(None)
    assert inspector.pages.currentWidget() is inspector.empty
    assert not inspector.copy_button.isEnabled()


def _spec():
    from desktopviz.query.spec import QuerySpec

    return QuerySpec()
