"""The filter bar and sorting as a user drives them: type a filter and see the live count, press
Enter and see only matching rows, paste a Mongo expression, see an error at its position,
complete column names, walk the history, right-click a cell to filter to its value, click and
Shift+click headers to sort. Expected rows come from the stored Parquet file read with pyarrow."""

from __future__ import annotations

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QApplication, QMenu

from desktopviz.app.widgets.filter_bar import filter_suggestions
from desktopviz.query.spec import SortKey
from desktopviz.query.spec_rules import value_filter
from tests.app.test_table_panel import (  # noqa: F401 - fixtures
    PREDICTIONS,
    big_cache_dir,
    big_state,
    make_panel,
)

TABLE = "predictions.table.json"


@pytest.fixture
def panel(qtbot, app_state, make_panel, tmp_path):  # noqa: F811 - the imported fixture
    p = make_panel(app_state, PREDICTIONS, TABLE)
    p.filter_bar.settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    p.filter_bar.editor.history = []
    return p


def stored(app_state):
    """The predictions table as stored (what the answers are computed from)."""
    version = app_state.cache.resolve(PREDICTIONS)
    return pq.read_table(app_state.cache.parquet_path(app_state.cache.table_info(version, TABLE)))


def shown_column(qtbot, panel, name: str) -> list:
    """Every value of a column the panel shows now (all rows, paged in as needed)."""
    model = panel.model
    col = [c.name for c in model.columns].index(name)
    values = []
    for row in range(model.total_rows):
        panel.view.scroll_to_result_row(row, select=False)
        qtbot.waitUntil(lambda r=row: model.is_loaded(r), timeout=10_000)
        values.append(model.value(model.index(model.model_row(row), col)))
    return values


def type_filter(qtbot, panel, text: str) -> None:
    editor = panel.filter_bar.editor
    editor.setFocus()
    editor.clear()
    editor.insertPlainText(text)


def wait_applied(qtbot, panel, rows: int) -> None:
    qtbot.waitUntil(
        lambda: (
            panel.model.result is not None
            and panel.model.result.spec == panel.spec
            and panel.model.total_rows == rows
        ),
        timeout=10_000,
    )


class EventLoopTicks:
    """Ticks of a 10 ms timer on the UI thread while the ``with`` block runs (and the event loop
    turns in it): the longest gap between them is how long the UI stalled."""

    def __enter__(self) -> EventLoopTicks:
        import time

        from PySide6.QtCore import QTimer

        self.times = [time.perf_counter()]
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(lambda: self.times.append(time.perf_counter()))
        self.timer.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.timer.stop()

    @property
    def count(self) -> int:
        return len(self.times) - 1

    @property
    def longest_gap(self) -> float:
        return max(b - a for a, b in zip(self.times, self.times[1:], strict=False))


def test_typing_shows_the_count_and_enter_shows_the_matching_rows(qtbot, panel, app_state):
    table = stored(app_state)
    want = table.filter(
        pc.and_(pc.greater(table["confidence"], 0.9), pc.equal(table["label"], "car"))
    )
    type_filter(qtbot, panel, 'row["confidence"] > 0.9 and row["label"] == "car"')
    bar = panel.filter_bar
    qtbot.waitUntil(lambda: bar.count is not None, timeout=10_000)
    assert bar.count == want.num_rows > 0
    assert bar.count_label.text() == f"{want.num_rows:,} of {table.num_rows:,} rows"
    assert panel.model.total_rows == table.num_rows  # counted, not yet applied

    qtbot.keyClick(bar.editor, Qt.Key.Key_Return)
    wait_applied(qtbot, panel, want.num_rows)
    assert shown_column(qtbot, panel, "id") == want["id"].to_pylist()
    assert f"{want.num_rows:,} of {table.num_rows:,} rows" in panel.summary.text()


