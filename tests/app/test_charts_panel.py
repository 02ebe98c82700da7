"""The Charts dock as a user drives it: select a cell and see its column's histogram (or its top
values) over the rows shown, click a bar and see the table filtered to it, brush a scatter of two
numeric columns. Expected counts come from the stored Parquet file, with numpy."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow.parquet as pq
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from desktopviz.app.widgets.charts_panel import BRUSH_COLOUR
from tests.app.test_filter_bar import wait_applied
from tests.app.test_main_window import make_window, open_table

NEW = "street-scenes/scene-predictions:v1"
TABLE = "predictions.table.json"


@pytest.fixture
def shown(qtbot, app_state, tmp_path):
    """The main window with the predictions table in front, and the stored rows."""
    window = make_window(qtbot, app_state, tmp_path)
    panel = open_table(qtbot, window, NEW, TABLE)
    rows = pq.read_table(
        app_state.cache.parquet_path(
            app_state.cache.table_info(app_state.cache.resolve(NEW), TABLE)
        )
    ).to_pylist()
    return window, panel, rows


def click_cell(qtbot, panel, name: str) -> None:
    col = [c.name for c in panel.model.columns].index(name)
    view = panel.view
    view.scrollTo(panel.model.index(0, col))
    rect = view.visualRect(panel.model.index(0, col))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_a_numeric_column_shows_its_histogram_and_a_click_filters(qtbot, shown):
    window, panel, rows = shown
    charts = window.charts
    click_cell(qtbot, panel, "confidence")
    qtbot.waitUntil(lambda: charts.distribution is not None, timeout=15_000)
    d = charts.distribution
    values = [r["confidence"] for r in rows]
    want, _ = np.histogram(values, bins=len(d.edges) - 1, range=(min(values), max(values)))
    assert d.numeric and list(d.counts[0]) == want.tolist()
    assert f"confidence · histogram of {len(rows)} rows" in charts.title.text()
    # click the tallest bar where it is drawn
    tallest = int(np.argmax(want))
    x = (d.edges[tallest] + d.edges[tallest + 1]) / 2
    view_box = charts.plot.getPlotItem().vb
    scene = view_box.mapViewToScene(QPointF(x, want[tallest] / 2))
    point = charts.plot.mapFromScene(scene)
    qtbot.mouseClick(
        charts.plot.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(point.x(), point.y())
    )
    wait_applied(qtbot, panel, int(want[tallest]))
    assert "confidence" in panel.filter_bar.text()


def test_a_string_column_shows_top_values_and_a_bar_filters_to_one(qtbot, shown):
    window, panel, rows = shown
    charts = window.charts
    click_cell(qtbot, panel, "label")
    qtbot.waitUntil(lambda: charts.distribution is not None, timeout=15_000)
    d = charts.distribution
    want = Counter(r["label"] for r in rows)
    assert not d.numeric and dict(zip(d.values, d.counts[0], strict=True)) == dict(want)
    charts.click_bar(2)
    wait_applied(qtbot, panel, want[d.values[2]])


def test_media_columns_are_not_charted(qtbot, shown):
    window, panel, _ = shown
    click_cell(qtbot, panel, "image")
    qtbot.waitUntil(lambda: "charts show numbers" in window.charts.title.text(), timeout=10_000)
    assert window.charts.distribution is None


def test_brushing_the_scatter_selects_rows_and_can_filter_to_them(qtbot, shown):
    window, panel, rows = shown
    charts = window.charts
    charts.tabs.setCurrentIndex(1)
    charts.x_box.setCurrentText("confidence")
    charts.x_box.activated.emit(charts.x_box.currentIndex())
    charts.y_box.setCurrentText("mean_iou")
    charts.y_box.activated.emit(charts.y_box.currentIndex())
    qtbot.waitUntil(lambda: len(charts.scatter_item.data) == len(rows), timeout=15_000)
    # drag the rectangle's handle as a user would: the region change ends, the rows are selected
    roi = charts.brush_roi
    roi.setPos(QPointF(0.8, 0.5), finish=False)
    roi.setSize(QPointF(0.15, 0.5))  # finishes the change: sigRegionChangeFinished
    inside = [
        i
        for i, r in enumerate(rows)
        if 0.8 <= r["confidence"] <= 0.95 and 0.5 <= r["mean_iou"] <= 1.0
    ]
    assert 0 < len(inside) < len(rows)
    qtbot.waitUntil(lambda: charts.brushed_rows is not None, timeout=15_000)
    assert charts.brushed_rows == len(inside)
    assert f"{len(inside):,} rows brushed" in charts.brush_note.text()
    # the table draws exactly those rows selected (the rows on screen are checked)
    model = panel.model
    for row in range(min(40, model.total_rows)):
        qtbot.waitUntil(lambda r=row: model.is_loaded(r), timeout=10_000)
        assert model.brushed(row) == (row in inside), row
    # points inside the rectangle are orange
    brushes = charts.scatter_item.data["brush"]
    orange = [b.color().name().upper() == BRUSH_COLOUR for b in brushes]
    assert sum(orange) == len(inside)
    # clicking a cell changes the selection, not the rows: the scatter is not sampled again
    # and the brushed rows stay selected
    sampled = charts.scatter_item.data
    click_cell(qtbot, panel, "confidence")
    qtbot.wait(200)
    assert charts.scatter_item.data is sampled and model.brushed(inside[0])
    # "Filter to these rows" shows only them, and the selection is done with
    qtbot.mouseClick(charts.filter_brushed, Qt.MouseButton.LeftButton)
    wait_applied(qtbot, panel, len(inside))
    assert charts.brushed is None and panel.model.brush is None


def test_bar_labels_never_overlap_however_narrow_the_dock(qtbot, shown):
    from PySide6.QtGui import QFontMetrics

    window, panel, _ = shown
    charts = window.charts
    click_cell(qtbot, panel, "label")
    qtbot.waitUntil(lambda: charts.distribution is not None, timeout=15_000)
    axis = charts.plot.getAxis("bottom")
    view_box = charts.plot.getPlotItem().vb
    metrics = QFontMetrics(axis.style.get("tickFont") or charts.plot.font())

    def label_spans() -> list[tuple[float, float]]:
        ticks = axis._tickLevels[0]  # what setTicks was given: (bar index, label)
        spans = []
        for x, text in ticks:
            centre = charts.plot.mapFromScene(view_box.mapViewToScene(QPointF(x, 0))).x()
            half = metrics.horizontalAdvance(text) / 2
            spans.append((centre - half, centre + half))
        return sorted(spans)

    counts = []
    for width in (900, 420, 260):
        charts.resize(width, 400)
        charts.plot.resize(width - 20, 300)
        qtbot.wait(50)
        spans = label_spans()
        counts.append(len(spans))
        assert spans, width
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False)), (width, spans)
    assert counts[0] >= counts[-1] and counts[0] > 1


# --- axes: the column's units, counts on whole numbers ----------------------------------------

SMALL = {
    "lr": [0.001524, 0.002401, 0.000788, 0.002397, 0.001124, 0.001347, 0.002155],
    "rate": [0.001277, 0.001957, 0.00066, 0.00192, 0.000954, 0.001004, 0.001708],
    "label": ["car", "pedestrian", "traffic light", "bicycle", "car", "car", "motorcycle rider"],
}


@pytest.fixture
def small_numbers(qtbot, app_state, tmp_path):
    """The main window with a 7-row table of learning rates (about 0.001) in front."""
    import pyarrow as pa

    from desktopviz.importing import import_path

    source = tmp_path / "sweep" / "rates.parquet"
    source.parent.mkdir()
    pq.write_table(pa.table(SMALL), source)
    (imported,) = import_path(app_state.cache, source, project="sweep")
    window = make_window(qtbot, app_state, tmp_path)
    page = window.open_version(imported.result.version, "table", "rates.parquet")
    panel = page.show_table("rates.parquet")
    qtbot.waitUntil(lambda: panel.model.is_loaded(0), timeout=15_000)
    return window, panel


def drawn_ticks(axis) -> list[str]:
    """The tick labels the axis paints at its current range and size."""
    from PySide6.QtGui import QImage, QPainter

    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        _axis, _ticks, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [text for _rect, _flags, text in texts]


def test_scatter_axes_are_in_the_columns_units(qtbot, small_numbers):
    window, panel = small_numbers
    charts = window.charts
    charts.tabs.setCurrentIndex(1)
    for box, column in ((charts.x_box, "lr"), (charts.y_box, "rate")):
        box.setCurrentText(column)
        box.activated.emit(box.currentIndex())
    qtbot.waitUntil(lambda: len(charts.scatter_item.data) == len(SMALL["lr"]), timeout=15_000)
    qtbot.wait(50)
    for name, column in (("bottom", "lr"), ("left", "rate")):
        axis = charts.scatter_plot.getAxis(name)
        assert "x0.001" not in axis.labelString() and column in axis.labelString()
        low, high = sorted(axis.range)
        ticks = drawn_ticks(axis)
        assert len(ticks) >= 2, (name, ticks)
        # each label reads as the value where it is drawn: a number inside the axis's range
        assert all(low <= float(t) <= high for t in ticks), (name, low, high, ticks)
        assert min(SMALL[column]) <= high and max(SMALL[column]) >= low


def test_counts_are_on_whole_numbers(qtbot, small_numbers):
    window, panel = small_numbers
    charts = window.charts
    for column, tallest in (("label", 3), ("lr", None)):
        click_cell(qtbot, panel, column)
        qtbot.waitUntil(
            lambda c=column: charts.distribution is not None and charts.column == c,
            timeout=15_000,
        )
        counts = charts.distribution.counts[0]
        assert tallest is None or max(counts) == tallest
        for height in (400, 160, 900):
            charts.plot.resize(300, height)
            qtbot.wait(50)
            ticks = drawn_ticks(charts.plot.getAxis("left"))
            assert ticks and all(t.isdigit() for t in ticks), (column, height, ticks)
            assert str(max(counts)) in ticks or int(ticks[-1]) < max(counts) + 1


def test_a_comparisons_bars_each_filter_to_their_own_value(qtbot, shown):
    """Compared top values: a value's two bars stand side by side over its label, and a click
    anywhere on either bar (the orange one's right edge too) means that value."""
    window, panel, _ = shown
    charts = window.charts
    panel.compare_with("street-scenes/scene-predictions:v0")
    names = lambda: [c.name for c in panel.model.columns]  # noqa: E731
    # the first side's column, once the table shows both sides
    qtbot.waitUntil(lambda: "prediction" not in names(), timeout=15_000)
    name = next(n for n in names() if n.endswith("prediction"))
    click_cell(qtbot, panel, name)
    qtbot.waitUntil(
        lambda: charts.distribution is not None and len(charts.distribution.counts) == 2,
        timeout=15_000,
    )
    labels = dict(charts.plot.getAxis("bottom")._tickLevels[0])
    for bars in charts.bars:
        xs, width = bars.opts["x"], bars.opts["width"]
        for index, x in enumerate(xs):
            for at in (x - 0.45 * width, x, x + 0.45 * width):
                assert charts.bar_at(at) == index, (index, at)
    for index in labels:  # each label stands under the middle of its pair of bars
        pair = [bars.opts["x"][round(index)] for bars in charts.bars]
        assert min(pair) < index < max(pair)
