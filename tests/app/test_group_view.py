"""Grouping in the window as a user does it: pick a column in the Group menu, see one row per
group with its count, histograms whose bins are shared by every group, galleries of the first
images; double-click a group to see its rows; go back to the rows. Expected numbers come from the
stored Parquet file read with pyarrow."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from PySide6.QtCore import Qt

from desktopviz.app.models.table_model import CELL_ROLE, RENDER_ROLE, VALUE_ROLE
from tests.app.test_filter_bar import wait_applied
from tests.app.test_table_panel import PREDICTIONS, make_panel  # noqa: F401 - fixture

TABLE = "predictions.table.json"


@pytest.fixture
def panel(qtbot, app_state, make_panel):  # noqa: F811 - the imported fixture
    return make_panel(app_state, PREDICTIONS, TABLE)


def counts_by_label(app_state) -> dict[str, int]:
    version = app_state.cache.resolve(PREDICTIONS)
    table = pq.read_table(app_state.cache.parquet_path(app_state.cache.table_info(version, TABLE)))
    grouped = table.group_by("label").aggregate([("label", "count")]).to_pylist()
    return {r["label"]: r["label_count"] for r in grouped}


def group_by_label(qtbot, panel) -> None:
    panel.group_tool.fill_menu()
    (action,) = [a for a in panel.group_tool.group_menu.actions() if a.text() == "label"]
    action.trigger()
    qtbot.waitUntil(
        lambda: panel.model.result is not None and panel.model.result.spec == panel.spec,
        timeout=15_000,
    )
    qtbot.waitUntil(lambda: panel.model.is_loaded(0), timeout=10_000)


def column(panel, name: str) -> int:
    return [c.name for c in panel.model.columns].index(name)


def test_group_menu_gives_one_row_per_group_with_counts(qtbot, panel, app_state):
    want = counts_by_label(app_state)
    group_by_label(qtbot, panel)
    model = panel.model
    assert panel.spec.group.by == ("label",)
    assert model.total_rows == len(want)
    got = {
        model.value(model.index(r, column(panel, "label"))): model.value(
            model.index(r, column(panel, "count"))
        )
        for r in range(model.total_rows)
    }
    assert got == want
    assert panel.summary.text().startswith(f"{len(want)} groups of {sum(want.values())} rows")
    assert panel.group_tool.text() == "Grouped by label"


def test_histograms_share_their_bins_and_add_up_to_the_count(qtbot, panel):
    group_by_label(qtbot, panel)
    model = panel.model
    col = column(panel, "confidence")
    assert model.index(0, col).data(RENDER_ROLE) == "histogram"
    lengths = set()
    for r in range(model.total_rows):
        hist = model.index(r, col).data(VALUE_ROLE)
        count = model.value(model.index(r, column(panel, "count")))
        assert sum(hist["histogram"]) == count
        assert hist["min"] <= hist["mean"] <= hist["max"]
        lengths.add(len(hist["histogram"]))
    assert lengths == {20}
    # drawn: bars in the side colour inside the cell
    view = panel.view
    view.scrollTo(model.index(0, col))
    rect = view.visualRect(model.index(0, col))
    image = view.viewport().grab().toImage()
    blue = sum(
        1
        for x in range(rect.left(), rect.right())
        for y in range(rect.top(), rect.bottom())
        if image.pixelColor(x, y).name() == "#0072b2"
    )
    assert blue > 50


def test_media_columns_become_galleries(qtbot, panel):
    group_by_label(qtbot, panel)
    model = panel.model
    col = column(panel, "image")
    assert model.columns[col].render == "gallery"
    cells = model.index(0, col).data(CELL_ROLE)
    assert 1 <= len(cells) <= 4 and all(c.path for c in cells)


def test_double_click_shows_the_rows_of_a_group_and_back(qtbot, panel, app_state):
    want = counts_by_label(app_state)
    group_by_label(qtbot, panel)
    model = panel.model
    label = model.value(model.index(2, column(panel, "label")))
    rect = panel.view.visualRect(model.index(2, column(panel, "count")))
    # a double click is a press and release, then the double-click press
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert panel.spec.group is None
    assert panel.filter_bar.text() == f'row["label"] == {label!r}'
    wait_applied(qtbot, panel, want[label])
    panel.filter_bar.clear()
    wait_applied(qtbot, panel, sum(want.values()))
    group_by_label(qtbot, panel)
    panel.group_tool.fill_menu()
    {a.text(): a for a in panel.group_tool.group_menu.actions()}[
        "Show rows (no grouping)"
    ].trigger()
    assert panel.spec.group is None