def test_the_count_follows_the_applied_filter_through_sort_and_compare(qtbot, panel, app_state):
    """After Enter, the count beside the filter is the table's own (no second count), and it
    stays right when the rest of the query changes: a sort, then a comparison's quick filter."""
    table = stored(app_state)
    want = table.filter(pc.equal(table["label"], "car"))
    type_filter(qtbot, panel, 'row["label"] == "car"')
    qtbot.keyClick(panel.filter_bar.editor, Qt.Key.Key_Return)
    wait_applied(qtbot, panel, want.num_rows)
    bar = panel.filter_bar
    expected = f"{want.num_rows:,} of {table.num_rows:,} rows"
    qtbot.waitUntil(lambda: bar.count_label.text() == expected, timeout=10_000)
    panel.set_sort((SortKey("confidence", True),))
    wait_applied(qtbot, panel, want.num_rows)
    qtbot.waitUntil(lambda: bar.count_label.text() == expected, timeout=10_000)
    panel.compare_with("street-scenes/scene-predictions:v0")
    qtbot.waitUntil(lambda: panel.model.result.spec == panel.spec, timeout=15_000)
    qtbot.mouseClick(panel.compare_bar.filter_buttons["changed"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.model.result.spec == panel.spec, timeout=15_000)
    both = app_state.engine.result(panel.version, TABLE, panel.spec.with_(filters=()))
    expected = f"{panel.model.total_rows:,} of {both.num_rows:,} rows"
    qtbot.waitUntil(lambda: bar.count_label.text() == expected, timeout=10_000)


def test_a_mongo_expression_from_the_wandb_docs_works_pasted(qtbot, panel, app_state):
    table = stored(app_state)
    want = table.filter(pc.greater(table["mean_iou"], 0.8))
    type_filter(qtbot, panel, "{$gt: ['$0.mean_iou', 0.8]}")
    qtbot.keyClick(panel.filter_bar.editor, Qt.Key.Key_Enter)
    wait_applied(qtbot, panel, want.num_rows)
    assert shown_column(qtbot, panel, "id") == want["id"].to_pylist()


def test_a_typo_is_shown_at_its_position_and_not_applied(qtbot, panel, app_state):
    total = panel.model.total_rows
    type_filter(qtbot, panel, "{$gtt: ['$0.mean_iou', 0.8]}")
    bar = panel.filter_bar
    qtbot.keyClick(bar.editor, Qt.Key.Key_Return)
    assert bar.error_label.isVisible()
    assert "unknown operator $gtt; did you mean $gt?" in bar.error_label.text()
    assert bar.error_label.text().startswith("position 1:")
    (underline,) = bar.editor.extraSelections()
    assert underline.cursor.selectionStart() == 1 and underline.cursor.selectedText() == "$gtt"
    assert panel.spec.filters == () and panel.model.total_rows == total
    type_filter(qtbot, panel, 'row["nope"] > 1')
    qtbot.waitUntil(lambda: "nope" in bar.error_label.text(), timeout=5_000)
    assert bar.error_label.isVisible() and "unknown column" in bar.error_label.text()
    type_filter(qtbot, panel, 'row["detections"] > 1')
    qtbot.waitUntil(lambda: not bar.error_label.isVisible(), timeout=5_000)
    assert bar.editor.extraSelections() == []


def test_completion_offers_columns_paths_and_operators(qtbot, panel):
    words = panel.filter_bar.editor.completions.stringList()
    assert 'row["confidence"]' in words and "'$0.confidence'" in words
    assert 'row["image"]["width"]' in words and "$filter" in words and "$regexMatch" in words
    editor = panel.filter_bar.editor
    editor.setFocus()
    qtbot.keyClicks(editor, 'row["confi')
    popup = editor.completer.popup()
    qtbot.waitUntil(popup.isVisible, timeout=5_000)
    assert editor.completer.currentCompletion() == 'row["confidence"]'
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert editor.toPlainText() == 'row["confidence"]'
    assert not popup.isVisible()


def test_suggestions_in_compare_mode_name_both_sides():
    import pyarrow as pa

    words = filter_suggestions({"score": pa.float64()}, compare=True)
    assert {'row0["score"]', 'row1["score"]', "'$0.score'", "'$1.score'"} <= set(words)


def test_history_walks_back_with_up_and_escape_reverts_then_clears(qtbot, panel):
    bar = panel.filter_bar
    for text in ('row["detections"] > 2', 'row["correct"] == True'):
        type_filter(qtbot, panel, text)
        qtbot.keyClick(bar.editor, Qt.Key.Key_Return)
    assert bar.current == 'row["correct"] == True'
    type_filter(qtbot, panel, "half typed")
    qtbot.keyClick(bar.editor, Qt.Key.Key_Escape)  # back to what is applied
    assert bar.text() == 'row["correct"] == True'
    qtbot.keyClick(bar.editor, Qt.Key.Key_Escape)  # then cleared
    assert bar.text() == "" and bar.current == "" and panel.spec.filters == ()
    qtbot.keyClick(bar.editor, Qt.Key.Key_Up)
    assert bar.text() == 'row["correct"] == True'
    qtbot.keyClick(bar.editor, Qt.Key.Key_Up)
    assert bar.text() == 'row["detections"] > 2'
    qtbot.keyClick(bar.editor, Qt.Key.Key_Down)
    assert bar.text() == 'row["correct"] == True'
    saved = QSettings(bar.settings.fileName(), QSettings.Format.IniFormat).value("filter/history")
    assert saved[:2] == ['row["correct"] == True', 'row["detections"] > 2']


def test_right_click_filters_to_a_value_and_excludes_it(qtbot, panel, app_state):
    table = stored(app_state)
    col = [c.name for c in panel.model.columns].index("label")
    index = panel.model.index(0, col)
    label = panel.model.value(index)
    menu = panel.cell_menu(index)
    actions = {a.text(): a for a in menu.actions()}
    actions["Filter to this value"].trigger()
    want = table.filter(pc.equal(table["label"], label))
    wait_applied(qtbot, panel, want.num_rows)
    assert set(shown_column(qtbot, panel, "label")) == {label}
    assert panel.filter_bar.text() == f'row["label"] == {label!r}'

    other = panel.model.index(0, [c.name for c in panel.model.columns].index("detections"))
    detections = panel.model.value(other)
    {a.text(): a for a in panel.cell_menu(other).actions()}["Exclude this value"].trigger()
    both = want.filter(pc.not_equal(want["detections"], detections))
    wait_applied(qtbot, panel, both.num_rows)
    assert shown_column(qtbot, panel, "id") == both["id"].to_pylist()


def test_the_context_menu_opens_on_right_click(qtbot, panel):
    view = panel.view
    rect = view.visualRect(panel.model.index(1, 2))
    shown: list[QMenu] = []

    def close_menu() -> None:
        menu = QApplication.activePopupWidget()
        if isinstance(menu, QMenu):
            shown.append(menu)
            menu.close()

    from PySide6.QtCore import QTimer

    QTimer.singleShot(200, close_menu)
    view.customContextMenuRequested.emit(rect.center())
    qtbot.waitUntil(lambda: bool(shown), timeout=5_000)
    assert "Filter to this value" in [a.text() for a in shown[0].actions()]


def test_value_filters_name_values_the_simple_form_can_parse():
    assert value_filter("label", "car") == "row[\"label\"] == 'car'"
    assert value_filter("n", 3, exclude=True) == 'row["n"] != 3'
    assert value_filter("x", None) == 'row["x"] == None'
    assert value_filter("x", float("nan")) is None and value_filter("x", [1]) is None
    assert value_filter("a.b", True) == 'row["a"]["b"] == True'
    # a comparison's columns: each side by its own row, helper columns not at all
    assert value_filter("1.label", "bus") == "row1[\"label\"] == 'bus'"
    assert value_filter("0.n", 2) == 'row0["n"] == 2'
    assert value_filter("delta.n", 1.5) is None and value_filter("__status", "both") is None


def header_click(qtbot, panel, name: str, shift: bool = False) -> None:
    header = panel.view.horizontalHeader()
    col = [c.name for c in panel.model.columns].index(name)
    x = header.sectionViewportPosition(col) + header.sectionSize(col) // 2
    modifier = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, modifier, QPoint(x, 10))


