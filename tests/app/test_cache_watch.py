"""The window follows changes other processes make to its cache: an import by the ``desktopviz``
command shows in the sidebar within a second, keeping the user's current row and collapsed
rows; View > Refresh reloads by hand; a change shows once, and the window's own changes are not
reloaded twice."""

from __future__ import annotations

import time

from desktopviz.app.widgets.sidebar import KEY_ROLE, VERSION_ROLE
from desktopviz.store.cache import Cache
from tests.app.test_main_window import make_window
from tests.app.test_sidebar import click, rows, shown_versions, version_row
from tests.cli_support import dv, small_table


def row_of(sidebar, key: str):
    (index,) = [i for i in rows(sidebar) if i.data(KEY_ROLE) == key]
    return index


def import_by_cli(cache: Cache, folder) -> None:
    """``desktopviz import`` of a small table into the window's cache, in another process."""
    table = small_table(folder / "counts")
    r = dv(
        "import", str(table), "--project", "street-scenes", "--type", "evaluation",
        cache=cache.root, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr


def count_refreshes(qtbot, state, seconds: float) -> int:
    """How many times the cache's contents were reloaded in the next ``seconds``."""
    seen = []
    state.cache_changed.connect(lambda: seen.append(1))
    qtbot.wait(int(seconds * 1000))
    return len(seen)


def test_an_import_by_the_cli_shows_in_the_sidebar_within_a_second(qtbot, app_state, tmp_path):
    window = make_window(qtbot, app_state, tmp_path)
    sidebar = window.sidebar
    before = shown_versions(sidebar)
    click(qtbot, sidebar, version_row(sidebar, "scene-detector:v0"))
    sidebar.tree.collapse(row_of(sidebar, "street-scenes/dataset"))

    import_by_cli(app_state.cache, tmp_path)
    started = time.monotonic()
    qtbot.waitUntil(lambda: len(shown_versions(sidebar)) == len(before) + 1, timeout=2000)
    assert time.monotonic() - started < 1.5
    (new,) = set(shown_versions(sidebar)) - set(before)
    assert new.endswith(":v0")
    # the new row is expanded into view; the user's current row and collapsed row are kept
    new_row = [i for i in rows(sidebar) if i.data() == "v0" and i.parent().data() in new][0]
    assert sidebar.tree.isExpanded(new_row.parent())
    assert sidebar.tree.visualRect(new_row).isValid()
    assert sidebar.current_version().ref == "street-scenes/scene-detector:v0"
    assert not sidebar.tree.isExpanded(row_of(sidebar, "street-scenes/dataset"))
    assert sidebar.tree.isExpanded(row_of(sidebar, "street-scenes/model"))


def test_view_refresh_reloads_the_sidebar(qtbot, app_state, tmp_path):
    window = make_window(qtbot, app_state, tmp_path)
    window.cache_watcher.timer.stop()  # as if the change had not been noticed: reload by hand
    before = shown_versions(window.sidebar)
    import_by_cli(app_state.cache, tmp_path)
    qtbot.wait(700)
    assert shown_versions(window.sidebar) == before
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    (refresh,) = [a for a in view_menu.actions() if a.text() == "&Refresh"]
    assert refresh.shortcut().toString() == "F5"
    refresh.trigger()
    assert len(shown_versions(window.sidebar)) == len(before) + 1


def test_a_change_shows_once_and_own_changes_are_not_reloaded_again(qtbot, app_state, tmp_path):
    window = make_window(qtbot, app_state, tmp_path)
    detector = app_state.cache.resolve("scene-detector:v0")
    # another window on the same cache (its own connection) puts an alias on a version
    with Cache(app_state.cache.root) as other:
        other.set_alias(other.resolve("scene-detector:v0"), "candidate")
    assert count_refreshes(qtbot, app_state, 1.5) == 1
    row = version_row(window.sidebar, "scene-detector:v0")
    assert "candidate" in row.data(VERSION_ROLE).aliases
    # the window's own change refreshes once (it says so itself), not again when polled
    seen = []
    app_state.cache_changed.connect(lambda: seen.append(1))
    window.sidebar.set_alias(detector, "reviewed")
    assert count_refreshes(qtbot, app_state, 1.2) == 0
    assert seen == [1]
    # and so does its own import (a worker writing through its own connection)
    job = window.import_paths([small_table(tmp_path / "mine")])
    with qtbot.waitSignal(job.done, timeout=60_000):
        pass
    assert count_refreshes(qtbot, app_state, 1.2) == 0
