"""The table's tools as a user drives them, and the defects that came from the query state having
no owner: the Sort menu's columns, compare + group, a failed filter, filters from cells and
charts kept beside a Mongo filter, the Inspector following the table in front, the Export
button's arrow, and the tool bar's labels at narrow widths."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QMenu, QToolButton

from desktopviz.app.widgets.table_panel import TablePanel
from tests.app.test_filter_bar import shown_column, stored, type_filter, wait_applied
from tests.app.test_table_panel import (  # noqa: F401 - fixtures
    PREDICTIONS,
    make_panel,
)

TABLE = "predictions.table.json"
OLDER = "street-scenes/scene-predictions:v0"


@pytest.fixture
def panel(qtbot, app_state, make_panel):  # noqa: F811 - the imported fixture
    return make_panel(app_state, PREDICTIONS, TABLE)


def settled(panel: TablePanel) -> bool:
    result = panel.model.result
    return result is not None and result.spec == panel.spec and not panel.model.opening


def wait_settled(qtbot, panel: TablePanel) -> None:
    qtbot.waitUntil(lambda: settled(panel), timeout=15_000)
    qtbot.waitUntil(lambda: panel.model.total_rows == 0 or panel.model.is_loaded(0), timeout=10_000)


def menu_action(menu: QMenu, *path: str):  # noqa: ANN201 - a QAction
    """The action reached by ``path`` through ``menu``'s submenus (each filled as it opens)."""
    for i, text in enumerate(path):
        menu.aboutToShow.emit()
        found = [a for a in menu.actions() if a.text() == text]
        assert found, f"{text!r} not in {[a.text() for a in menu.actions()]}"
        if i == len(path) - 1:
            return found[0]
        menu = found[0].menu()
    raise AssertionError("empty path")


def compare_with_older(panel: TablePanel) -> None:
    """Compare menu > with v0 (the entry names its aliases too)."""
    panel.compare_tool.fill_menu()
    (action,) = [
        a for a in panel.compare_tool.compare_menu.actions() if a.text().startswith("with v0")
    ]
    action.trigger()


# -- Sort ------------------------------------------------------------------------------------------


def test_the_sort_menu_lists_the_columns_and_sorts_by_one(qtbot, panel, app_state):
    menu = panel.sort_tool.sort_menu
    menu.aboutToShow.emit()
    ascending = [a for a in menu.actions() if a.text() == "Sort ascending by"]
    assert ascending, [a.text() for a in menu.actions()]
    columns = [a.text() for a in ascending[0].menu().actions()]
    assert {"id", "label", "confidence", "mean_iou"} <= set(columns)
    assert "image" not in columns  # media cannot be sorted
    menu_action(menu, "Sort descending by", "confidence").trigger()
    wait_settled(qtbot, panel)
    want = sorted(stored(app_state)["confidence"].to_pylist(), reverse=True)
    assert shown_column(qtbot, panel, "confidence")[:20] == want[:20]
    assert panel.sort_tool.text() == "Sorted by confidence ▼"
    menu_action(panel.sort_tool.sort_menu, "Then by", "id").trigger()
    wait_settled(qtbot, panel)
    assert [k.column for k in panel.spec.sort] == ["confidence", "id"]


# -- compare + group -------------------------------------------------------------------------------


def test_compare_keeps_the_grouping_and_counts_the_rows_grouped(qtbot, panel, app_state):
    rows = stored(app_state).num_rows
    menu_action(panel.group_tool.group_menu, "label").trigger()
    wait_settled(qtbot, panel)
    groups = panel.model.total_rows
    compare_with_older(panel)
    wait_settled(qtbot, panel)
    assert panel.spec.group is not None and panel.spec.group.by == ("label",)
    assert panel.spec.compare is not None
    assert panel.group_tool.text() == "Grouped by label"
    assert panel.model.total_rows == groups
    assert panel.summary.text().startswith(f"{groups} groups of {rows} rows"), panel.summary.text()
    # and grouping while comparing works the other way round too
    menu_action(panel.group_tool.group_menu, "Show rows (no grouping)").trigger()
    wait_settled(qtbot, panel)
    assert panel.spec.group is None and panel.spec.compare is not None
    menu_action(panel.group_tool.group_menu, "label").trigger()
    wait_settled(qtbot, panel)
    assert panel.spec.compare is not None and panel.model.total_rows == groups


# -- a failed filter -------------------------------------------------------------------------------