def test_header_clicks_sort_and_shift_click_adds_a_key(qtbot, panel, app_state):
    table = stored(app_state).to_pylist()
    n = len(table)
    header_click(qtbot, panel, "confidence")
    assert panel.spec.sort == (SortKey("confidence"),)
    wait_applied(qtbot, panel, n)
    assert shown_column(qtbot, panel, "confidence") == sorted(r["confidence"] for r in table)
    header = panel.view.horizontalHeader()
    col = [c.name for c in panel.model.columns].index("confidence")
    assert header.sort_marks == {col: (0, False)}
    assert panel.sort_tool.text() == "Sorted by confidence ▲"

    header_click(qtbot, panel, "confidence")
    assert panel.spec.sort == (SortKey("confidence", True),)
    header_click(qtbot, panel, "label")
    header_click(qtbot, panel, "confidence", shift=True)
    assert panel.spec.sort == (SortKey("label"), SortKey("confidence"))
    header_click(qtbot, panel, "confidence", shift=True)
    assert panel.spec.sort == (SortKey("label"), SortKey("confidence", True))
    wait_applied(qtbot, panel, n)
    ids = shown_column(qtbot, panel, "id")
    want = sorted(table, key=lambda r: (r["label"], -r["confidence"]))
    assert ids == [r["id"] for r in want]
    assert panel.view.horizontalHeader().sort_marks[col] == (1, True)

    panel.sort_tool.fill_menu()
    entries = [a.text() for a in panel.sort_tool.sort_menu.actions()]
    assert entries[:2] == ["1. label  ▲ ascending", "2. confidence  ▼ descending"]
    first = panel.sort_tool.sort_menu.actions()[0].menu()
    {a.text(): a for a in first.actions()}["Move down"].trigger()
    assert panel.spec.sort == (SortKey("confidence", True), SortKey("label"))
    header_click(qtbot, panel, "confidence")  # a plain click on the first key: ascending alone
    header_click(qtbot, panel, "confidence")
    header_click(qtbot, panel, "confidence")
    assert panel.spec.sort == ()
    assert panel.sort_tool.text() == "Sort"


