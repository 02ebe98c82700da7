"""Saved views as a user uses them: set up a filter, a sort and the columns, save the view, open
the table of another version and find it shown the same way; switch views from the menu, go back
to the plain table, delete a view."""

from __future__ import annotations

import pytest

from desktopviz.query.spec import QuerySpec, SortKey
from tests.app.test_filter_bar import wait_applied
from tests.app.test_table_panel import make_panel  # noqa: F401 - fixture

NEW, OLD = "street-scenes/scene-predictions:v1", "street-scenes/scene-predictions:v0"
TABLE = "predictions.table.json"


def column(panel, name: str) -> int:
    return [c.name for c in panel.model.columns].index(name)


@pytest.fixture
def saved(qtbot, app_state, make_panel):  # noqa: F811 - the imported fixture
    panel = make_panel(app_state, NEW, TABLE)
    panel.set_filter('row["label"] == "car"')
    panel.set_sort((SortKey("confidence", True),))
    qtbot.waitUntil(lambda: panel.model.result.spec == panel.spec, timeout=15_000)
    header = panel.view.horizontalHeader()
    header.setSectionHidden(column(panel, "class_iou"), True)
    header.resizeSection(column(panel, "label"), 155)
    header.moveSection(header.visualIndex(column(panel, "confidence")), 1)
    panel.save_view("cars by confidence")
    return panel


def test_a_saved_view_opens_on_every_version(qtbot, app_state, make_panel, saved):  # noqa: F811
    assert saved.views_tool.text() == "View: cars by confidence"
    other = make_panel(app_state, OLD, TABLE)
    assert other.current_view == "cars by confidence"
    assert other.spec.filters == ('row["label"] == "car"',)
    assert other.spec.sort == (SortKey("confidence", True),)
    assert other.filter_bar.text() == 'row["label"] == "car"'
    qtbot.waitUntil(lambda: other.model.result is not None, timeout=15_000)
    header = other.view.horizontalHeader()
    qtbot.waitUntil(lambda: header.isSectionHidden(column(other, "class_iou")), timeout=10_000)
    assert header.sectionSize(column(other, "label")) == 155
    assert header.visualIndex(column(other, "confidence")) == 1
    assert header.sort_marks[column(other, "confidence")] == (0, True)


def test_views_menu_switches_clears_and_deletes(qtbot, app_state, saved):
    panel = saved
    panel.clear_view()
    assert panel.spec == QuerySpec() and panel.current_view is None
    assert panel.filter_bar.text() == ""
    total = app_state.cache.table_info(app_state.cache.resolve(NEW), TABLE).num_rows
    wait_applied(qtbot, panel, total)
    panel.set_sort((SortKey("id"),))
    panel.save_view("by id")
    panel.views_tool.fill_menu()
    entries = {a.text(): a for a in panel.views_tool.views_menu.actions()}
    assert {"by id", "cars by confidence", "Save view as…", "Plain table (no view)"} <= set(entries)
    entries["cars by confidence"].trigger()
    assert panel.spec.filters == ('row["label"] == "car"',)
    assert panel.current_view == "cars by confidence"
    panel.views_tool.fill_menu()
    delete = next(
        a for a in panel.views_tool.views_menu.actions() if a.text() == "Delete view"
    ).menu()
    {a.text(): a for a in delete.actions()}["by id"].trigger()
    assert [v.name for v in app_state.cache.views(panel.version, TABLE)] == ["cars by confidence"]