def test_a_failed_filter_says_why_at_the_box_and_keeps_the_previous_rows(qtbot, panel, app_state):
    type_filter(qtbot, panel, 'row["label"] == "car"')
    qtbot.keyClick(panel.filter_bar.editor, Qt.Key.Key_Return)
    cars = pc.sum(pc.equal(stored(app_state)["label"], "car")).as_py()
    wait_applied(qtbot, panel, cars)
    bad = 'row["id"] + 1 > 2'  # valid to the parser, refused by DuckDB (text + number)
    type_filter(qtbot, panel, bad)
    qtbot.keyClick(panel.filter_bar.editor, Qt.Key.Key_Return)
    bar = panel.filter_bar
    qtbot.waitUntil(lambda: bar.failure is not None, timeout=10_000)
    qtbot.waitUntil(lambda: not panel.busy.isVisible(), timeout=5_000)
    qtbot.wait(600)  # the live count of the text typed runs too: it must not hide the error
    assert bar.error_label.isVisible()
    assert "failed" in bar.error_label.text() and "previous filter" in bar.error_label.text()
    assert bar.count_label.text() != "counting…"
    assert not bar.cancel_button.isVisible()
    assert bar.text() == bad  # the text stays for the user to fix
    assert bar.apply_button.isEnabled()
    # the previous filter's rows stay shown, and the panel says so without cutting words
    assert panel.model.total_rows == cars
    assert panel.spec.filters == ('row["label"] == "car"',)
    assert "previous query" in panel.summary.text()
    assert "fail" not in panel.summary.text()
    # fixing the text applies again
    type_filter(qtbot, panel, 'row["label"] == "bus"')
    qtbot.keyClick(panel.filter_bar.editor, Qt.Key.Key_Return)
    buses = pc.sum(pc.equal(stored(app_state)["label"], "bus")).as_py()
    wait_applied(qtbot, panel, buses)
    assert not bar.error_label.isVisible()


# -- filters added from cells and charts -----------------------------------------------------------


def test_filter_to_this_value_keeps_a_mongo_filter(qtbot, panel, app_state):
    type_filter(qtbot, panel, "{$gt: ['$0.confidence', 0.8]}")
    qtbot.keyClick(panel.filter_bar.editor, Qt.Key.Key_Return)
    table = stored(app_state)
    confident = table.filter(pc.greater(table["confidence"], 0.8))
    wait_applied(qtbot, panel, confident.num_rows)
    wait_settled(qtbot, panel)
    col = [c.name for c in panel.model.columns].index("label")
    index = panel.model.index(0, col)
    label = panel.model.value(index)
    menu_action(panel.cell_menu(index), "Filter to this value").trigger()
    both = confident.filter(pc.equal(confident["label"], label))
    wait_applied(qtbot, panel, both.num_rows)
    assert both.num_rows < confident.num_rows
    assert shown_column(qtbot, panel, "id") == both["id"].to_pylist()
    assert panel.filter_bar.text().startswith("{$and:")


def test_a_chart_bar_keeps_a_mongo_filter(qtbot, panel, app_state):
    from desktopviz.app.widgets.charts_panel import ChartsPanel

    app_state.focus_table(panel.table_state)
    charts = ChartsPanel(app_state)
    qtbot.addWidget(charts)
    type_filter(qtbot, panel, "{$gt: ['$0.confidence', 0.8]}")
    qtbot.keyClick(panel.filter_bar.editor, Qt.Key.Key_Return)
    table = stored(app_state)
    confident = table.filter(pc.greater(table["confidence"], 0.8))
    wait_applied(qtbot, panel, confident.num_rows)
    charts.show_column("label")
    qtbot.waitUntil(lambda: charts.distribution is not None, timeout=10_000)
    first = charts.distribution.values[0]
    charts.click_bar(0)
    both = confident.filter(pc.equal(confident["label"], first))
    wait_applied(qtbot, panel, both.num_rows)
    assert both.num_rows < confident.num_rows


# -- the Inspector follows the table in front ------------------------------------------------------