def test_a_header_click_does_not_select_the_column(qtbot, panel):
    header_click(qtbot, panel, "label")
    assert panel.view.selectionModel().selectedIndexes() == []


def test_export_writes_the_rows_shown_and_cancel_writes_nothing(qtbot, panel, app_state, tmp_path):
    table = stored(app_state)
    want = table.filter(pc.equal(table["label"], "car")).sort_by([("confidence", "descending")])
    panel.set_filter('row["label"] == "car"')
    panel.set_sort((SortKey("confidence", True),))
    wait_applied(qtbot, panel, want.num_rows)
    target = tmp_path / "cars.parquet"
    panel.export_to(target)
    qtbot.waitUntil(
        lambda: panel.export_tool.export_job.is_done and target.exists(), timeout=15_000
    )
    got = pq.read_table(target)
    assert got.column("id").to_pylist() == want.column("id").to_pylist()
    assert got.num_rows == want.num_rows

    other = tmp_path / "cars.csv"
    other.write_text("kept\n")
    panel.export_to(other)
    panel.export_tool.export_job.cancel()  # before it writes a page: nothing changes
    qtbot.waitUntil(lambda: panel.export_tool.export_job.is_done, timeout=15_000)
    assert other.read_text() in ("kept\n",) or other.read_text().startswith("id,")
    assert list(tmp_path.glob(".*.part")) == []


def test_the_event_loop_keeps_turning_while_a_big_filter_runs(qtbot, big_state, make_panel):  # noqa: F811
    """Filter and sort 200,000 rows (a regex over a text column): the query runs in a worker,
    so the UI thread keeps handling events (no gap between timer ticks longer than 250 ms)."""

    panel = make_panel(big_state, "big/rows:v0")
    with EventLoopTicks() as ticks:
        panel.set_filter('matches(row["note"], "row [0-9]*7\\t")')
        panel.set_sort((SortKey("note", True),))
        qtbot.waitUntil(
            lambda: panel.model.result is not None and panel.model.result.spec == panel.spec,
            timeout=30_000,
        )
        qtbot.waitUntil(lambda: panel.model.is_loaded(0), timeout=30_000)
    assert panel.model.total_rows == sum(1 for i in range(200_000) if i % 2 and i % 10 == 7)
    assert ticks.count >= 3 and ticks.longest_gap < 0.25


HUGE_ROWS = 10_000_000
HUGE_LABELS = ["car", "bus", "person", "tree", "sign", "road", "sky", "bike"]


def huge_columns() -> tuple:
    """The 10M-row table's columns, seeded (the test recomputes its answer from them)."""
    import numpy as np

    rng = np.random.default_rng(5)
    return rng.random(HUGE_ROWS), rng.integers(0, len(HUGE_LABELS), HUGE_ROWS).astype(np.int32)


