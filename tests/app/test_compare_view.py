"""Comparing two versions in the window, as a user does it: the sidebar's "Compare with" or the
table's Compare button, the diff summary, the quick filters, the key chooser, changed cells
tinted, per-side headers, stop comparing. The expected differences come from joining the two
stored Parquet files with pyarrow."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

from desktopviz.app.models.table_model import CHANGED_ROLE, RENDER_ROLE, SIDE_ROLE, TYPE_ROLE
from desktopviz.app.palette import SIDE_COLOURS
from desktopviz.app.widgets.cell_delegates import CHANGED_TINT
from desktopviz.query.spec import GroupSpec
from tests.app.test_filter_bar import shown_column, wait_applied
from tests.app.test_main_window import make_window
from tests.app.test_sidebar import menu_action
from tests.app.test_table_panel import make_panel  # noqa: F401 - fixture

NEW, OLD = "street-scenes/scene-predictions:v1", "street-scenes/scene-predictions:v0"
TABLE = "predictions.table.json"
H = Qt.Orientation.Horizontal


def stored(app_state, ref: str) -> list[dict]:
    version = app_state.cache.resolve(ref)
    path = app_state.cache.parquet_path(app_state.cache.table_info(version, TABLE))
    return pq.read_table(path, columns=["id", "prediction", "confidence"]).to_pylist()


@pytest.fixture
def expected(app_state):
    """Rows of v1 and v0 by id, and the ids whose prediction changed."""
    new = {r["id"]: r for r in stored(app_state, NEW)}
    old = {r["id"]: r for r in stored(app_state, OLD)}
    assert new.keys() == old.keys()
    changed_prediction = sorted(i for i in new if new[i]["prediction"] != old[i]["prediction"])
    assert 0 < len(changed_prediction) < len(new)
    return new, old, changed_prediction


@pytest.fixture
def compared(qtbot, app_state, make_panel):  # noqa: F811 - the imported fixture
    panel = make_panel(app_state, NEW, TABLE)
    panel.compare_with(OLD)
    qtbot.waitUntil(
        lambda: panel.model.result is not None and panel.model.result.spec == panel.spec,
        timeout=15_000,
    )
    qtbot.waitUntil(lambda: panel.model.is_loaded(0), timeout=10_000)
    return panel


def col(panel, name: str) -> int:
    return [c.name for c in panel.model.columns].index(name)


def test_the_comparison_shows_both_sides_and_the_diff_summary(qtbot, compared, expected):
    panel = compared
    new, old, changed_prediction = expected
    bar = panel.compare_bar
    assert bar.isVisible() and "v1" in bar.sides.text() and "v0" in bar.sides.text()
    qtbot.waitUntil(lambda: "changed" in bar.summary.text(), timeout=15_000)
    assert f"prediction: {len(changed_prediction)} changed" in bar.summary.toolTip()
    assert "+0 only in v0" in bar.summary.text()
    model = panel.model
    assert model.headerData(col(panel, "0.prediction"), H, SIDE_ROLE) == 0
    assert model.headerData(col(panel, "1.prediction"), H, SIDE_ROLE) == 1
    assert model.headerData(col(panel, "1.prediction"), H, TYPE_ROLE) == "v0 · str"
    assert model.headerData(col(panel, "1.prediction"), H) == "prediction"
    for name in ("changed.prediction", "__changed"):  # helpers colour cells, they are not shown
        assert panel.view.isColumnHidden(col(panel, name))
    assert not panel.view.isColumnHidden(col(panel, "delta.confidence"))
    # row 0 of the comparison is v1's first row; its cells say whether they changed
    first = model.value(model.index(0, col(panel, "id")))
    for side in ("0", "1"):
        index = model.index(0, col(panel, f"{side}.prediction"))
        assert index.data(CHANGED_ROLE) == (first in changed_prediction)
    delta = model.value(model.index(0, col(panel, "delta.confidence")))
    assert delta == pytest.approx(old[first]["confidence"] - new[first]["confidence"])


def test_quick_filters_show_only_changed_rows(qtbot, compared, expected):
    panel = compared
    new, _, changed_prediction = expected
    bar = panel.compare_bar
    qtbot.mouseClick(bar.filter_buttons["changed"], Qt.MouseButton.LeftButton)
    assert panel.spec.compare.only == "changed"
    qtbot.waitUntil(lambda: panel.model.result.spec == panel.spec, timeout=15_000)
    assert panel.model.total_rows <= len(new)
    panel.filter_bar.set_text('row0["prediction"] != row1["prediction"]', apply=True)
    wait_applied(qtbot, panel, len(changed_prediction))
    assert sorted(shown_column(qtbot, panel, "id")) == changed_prediction
    qtbot.mouseClick(bar.filter_buttons["only_1"], Qt.MouseButton.LeftButton)
    wait_applied(qtbot, panel, 0)
    qtbot.mouseClick(bar.filter_buttons[None], Qt.MouseButton.LeftButton)
    wait_applied(qtbot, panel, len(changed_prediction))


def test_changed_cells_are_tinted(qtbot, compared, expected):
    panel = compared
    _, _, changed_prediction = expected
    panel.filter_bar.set_text(f'row0["id"] == {changed_prediction[0]!r}', apply=True)
    wait_applied(qtbot, panel, 1)
    qtbot.waitUntil(lambda: panel.model.is_loaded(0), timeout=10_000)
    view = panel.view
    rect = view.visualRect(panel.model.index(0, col(panel, "1.prediction")))
    view.scrollTo(panel.model.index(0, col(panel, "1.prediction")))
    rect = view.visualRect(panel.model.index(0, col(panel, "1.prediction")))
    image = view.viewport().grab().toImage()
    pixel = image.pixelColor(rect.left() + 3, rect.top() + 3)
    base = view.palette().color(view.viewport().backgroundRole())
    tint = QColor(CHANGED_TINT)
    expected_colour = QColor(
        *(
            round(b * (1 - tint.alphaF()) + t * tint.alphaF())
            for b, t in zip(
                (base.red(), base.green(), base.blue()),
                (tint.red(), tint.green(), tint.blue()),
                strict=True,
            )
        )
    )
    assert abs(pixel.red() - expected_colour.red()) < 12
    assert abs(pixel.blue() - expected_colour.blue()) < 12
    assert pixel.blue() < pixel.red()  # amber, not the plain base colour


def test_the_header_bar_has_the_side_colour(qtbot, compared):
    panel = compared
    header = panel.view.horizontalHeader()
    section = col(panel, "1.prediction")
    panel.view.scrollTo(panel.model.index(0, section))
    x = header.sectionViewportPosition(section) + header.sectionSize(section) // 2
    pixel = header.viewport().grab().toImage().pixelColor(x, 1)
    assert pixel.name() == QColor(SIDE_COLOURS[1]).name()


def test_key_chooser_and_stop_comparing(qtbot, compared):
    panel = compared
    bar = panel.compare_bar
    index = bar.key_box.findText("row position")
    bar.key_box.setCurrentIndex(index)
    bar.key_box.activated.emit(index)
    assert panel.spec.compare.key == ("#", "#")
    qtbot.waitUntil(lambda: panel.model.result.spec == panel.spec, timeout=15_000)
    assert bar.key_box.currentText() == "row position"
    qtbot.mouseClick(bar.close_button, Qt.MouseButton.LeftButton)
    assert panel.spec.compare is None
    qtbot.waitUntil(lambda: panel.model.result.spec == panel.spec, timeout=15_000)
    assert not bar.isVisible()
    assert "0.prediction" not in [c.name for c in panel.model.columns]


def test_the_compare_button_lists_the_other_versions(qtbot, app_state, make_panel):  # noqa: F811
    panel = make_panel(app_state, NEW, TABLE)
    panel.compare_tool.fill_menu()
    entries = [a.text() for a in panel.compare_tool.compare_menu.actions()]
    assert entries == ["with v0  (production)"]
    panel.compare_tool.compare_menu.actions()[0].trigger()
    assert panel.spec.compare.ref == app_state.cache.resolve(OLD).ref


def test_sidebar_compare_with_opens_the_comparison(qtbot, app_state, tmp_path):
    window = make_window(qtbot, app_state, tmp_path)
    new = app_state.cache.resolve(NEW)
    menu = window.sidebar.menu_for(new)
    compare = menu_action(menu, "Compare with")
    assert compare.isEnabled()
    (with_old,) = compare.menu().actions()
    assert with_old.text() == "v0  (production)"
    with_old.trigger()
    page = window.current_page()
    assert page is not None and page.version.id == new.id and page.current_tab() == "table"
    panel = page.show_table()
    assert panel.spec.compare is not None and panel.spec.compare.ref.endswith(":v0")
    qtbot.waitUntil(lambda: panel.compare_bar.isVisible(), timeout=15_000)
    qtbot.waitUntil(lambda: "changed" in panel.compare_bar.summary.text(), timeout=15_000)


def test_a_changed_string_shows_its_text_diff_in_the_cell_and_the_inspector(
    qtbot, compared, expected, app_state
):
    from desktopviz.app.widgets.cell_inspector import CellInspector

    panel = compared
    new, old, changed_prediction = expected
    ident = changed_prediction[0]
    panel.filter_bar.set_text(f'row0["id"] == {ident!r}', apply=True)
    wait_applied(qtbot, panel, 1)
    qtbot.waitUntil(lambda: panel.model.is_loaded(0), timeout=10_000)
    index = panel.model.index(0, col(panel, "1.prediction"))
    panel.view.scrollTo(index)
    rect = panel.view.visualRect(index)
    image = panel.view.viewport().grab().toImage()
    side = QColor(SIDE_COLOURS[1])
    marked = [
        (x, y)
        for x in range(rect.left(), rect.right())
        for y in range(rect.top(), rect.bottom())
        if (c := image.pixelColor(x, y)).red() > 200 and 150 < c.green() < 215 and c.blue() < 120
    ]
    assert marked, f"no {side.name()} marks in the changed cell"
    inspector = CellInspector(app_state)
    qtbot.addWidget(inspector)
    cell = panel.model.cell_ref(index)
    assert cell.value == old[ident]["prediction"] and cell.other == new[ident]["prediction"]
    inspector.show_cell(cell)
    html = inspector.text.toHtml()
    assert "side 0" in html and "side 1" in html and "background-color:rgba" in html


def test_side_by_side_shows_each_side_in_its_table_scrolled_together(qtbot, compared, expected):
    panel = compared
    new, old, changed_prediction = expected
    qtbot.mouseClick(panel.compare_bar.side_by_side, Qt.MouseButton.LeftButton)
    left, right = panel.view, panel.side_view
    assert right is not None and right.isVisible()

    def shown(view):
        return {
            panel.model.columns[c].name
            for c in range(len(panel.model.columns))
            if not view.isColumnHidden(c)
        }

    assert {"0.prediction", "id"} <= shown(left) and not any(
        n.startswith("1.") for n in shown(left)
    )
    assert {"1.prediction", "id"} <= shown(right) and not any(
        n.startswith("0.") for n in shown(right)
    )
    # the same rows: side 0's (the open version, v1) values on the left, side 1's (v0) right
    model = panel.model
    for row in range(5):
        rid = model.value(model.index(row, col(panel, "id")))
        assert model.value(model.index(row, col(panel, "0.prediction"))) == new[rid]["prediction"]
        assert model.value(model.index(row, col(panel, "1.prediction"))) == old[rid]["prediction"]
    # scrolling one table scrolls the other
    right.verticalScrollBar().setValue(20)
    assert (
        left.verticalScrollBar().value() == 20 and left.top_result_row() == right.top_result_row()
    )
    # a filter and a sort apply to both tables: they show the same rows in the same order
    panel.filter_bar.set_text('row0["prediction"] != row1["prediction"]', apply=True)
    wait_applied(qtbot, panel, len(changed_prediction))
    qtbot.mouseClick(
        right.horizontalHeader().viewport(),
        Qt.MouseButton.LeftButton,
        pos=_section_centre(right, col(panel, "1.confidence")),
    )
    qtbot.waitUntil(
        lambda: panel.spec.sort and panel.model.result.spec == panel.spec, timeout=15_000
    )
    assert panel.spec.sort[0].column == "1.confidence"
    ids = shown_column(qtbot, panel, "id")
    assert sorted(ids) == changed_prediction
    confidences = [old[i]["confidence"] for i in ids]
    assert confidences == sorted(confidences)
    # merged again: one table with both sides
    qtbot.mouseClick(panel.compare_bar.side_by_side, Qt.MouseButton.LeftButton)
    assert not right.isVisible() and "1.prediction" in shown(left)


def _section_centre(view, column: int) -> QPoint:
    header = view.horizontalHeader()
    return QPoint(
        header.sectionViewportPosition(column) + header.sectionSize(column) // 2,
        header.height() // 2,
    )


def test_filter_to_a_side_1_value_from_its_cell_menu(qtbot, compared, expected):
    """Right-click a cell of v0's side in the comparison, "Filter to this value": the rows shown
    are those whose v0 prediction is that value (before, the filter named a column "1")."""
    panel = compared
    new, old, _ = expected
    model = panel.model
    index = model.index(0, col(panel, "1.prediction"))
    value = model.value(index)
    actions = {a.text(): a for a in panel.cell_menu(index).actions()}
    assert actions["Filter to this value"].isEnabled()
    actions["Filter to this value"].trigger()
    want = sorted(i for i, r in old.items() if r["prediction"] == value)
    wait_applied(qtbot, panel, len(want))
    assert sorted(shown_column(qtbot, panel, "id")) == want
    assert panel.filter_bar.current == f'row1["prediction"] == {value!r}'
    delta = model.index(0, col(panel, "delta.confidence"))
    assert not {a.text(): a for a in panel.cell_menu(delta).actions()}[
        "Filter to this value"
    ].isEnabled()


def _colour_pixels(image, rect, colour: QColor, tolerance: int = 40) -> int:
    """How many pixels of ``rect`` in ``image`` are near ``colour``."""
    return sum(
        1
        for x in range(rect.left(), rect.right())
        for y in range(rect.top(), rect.bottom())
        if all(
            abs(a - b) < tolerance
            for a, b in zip(image.pixelColor(x, y).getRgb()[:3], colour.getRgb()[:3], strict=True)
        )
    )


def test_a_numeric_pair_is_one_cell_with_a_bar_per_side(qtbot, compared, expected):
    """W&B's compared tables draw "one bar per table being compared": the side-0 cell of a
    numeric pair shows both versions' numbers, each with a bar in its side's colour scaled to
    the column's range over both tables (before: two wide number columns)."""
    panel = compared
    new, old, _ = expected
    model, view = panel.model, panel.view
    pair, twin = col(panel, "0.confidence"), col(panel, "1.confidence")
    index = model.index(0, pair)
    assert index.data(RENDER_ROLE) == "pair"
    assert model.hidden_in_view(twin) and not model.hidden_in_view(pair)
    assert model.headerData(pair, H, TYPE_ROLE).startswith("v1 · v0 · ")
    assert model.headerData(col(panel, "__status"), H) == "status"
    assert model.headerData(col(panel, "delta.confidence"), H) == "Δ confidence"
    rid = model.value(model.index(0, col(panel, "id")))
    cell = model.pair_cell(0, pair)
    assert cell.values == (new[rid]["confidence"], old[rid]["confidence"])
    every = [r["confidence"] for r in [*new.values(), *old.values()]]
    assert cell.span == pytest.approx((min(every), max(every)))
    view.setColumnWidth(pair, 220)
    view.scrollTo(index)
    rect = view.visualRect(index)
    image = view.viewport().grab().toImage()
    blue = _colour_pixels(image, rect, QColor(SIDE_COLOURS[0]))
    orange = _colour_pixels(image, rect, QColor(SIDE_COLOURS[1]))
    assert blue > 20 and orange > 20, (blue, orange)
    # the bar of the larger value is the longer one
    lanes = [
        rect.adjusted(0, 0, 0, -rect.height() // 2),
        rect.adjusted(0, rect.height() // 2, 0, 0),
    ]
    lengths = [
        _colour_pixels(image, lane, QColor(c)) for lane, c in zip(lanes, SIDE_COLOURS, strict=True)
    ]
    assert (lengths[0] > lengths[1]) == (cell.values[0] > cell.values[1])
    view.grab().save("/work/notes/shots/h5-pair-test.png")


def test_side_by_side_shows_each_sides_own_number_column(qtbot, compared):
    panel = compared
    model = panel.model
    pair, twin = col(panel, "0.confidence"), col(panel, "1.confidence")
    qtbot.mouseClick(panel.compare_bar.side_by_side, Qt.MouseButton.LeftButton)
    assert model.side_by_side
    assert model.index(0, pair).data(RENDER_ROLE) == "number"
    assert not panel.view.isColumnHidden(pair) and not panel.side_view.isColumnHidden(twin)
    qtbot.mouseClick(panel.compare_bar.side_by_side, Qt.MouseButton.LeftButton)
    assert model.index(0, pair).data(RENDER_ROLE) == "pair"
    assert panel.view.isColumnHidden(twin)


def test_compare_and_group_overlays_both_sides_on_shared_bins(qtbot, compared, expected):
    """Grouped, a comparison's numeric column is ONE histogram with both versions overlaid in
    their colours on the same bins (the seed's multi-histogram), not one column per side."""
    panel = compared
    new, old, _ = expected
    spec = panel.spec.with_(group=GroupSpec(("0.prediction",), bins=10))
    panel.model.set_spec(spec)
    qtbot.waitUntil(lambda: panel.model.result.spec == spec, timeout=15_000)
    qtbot.waitUntil(lambda: panel.model.is_loaded(0), timeout=10_000)
    model, view = panel.model, panel.view
    pair, twin = col(panel, "0.confidence"), col(panel, "1.confidence")
    index = model.index(0, pair)
    assert index.data(RENDER_ROLE) == "histograms"
    assert model.hidden_in_view(twin)
    result = model.result
    assert result.bins["0.confidence"] == result.bins["1.confidence"]  # shared bins
    cell = model.pair_cell(0, pair)
    first = model.value(model.index(0, col(panel, "0.prediction")))
    counted = [sum(v["histogram"]) for v in cell.values]
    assert counted[0] == sum(1 for r in new.values() if r["prediction"] == first)
    for c in range(len(model.columns)):
        view.setColumnHidden(c, model.hidden_in_view(c))
    view.setColumnWidth(pair, 240)
    view.setRowHeight(0, 90)
    view.scrollTo(index)
    rect = view.visualRect(index)
    image = view.viewport().grab().toImage()
    # translucent bars over the cell's background: blue-ish and orange-ish pixels
    colours = [
        image.pixelColor(x, y)
        for x in range(rect.left(), rect.right())
        for y in range(rect.top(), rect.bottom())
    ]
    blue = sum(1 for c in colours if c.blue() > c.red() + 40)
    orange = sum(1 for c in colours if c.red() > c.blue() + 60 and c.green() > c.blue())
    view.grab().save("/work/notes/shots/h5-group-test.png")
    assert blue > 50 and orange > 50, (blue, orange)