def test_the_inspector_follows_the_selected_cell_of_the_table_in_front(qtbot, app_state):
    from desktopviz.app.main_window import MainWindow

    window = MainWindow(app_state, remember=False)
    qtbot.addWidget(window)
    window.show()
    version = app_state.cache.resolve(PREDICTIONS)
    page = window.open_version(version, "table", TABLE)
    panel = page.show_table(TABLE)
    qtbot.waitUntil(lambda: settled(panel) and panel.model.is_loaded(0), timeout=15_000)
    label = [c.name for c in panel.model.columns].index("label")
    rect = panel.view.visualRect(panel.model.index(2, label))
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: app_state.cell is not None, timeout=5_000)
    assert app_state.cell.row == 2 and app_state.cell.column == "label"
    # sorting puts another row there: the Inspector must not show the old cell
    panel.sort_by_column(label)
    wait_settled(qtbot, panel)
    assert app_state.cell is None or app_state.cell.value == panel.model.value(
        panel.model.index(app_state.cell.row, label)
    )
    # switching to the Overview tab: no table is in front
    rect = panel.view.visualRect(panel.model.index(1, label))
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: app_state.cell is not None, timeout=5_000)
    page.tabs.setCurrentIndex(0)
    assert app_state.cell is None and app_state.table is None
    # and back: the table's own selected cell again
    page.show_tab("table")
    assert app_state.table is panel.table_state
    assert app_state.cell is not None and app_state.cell.row == 1
    window.close()


def popup_from_click(qtbot, button: QToolButton, pos: QPoint | None = None) -> QMenu:
    """The menu a click on ``button`` pops up (closed again once seen)."""
    from PySide6.QtCore import QTimer

    shown: list[QMenu] = []

    def grab_menu() -> None:
        menu = QApplication.activePopupWidget()
        if isinstance(menu, QMenu):
            shown.append(menu)
            menu.close()

    QTimer.singleShot(300, grab_menu)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=pos or button.rect().center())
    qtbot.waitUntil(lambda: bool(shown), timeout=5_000)
    return shown[0]


# -- the Export button and the tool bar ------------------------------------------------------------


def test_the_export_arrow_opens_its_menu(qtbot, panel):
    button = panel.export_tool
    assert button.popupMode() == QToolButton.ToolButtonPopupMode.MenuButtonPopup
    right = QPoint(button.width() - 4, button.height() // 2)  # the arrow part
    menu = popup_from_click(qtbot, button, right)
    texts = [a.text() for a in menu.actions()]
    assert "Export rows with media files…" in texts and "Save as new version…" in texts


def test_the_row_count_is_never_cut_and_the_overflow_chevron_shows_the_rest(qtbot, panel):
    panel.resize(420, 500)
    qtbot.waitUntil(lambda: not panel.export_tool.isVisible(), timeout=5_000)  # it does not fit
    label = panel.summary
    assert label.width() >= label.sizeHint().width(), (label.text(), label.width())
    chevron = panel.tools.chevron
    assert chevron is not None and chevron.isVisible()
    menu = popup_from_click(qtbot, chevron)
    export = [a for a in menu.actions() if a.text() == "Export"]
    assert export, [a.text() for a in menu.actions()]
    texts = [a.text() for a in export[0].menu().actions()]
    assert "Save as new version…" in texts


# -- column widths ---------------------------------------------------------------------------------


@pytest.fixture
def names_state(qtbot, tmp_path):
    """``names/rows:v0``: short names on the first page, long ones at the end."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from desktopviz.app.state import AppState
    from desktopviz.importing import import_paths
    from desktopviz.store.cache import Cache

    names = ["ab"] * 300 + [f"a rather long name that needs room {i}" for i in range(20)]
    src = tmp_path / "rows.parquet"
    pq.write_table(pa.table({"n": list(range(len(names))), "name": names}), src)
    cache = Cache(tmp_path / "cache")
    import_paths(cache, [src], project="names")
    state = AppState(cache)
    yield state
    state.engine.close()
    cache.close()


def test_a_sort_that_brings_longer_texts_up_widens_their_column(qtbot, names_state, make_panel):  # noqa: F811
    panel = make_panel(names_state, "names/rows:v0")
    col = [c.name for c in panel.model.columns].index("name")
    narrow = panel.view.columnWidth(col)
    panel.sort_by_column(col)  # ascending: "a rather…" before "ab"
    wait_settled(qtbot, panel)
    qtbot.waitUntil(lambda: panel.view.columnWidth(col) > narrow, timeout=5_000)
    text = panel.model.data(panel.model.index(0, col))
    assert panel.view.columnWidth(col) >= panel.view.fontMetrics().horizontalAdvance(text)
    # a width the user chose stays
    panel.view.horizontalHeader().resizeSection(col, 60)
    panel.sort_by_column(col)  # descending: short ones first
    wait_settled(qtbot, panel)
    panel.sort_by_column(col)  # none
    wait_settled(qtbot, panel)
    assert panel.view.columnWidth(col) == 60