@pytest.fixture(scope="module")
def huge_cache_dir(tmp_path_factory):
    """A cache holding ``huge/rows:v0``: 10,000,000 rows (id, score, label), built in ~7 s."""
    import numpy as np
    import pyarrow as pa

    from desktopviz.importing import import_paths
    from desktopviz.store.cache import Cache

    score, label = huge_columns()
    table = pa.table(
        {
            "id": np.arange(HUGE_ROWS),
            "score": score,
            "label": pa.DictionaryArray.from_arrays(label, HUGE_LABELS).cast(pa.string()),
        }
    )
    work = tmp_path_factory.mktemp("huge")
    pq.write_table(table, work / "rows.parquet", row_group_size=500_000)
    with Cache(work / "cache") as cache:
        import_paths(cache, [work / "rows.parquet"], project="huge")
    (work / "rows.parquet").unlink()
    return work / "cache"


@pytest.fixture
def huge_panel(qtbot, huge_cache_dir, make_panel):  # noqa: F811 - the imported fixture
    """A TablePanel on the 10M-row table (closed before its engine)."""
    from desktopviz.app.state import AppState
    from desktopviz.store.cache import Cache

    cache = Cache(huge_cache_dir)
    state = AppState(cache)
    panel = make_panel(state, "huge/rows:v0")
    yield panel
    panel.close()
    state.engine.close()
    cache.close()


def test_the_event_loop_keeps_turning_while_a_filter_runs_over_10m_rows(qtbot, huge_panel):
    """Type a filter over 10,000,000 rows and sort them: the count, the query and the sort run
    in workers, so the UI thread keeps handling events (no gap between 10 ms timer ticks longer
    than 250 ms) while they do, and the rows shown are the right ones."""

    import numpy as np

    panel = huge_panel
    with EventLoopTicks() as ticks:
        type_filter(qtbot, panel, 'row["label"] == "car" and row["score"] > 0.5')
        qtbot.waitUntil(lambda: panel.filter_bar.count is not None, timeout=60_000)
        qtbot.keyClick(panel.filter_bar.editor, Qt.Key.Key_Return)
        panel.set_sort((SortKey("score", True),))
        qtbot.waitUntil(
            lambda: panel.model.result is not None and panel.model.result.spec == panel.spec,
            timeout=60_000,
        )
        qtbot.waitUntil(lambda: panel.model.is_loaded(0), timeout=60_000)
    score, label = huge_columns()
    keep = (label == HUGE_LABELS.index("car")) & (score > 0.5)
    assert panel.filter_bar.count == panel.model.total_rows == int(keep.sum())
    top = np.sort(score[keep])[::-1][:5]
    model = panel.model
    col = [c.name for c in model.columns].index("score")
    assert [model.value(model.index(r, col)) for r in range(5)] == top.tolist()
    assert ticks.count >= 10 and ticks.longest_gap < 0.25, ticks.longest_gap


def test_cancel_stops_a_long_query_and_keeps_the_rows_shown(qtbot, huge_panel):
    """A slow filter over 10M rows shows a busy bar and Cancel; Cancel stops the query (it never
    completes) and the table goes on showing the rows it showed, with the old filter box."""
    import time

    panel = huge_panel
    slow = "{$regexMatch: {input: {$toString: '$0.score'}, regex: '^0[.]1234'}}"
    panel.set_filter(slow)
    qtbot.waitUntil(lambda: panel.cancel_query_button.isVisible(), timeout=10_000)
    assert panel.busy.isVisible() and panel.model.opening
    started = time.perf_counter()
    qtbot.mouseClick(panel.cancel_query_button, Qt.MouseButton.LeftButton)
    assert not panel.cancel_query_button.isVisible() and not panel.busy.isVisible()
    assert panel.spec.filters == () and panel.filter_bar.text() == ""
    assert panel.model.total_rows == HUGE_ROWS and "10,000,000 rows" in panel.summary.text()
    # the engine is free again at once: the rows shown page in, the slow query never ends
    panel.view.scroll_to_result_row(5_000_000, select=False)
    qtbot.waitUntil(lambda: panel.model.is_loaded(5_000_000), timeout=10_000)
    assert time.perf_counter() - started < 5
    assert not any(key[2].filters == (slow,) for key in panel.state.engine._results)
