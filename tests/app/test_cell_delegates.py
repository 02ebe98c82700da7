"""What table cells look like: boxes in class colours where the box is, legend toggles and the
score threshold changing the painted thumbnail, a clear placeholder for a broken image, numbers
right-aligned, bools as check marks; thumbnails cached on disk and read back without decoding."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage

from desktopviz.app.models.table_model import CELL_ROLE
from desktopviz.app.palette import class_colour
from desktopviz.app.thumbnail_loader import ThumbnailLoader
from desktopviz.app.widgets.table_panel import TablePanel
from desktopviz.formats.image_cells import Box, ImageCell
from tests.app.test_table_panel import make_panel  # noqa: F401 - the panel fixture
from tests.blob_support import damage_blob

PREDICTIONS = "street-scenes/scene-predictions:v1"
THUMB = 200


def image_panel(qtbot, state, make_panel) -> TablePanel:  # noqa: F811
    panel = make_panel(state, PREDICTIONS, "predictions.table.json")
    panel.resize(900, 900)
    panel.set_thumb_size(THUMB)
    return panel


def image_index(panel: TablePanel, model_row: int):
    column = [c.name for c in panel.model.columns].index("image")
    return panel.model.index(model_row, column)


def wait_thumbnail(qtbot, panel: TablePanel, model_row: int) -> ImageCell:
    """Scroll the row to the top; wait until its thumbnail (and masks) are decoded."""
    index = image_index(panel, model_row)
    panel.view.scrollTo(index, panel.view.ScrollHint.PositionAtTop)
    qtbot.waitUntil(lambda: isinstance(index.data(CELL_ROLE), ImageCell), timeout=10_000)
    cell = index.data(CELL_ROLE)
    requests = panel.delegate.image_requests(cell, target_of(panel, model_row))
    qtbot.waitUntil(lambda: all(panel.loader.cached(r) for r in requests), timeout=10_000)
    return cell


def target_of(panel: TablePanel, model_row: int) -> QRectF:
    index = image_index(panel, model_row)
    return panel.delegate.image_target(panel.view.visualRect(index), index.data(CELL_ROLE))


def box_rect(panel: TablePanel, model_row: int, cell: ImageCell, box: Box) -> QRectF:
    """Where a box falls on screen (viewport pixels), from its coordinates."""
    target = target_of(panel, model_row)
    x0, y0, x1, y1 = box.normalised(float(cell.width), float(cell.height))
    return QRectF(
        target.left() + x0 * target.width(),
        target.top() + y0 * target.height(),
        (x1 - x0) * target.width(),
        (y1 - y0) * target.height(),
    )


def grab(panel: TablePanel) -> QImage:
    panel.view.viewport().repaint()
    return panel.view.viewport().grab().toImage()


def near(a: QColor, b: QColor, tolerance: int = 40) -> bool:
    return max(abs(a.red() - b.red()), abs(a.green() - b.green()), abs(a.blue() - b.blue())) <= (
        tolerance
    )


def edge_in_colour(image: QImage, rect: QRectF, colour: QColor) -> float:
    """Share of the columns along a box's bottom edge (captions sit on top edges) where a pixel
    (±1 row) has ``colour``."""
    y = round(rect.bottom()) - 1
    xs = range(round(rect.left()) + 2, round(rect.right()) - 2)
    hits = sum(any(near(image.pixelColor(x, yy), colour) for yy in (y - 1, y, y + 1)) for x in xs)
    return hits / max(1, len(xs))


def find_box(cell: ImageCell, label: str) -> Box:
    return next(b for b in cell.boxes if b.label == label)


def test_box_outline_is_drawn_in_its_class_colour_where_the_box_is(qtbot, app_state, make_panel):  # noqa: F811
    panel = image_panel(qtbot, app_state, make_panel)
    cell = wait_thumbnail(qtbot, panel, 3)
    bus = find_box(cell, "bus")
    rect = box_rect(panel, 3, cell, bus)
    image = grab(panel)
    assert edge_in_colour(image, rect, class_colour(bus.class_id)) > 0.8
    inside = rect.adjusted(6, 6, -6, -6)  # the outline is an outline: not inside the box
    assert edge_in_colour(image, inside, class_colour(bus.class_id)) < 0.3


def test_hiding_a_class_in_the_legend_removes_its_boxes(qtbot, app_state, make_panel):  # noqa: F811
    panel = image_panel(qtbot, app_state, make_panel)
    cell = wait_thumbnail(qtbot, panel, 3)
    bus, sign = find_box(cell, "bus"), find_box(cell, "sign")
    bus_rect = box_rect(panel, 3, cell, bus)
    chip = panel.legend.chip("bus")
    assert chip.isChecked()
    qtbot.mouseClick(chip, Qt.MouseButton.LeftButton)
    assert "bus" in app_state.overlay_settings.hidden_classes
    image = grab(panel)
    assert edge_in_colour(image, bus_rect, class_colour(bus.class_id)) < 0.2
    sign_rect = box_rect(panel, 3, cell, sign)
    assert edge_in_colour(image, sign_rect, class_colour(sign.class_id)) > 0.6

    qtbot.mouseClick(chip, Qt.MouseButton.LeftButton)  # and back
    assert edge_in_colour(grab(panel), bus_rect, class_colour(bus.class_id)) > 0.8


def test_hiding_a_box_layer_removes_its_boxes(qtbot, app_state, make_panel):  # noqa: F811
    panel = image_panel(qtbot, app_state, make_panel)
    cell = wait_thumbnail(qtbot, panel, 3)
    bus = find_box(cell, "bus")
    rect = box_rect(panel, 3, cell, bus)
    toggle = panel.legend.layer_toggle("boxes", "predictions")
    toggle.click()
    assert edge_in_colour(grab(panel), rect, class_colour(bus.class_id)) < 0.2


def test_score_threshold_hides_low_scoring_boxes(qtbot, app_state, make_panel):  # noqa: F811
    panel = image_panel(qtbot, app_state, make_panel)
    cell = wait_thumbnail(qtbot, panel, 0)
    low, high = find_box(cell, "building"), find_box(cell, "sign")
    assert low.score("score") < 0.5 < high.score("score")
    low_rect, high_rect = box_rect(panel, 0, cell, low), box_rect(panel, 0, cell, high)
    image = grab(panel)
    assert edge_in_colour(image, low_rect, class_colour(low.class_id)) > 0.8
    panel.legend.set_min_score(0.5)
    assert app_state.overlay_settings.min_score == 0.5
    assert app_state.overlay_settings.score_key == "score"
    image = grab(panel)
    assert edge_in_colour(image, low_rect, class_colour(low.class_id)) < 0.2
    assert edge_in_colour(image, high_rect, class_colour(high.class_id)) > 0.6


def test_a_corrupt_image_shows_an_error_placeholder(qtbot, app_state, make_panel):  # noqa: F811
    version = app_state.cache.resolve(PREDICTIONS)
    record = app_state.engine.result(version, "predictions.table.json", _spec()).rows(0, 1)
    sha = record.column("image").to_pylist()[0]["sha256"]
    damage_blob(app_state.cache, sha, lambda _: b"this is not a png")
    panel = image_panel(qtbot, app_state, make_panel)
    index = image_index(panel, 0)
    qtbot.waitUntil(lambda: index.data(CELL_ROLE) is not None, timeout=10_000)
    rect = panel.view.visualRect(index)
    qtbot.waitUntil(lambda: panel.delegate.image_error(index, rect) is not None, timeout=10_000)
    assert "not an image" in panel.delegate.image_error(index, rect)
    image = grab(panel)
    target = target_of(panel, 0)
    frame_colour = image.pixelColor(round(target.left()), round(target.center().y()))
    assert frame_colour.red() > 150 and frame_colour.green() < 100  # the red frame
    assert panel.isVisible()  # and the rest of the table still paints
    assert wait_thumbnail(qtbot, panel, 1) is not None


def test_numbers_are_right_aligned_and_bools_are_check_marks(qtbot, app_state, make_panel):  # noqa: F811
    panel = image_panel(qtbot, app_state, make_panel)
    wait_thumbnail(qtbot, panel, 0)
    names = [c.name for c in panel.model.columns]
    image = grab(panel)
    text_colour = panel.view.palette().color(panel.view.foregroundRole())
    number_rect = panel.view.visualRect(panel.model.index(0, names.index("confidence")))
    ink = [
        x
        for x in range(number_rect.left(), number_rect.right())
        for y in range(number_rect.top(), number_rect.bottom())
        if near(image.pixelColor(x, y), text_colour, 90)
    ]
    assert ink and max(ink) > number_rect.right() - 14  # flush right:
    assert min(ink) - number_rect.left() > 2 * (number_rect.right() - max(ink))

    correct = names.index("correct")
    flag_row = next(
        r
        for r in range(4)
        if panel.model.data(panel.model.index(r, correct), Qt.ItemDataRole.UserRole + 1)
    )
    centre = panel.view.visualRect(panel.model.index(flag_row, correct)).center()
    accent = panel.view.palette().color(panel.view.palette().ColorRole.Highlight)
    assert near(image.pixelColor(centre.x() - 4, centre.y() + 4), accent, 30)


def test_thumbnails_are_cached_on_disk_and_read_back_without_decoding(
    qtbot,
    app_state,
    make_panel,  # noqa: F811
):
    panel = image_panel(qtbot, app_state, make_panel)
    cell = wait_thumbnail(qtbot, panel, 0)
    request = panel.delegate.image_requests(cell, target_of(panel, 0))[0]
    assert panel.loader.store.stats.decoded > 0
    thumbs = app_state.cache.root / "derived" / "thumbs"
    assert list(thumbs.rglob(f"{cell.sha256}.*"))

    second = ThumbnailLoader(app_state.cache)
    try:
        assert second.get(request) is None  # not in this loader's memory: queued
        qtbot.waitUntil(lambda: second.cached(request), timeout=10_000)
        assert second.get(request).image.width() == cell.width  # small sources are not enlarged
        assert second.store.stats.decoded == 0
        assert second.store.stats.read == 1
    finally:
        second.close()


def test_grouped_histogram_labels_never_overlap(qtbot, app_state, make_panel):  # noqa: F811
    """A histogram cell narrower than its min and max labels side by side draws one label (cut
    to fit), not both over each other; wide enough, both."""
    from PySide6.QtGui import QFont, QFontMetrics

    from desktopviz.query.display import short_number
    from desktopviz.query.spec import GroupSpec, QuerySpec

    panel = make_panel(app_state, PREDICTIONS, "predictions.table.json")
    spec = QuerySpec(group=GroupSpec(("prediction",)))
    panel.model.set_spec(spec)
    qtbot.waitUntil(lambda: panel.model.result.spec == spec, timeout=15_000)
    qtbot.waitUntil(lambda: panel.model.is_loaded(0), timeout=10_000)
    model, view = panel.model, panel.view
    column = [c.name for c in model.columns].index("confidence")
    view.setRowHeight(0, 80)
    value = model.value(model.index(0, column))
    small = QFont(view.font())
    small.setPointSizeF(max(7.0, view.font().pointSizeF() * 0.85))
    metrics = QFontMetrics(small)
    lo, hi = (metrics.horizontalAdvance(short_number(value[k])) for k in ("min", "max"))
    # between one label's width and both side by side (the cell pads 6 px each side)
    inner = (max(lo, hi) + 8 + lo + hi) // 2
    assert max(lo, hi) + 6 < inner < lo + hi

    def ink_extent(width: int) -> int:
        view.setColumnWidth(column, width + 12)
        view.scrollTo(model.index(0, column))
        rect = view.visualRect(model.index(0, column))
        image = view.viewport().grab().toImage()
        strip = range(rect.bottom() - 4 - metrics.height(), rect.bottom() - 4)
        background = image.pixelColor(rect.left() + 2, strip[0])
        ink = [
            x
            for x in range(rect.left() + 2, rect.right() - 1)
            if any(not near(image.pixelColor(x, y), background, 60) for y in strip)
        ]
        return max(ink) - min(ink) + 1 if ink else 0

    assert ink_extent(inner) <= max(lo, hi) + 2  # one label, not two drawn over each other
    assert ink_extent(lo + hi + 40) > lo + hi  # room for both: both, apart


def _spec():
    from desktopviz.query.spec import QuerySpec

    return QuerySpec()


@pytest.fixture(autouse=True)
def _reset_overlays(app_state):
    yield
    from desktopviz.app.state import OverlaySettings

    app_state.set_overlay_settings(OverlaySettings())
