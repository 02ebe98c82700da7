"""The table panel as a user drives it: keyboard scrolling, clicks, Ctrl+C, the thumbnail slider,
the status it reports, and windowed scrolling of results longer than Qt's row limit."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication

from desktopviz.app.state import AppState, TableStatus
from desktopviz.app.widgets.cell_delegates import PAD
from desktopviz.app.widgets.table_panel import TablePanel
from tests.app import test_table_model as big

BIG_ROWS, big_table = big.BIG_ROWS, big.big_table
big_cache_dir, big_state = big.big_cache_dir, big.big_state  # the 200k-row table's fixtures

PREDICTIONS = "street-scenes/scene-predictions:v1"


@pytest.fixture
def make_panel(qtbot):
    """Open a TablePanel on a table, shown and ready; panels close before their engine does."""
    panels: list[TablePanel] = []

    def make(state: AppState, ref: str, table: str | None = None, **kw) -> TablePanel:
        version = state.cache.resolve(ref)
        panel = TablePanel(state, version, table or state.cache.tables(version)[0].path, **kw)
        qtbot.addWidget(panel)
        panels.append(panel)
        panel.resize(1000, 640)
        panel.show()
        qtbot.waitExposed(panel)
        qtbot.waitUntil(lambda: panel.model.is_loaded(panel.view.top_result_row()), timeout=10_000)
        return panel

    yield make
    for panel in panels:
        panel.close()


def shown_text(qtbot, panel: TablePanel, result_row: int, column: int) -> str:
    """The text the view shows for a result row (waiting for its page)."""
    model = panel.model
    qtbot.waitUntil(lambda: model.is_loaded(result_row), timeout=10_000)
    model_row = model.model_row(result_row)
    assert model_row is not None, f"row {result_row} is not in the window"
    return model.data(model.index(model_row, column))


def click_cell(
    qtbot,
    panel: TablePanel,
    model_row: int,
    column: int,
    modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    view = panel.view
    rect = view.visualRect(panel.model.index(model_row, column))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def current_result_row(panel: TablePanel) -> int:
    return panel.model.result_row(panel.view.currentIndex().row())


def test_arrow_keys_and_page_down_move_through_rows(qtbot, big_state, make_panel):
    panel = make_panel(big_state, "big/rows:v0")
    view = panel.view
    click_cell(qtbot, panel, 0, 0)
    for _ in range(5):
        qtbot.keyClick(view, Qt.Key.Key_Down)
    assert current_result_row(panel) == 5
    assert big_state.cell is not None and big_state.cell.row == 5 and big_state.cell.value == 5

    qtbot.keyClick(view, Qt.Key.Key_PageDown)
    row = current_result_row(panel)
    assert row >= 5 + view.visible_rows() - 2
    top = view.top_result_row()
    assert top > 0
    assert shown_text(qtbot, panel, top, 0) == str(top)
    assert shown_text(qtbot, panel, row, 0) == str(row)
    qtbot.keyClick(view, Qt.Key.Key_Up)
    assert current_result_row(panel) == row - 1


def test_clicking_a_cell_makes_it_the_state_cell(qtbot, big_state, make_panel):
    panel = make_panel(big_state, "big/rows:v0")
    expected = big_table(BIG_ROWS).slice(3, 1).to_pylist()[0]
    click_cell(qtbot, panel, 3, 1)
    cell = big_state.cell
    assert (cell.row, cell.column, cell.value) == (3, "word", expected["word"])
    assert cell.kind == "plain" and cell.arrow_type == "string"


def test_ctrl_c_copies_the_selection_as_tsv(qtbot, big_state, make_panel):
    panel = make_panel(big_state, "big/rows:v0")
    QGuiApplication.clipboard().setText("")
    click_cell(qtbot, panel, 1, 0)
    click_cell(qtbot, panel, 3, 2, Qt.KeyboardModifier.ShiftModifier)
    notes: list[str] = []
    big_state.status_message.connect(notes.append)
    qtbot.keyClick(panel.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    rows = big_table(BIG_ROWS).slice(1, 3).to_pylist()
    expected = "\n".join(f"{r['id']}\t{r['word']}\t{r['score']!r}" for r in rows)
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() == expected, timeout=10_000)
    assert notes == ["Copied 3 rows × 3 columns"]


def test_status_reports_rows_and_selected_cells(qtbot, big_state, make_panel):
    statuses: list[TableStatus] = []
    big_state.table_status_changed.connect(statuses.append)
    panel = make_panel(big_state, "big/rows:v0")
    assert statuses and statuses[-1] == TableStatus(BIG_ROWS, BIG_ROWS, 0)
    assert panel.summary.text() == "200,000 rows · 6 columns"
    click_cell(qtbot, panel, 0, 0)
    click_cell(qtbot, panel, 2, 1, Qt.KeyboardModifier.ShiftModifier)
    assert statuses[-1] == TableStatus(BIG_ROWS, BIG_ROWS, 6)


def test_select_row_scrolls_there_and_selects_it(qtbot, big_state, make_panel):
    panel = make_panel(big_state, "big/rows:v0")
    panel.select_row(123_456)
    assert current_result_row(panel) == 123_456
    qtbot.waitUntil(lambda: big_state.cell is not None and big_state.cell.row == 123_456)
    assert big_state.cell.value == 123_456
    assert shown_text(qtbot, panel, 123_456, 0) == "123456"


def test_windowed_table_reaches_the_last_row(qtbot, big_state, make_panel):
    panel = make_panel(big_state, "big/rows:v0", row_limit=1000)
    view, model = panel.view, panel.model
    assert model.windowed and model.rowCount() == 1000
    assert view.window_bar.isVisible() and view.window_bar.maximum() > 1000
    click_cell(qtbot, panel, 0, 0)

    qtbot.keyClick(view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert current_result_row(panel) == BIG_ROWS - 1
    assert shown_text(qtbot, panel, BIG_ROWS - 1, 0) == str(BIG_ROWS - 1)
    current = view.currentIndex()
    assert model.headerData(current.row(), Qt.Orientation.Vertical) == str(BIG_ROWS - 1)
    assert view.window_bar.value() == view.window_bar.maximum()
    qtbot.waitUntil(lambda: big_state.cell is not None and big_state.cell.row == BIG_ROWS - 1)

    qtbot.keyClick(view, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    assert current_result_row(panel) == 0
    assert view.window_bar.value() == 0
    assert shown_text(qtbot, panel, 0, 0) == "0"


def test_windowed_table_pages_down_across_the_window_edge(qtbot, big_state, make_panel):
    panel = make_panel(big_state, "big/rows:v0", row_limit=300)
    view = panel.view
    click_cell(qtbot, panel, 0, 0)
    presses = 1 + 900 // view.visible_rows()
    for _ in range(presses):
        qtbot.keyClick(view, Qt.Key.Key_PageDown)
    row = current_result_row(panel)
    assert row > 900  # three windows down
    assert panel.model.window_start > 0
    assert shown_text(qtbot, panel, row, 0) == str(row)
    assert view.window_bar.value() == view.top_result_row()


def test_dragging_the_window_scroll_bar_shows_those_rows(qtbot, big_state, make_panel):
    panel = make_panel(big_state, "big/rows:v0", row_limit=1000)
    bar = panel.view.window_bar
    bar.setValue(100_000)  # what a drag of the handle does
    assert panel.view.top_result_row() == 100_000
    assert shown_text(qtbot, panel, 100_000, 0) == "100000"
    bar.setValue(100_010)  # a small move stays within the window
    assert panel.view.top_result_row() == 100_010


def test_thumbnail_slider_sets_row_height(qtbot, app_state, make_panel):
    panel = make_panel(app_state, PREDICTIONS, "predictions.table.json")
    assert panel.thumb_slider.isVisible()
    before = panel.view.rowHeight(0)
    assert before == panel.thumb_slider.value() + 2 * PAD
    panel.thumb_slider.setFocus()
    qtbot.keyClick(panel.thumb_slider, Qt.Key.Key_PageUp)
    assert panel.thumb_slider.value() == 128
    assert panel.view.rowHeight(0) == 128 + 2 * PAD
    image_column = [c.name for c in panel.model.columns].index("image")
    assert panel.view.columnWidth(image_column) >= 128


def test_text_tables_hide_the_thumbnail_controls(qtbot, big_state, make_panel):
    panel = make_panel(big_state, "big/rows:v0")
    assert not panel.thumb_slider.isVisible()
    assert not panel.legend.isVisible()
    assert panel.view.rowHeight(0) < 40


def test_wheel_scrolls_the_view(qtbot, big_state, make_panel):
    panel = make_panel(big_state, "big/rows:v0", row_limit=400)
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    viewport = panel.view.viewport()
    for _ in range(200):  # 3 rows a notch: 600 rows, past the 400-row window
        event = QWheelEvent(
            QPointF(50, 50),
            QPointF(viewport.mapToGlobal(QPoint(50, 50))),
            QPoint(0, 0),
            QPoint(0, -120),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(viewport, event)
    top = panel.view.top_result_row()
    assert top > 400  # past the first window
    assert shown_text(qtbot, panel, top, 0) == str(top)
