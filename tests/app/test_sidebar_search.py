"""The sidebar's search box as a user types into it: ranked hits of everything (desktopviz.search)
appear over the filtered tree; Enter, Down + Enter or a click opens a hit's page."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktopviz.app.widgets.sidebar import Sidebar
from tests.app.test_main_window import make_window
from tests.app.test_sidebar import show_sidebar, shown_versions

SHOTS = Path("/work/notes/shots/i15")


@pytest.fixture
def sidebar(qtbot, app_state):
    return show_sidebar(qtbot, app_state, height=620)


def type_and_wait(qtbot, sidebar: Sidebar, text: str) -> list:
    """Type ``text`` a key at a time, then wait for its hits (searched after a pause)."""
    sidebar.search.clear()
    sidebar.search.setFocus()
    with qtbot.waitSignal(sidebar.results.searched, timeout=5000) as searched:
        qtbot.keyClicks(sidebar.search, text)
    while searched.args != [text]:  # an earlier prefix's answer came first
        with qtbot.waitSignal(sidebar.results.searched, timeout=5000) as searched:
            pass
    return sidebar.results.hits()


def save(widget, name: str) -> None:
    if SHOTS.parent.is_dir():
        SHOTS.mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(SHOTS / name))


def test_typing_shows_ranked_hits_of_every_kind_over_the_filtered_tree(qtbot, sidebar):
    hits = type_and_wait(qtbot, sidebar, "resnet")
    assert sidebar.results.isVisible()
    assert [(h.kind, h.label) for h in hits[:2]] == [
        ("run", "street-scenes/runs/eval-wide-resnet"),
        ("run", "street-scenes/runs/train-wide-resnet"),
    ]
    described = {h.label: (h.field, h.marked()) for h in hits}
    assert described["street-scenes/scene-detector:v1"] == (
        "description",
        "wide-[resnet] detector",
    )
    save(sidebar, "sidebar-search.png")

    # the tree filter keeps working beside the hits
    hits = type_and_wait(qtbot, sidebar, "production")
    versions = [(h.label, h.field) for h in hits if h.kind == "version"]
    assert versions == [("street-scenes/scene-predictions:v0", "alias")]
    assert {h.kind for h in hits} <= {"version", "registry"}  # the demo's registry, if any
    assert shown_versions(sidebar) == ["scene-predictions:v0"]

    # a config value, a column name
    assert type_and_wait(qtbot, sidebar, "lr 0.002")[0].label == (
        "street-scenes/runs/train-wide-resnet"
    )
    hit = type_and_wait(qtbot, sidebar, "mean_iou")[0]
    assert (hit.kind, hit.field) == ("table", "columns")

    # nothing matches: no list; an empty box: no list
    assert type_and_wait(qtbot, sidebar, "albatross") == []
    assert not sidebar.results.isVisible()
    type_and_wait(qtbot, sidebar, "eval")
    sidebar.search.clear()
    assert not sidebar.results.isVisible()


def test_hits_follow_the_cache(qtbot, sidebar, app_state):
    assert type_and_wait(qtbot, sidebar, "champion") == []
    cache = app_state.cache
    cache.set_alias(cache.resolve("scene-detector:v0"), "champion")
    with qtbot.waitSignal(sidebar.results.searched, timeout=5000):
        app_state.refresh()
    assert [h.label for h in sidebar.results.hits()] == ["street-scenes/scene-detector:v0"]
    assert sidebar.results.isVisible()


def test_enter_opens_the_best_hit_and_a_click_opens_another(qtbot, app_state, tmp_path):
    window = make_window(qtbot, app_state, tmp_path)
    sidebar = window.sidebar
    assert type_and_wait(qtbot, sidebar, "predictions staging")[0].kind == "version"
    qtbot.keyClick(sidebar.search, Qt.Key.Key_Return)
    page = window.current_page()
    assert page is not None and page.version.ref == "street-scenes/scene-predictions:v1"
    assert sidebar.current_version().ref == page.version.ref  # shown in the tree too
    save(window, "search-opened-version.png")

    # Down into the list, to the second hit, Enter: a run's page
    hits = type_and_wait(qtbot, sidebar, "wide resnet")
    assert hits[1].kind == "run"
    qtbot.keyClick(sidebar.search, Qt.Key.Key_Down)
    assert sidebar.results.hasFocus()
    qtbot.keyClick(sidebar.results, Qt.Key.Key_Down)
    qtbot.keyClick(sidebar.results, Qt.Key.Key_Return)
    assert [p.run.id for p in window.run_pages()] == [hits[1].key]
    assert window.pages.currentWidget() is window.run_pages()[0]

    # a click on a table hit opens its version on the Table tab
    hits = type_and_wait(qtbot, sidebar, "confidence")
    row = next(i for i, h in enumerate(hits) if h.kind == "table")
    rect = sidebar.results.visualRect(sidebar.results.model().index(row, 0))
    with qtbot.waitSignal(app_state.open_version_requested) as opened:
        qtbot.mouseClick(sidebar.results.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    version, tab = opened.args
    assert (version.id, tab) == (int(hits[row].key.split("/")[0]), "table")


def test_a_project_hit_asks_for_the_project_page(qtbot, sidebar):
    hits = type_and_wait(qtbot, sidebar, "street")
    assert (hits[0].kind, hits[0].label) == ("project", "street-scenes")
    with qtbot.waitSignal(sidebar.project_requested) as asked:
        qtbot.keyClick(sidebar.search, Qt.Key.Key_Return)
    assert asked.args == ["street-scenes"]
