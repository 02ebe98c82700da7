"""Sync in the window as a user does it: File > Sources… adds a store folder (the connection is
tested first), Sync now pulls its versions into the sidebar with progress in the status bar; a
source that cannot be reached is marked offline and the cache stays usable; a version synced as
catalog only shows "not downloaded" and downloads when opened."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktopviz.app.state import AppState
from desktopviz.app.widgets.sidebar import DETAIL_ROLE
from desktopviz.store.cache import Cache
from tests.app.test_main_window import make_window
from tests.app.test_sidebar import click, shown_versions, version_row
from tests.cli_support import dv


@pytest.fixture
def store(tmp_path) -> Path:
    """A folder store holding ``team/counts:v0`` (3 rows) and ``v1`` (5 rows), pushed by the
    ``desktopviz`` command from a cache of their own."""
    source = tmp_path / "source-cache"
    folder = tmp_path / "counts"
    folder.mkdir()
    for n in (3, 5):
        table = {"_type": "table", "columns": ["a", "b"], "data": [[i, i] for i in range(n)]}
        (folder / "ok.table.json").write_text(json.dumps(table))
        r = dv("import", str(folder), "--project", "team", "--quiet", cache=source)
        assert r.returncode == 0, r.stderr
    store = tmp_path / "store"
    r = dv("push", str(store), cache=source, timeout=120)
    assert r.returncode == 0, r.stderr
    return store


@pytest.fixture
def window(qtbot, tmp_path):
    cache = Cache(tmp_path / "cache")
    state = AppState(cache)
    w = make_window(qtbot, state, tmp_path)
    yield w
    w.close()
    state.engine.close()
    cache.close()


def open_sources(qtbot, window):
    window.sources_action.trigger()
    dialog = window.dialog
    qtbot.waitExposed(dialog)
    return dialog


def add_source(qtbot, dialog, name: str, url: str) -> None:
    qtbot.keyClicks(dialog.name, name)
    qtbot.keyClicks(dialog.url, url)
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.add_button.isEnabled(), timeout=15_000)


def test_add_a_store_folder_and_sync_it_into_the_sidebar(qtbot, window, store):
    dialog = open_sources(qtbot, window)
    add_source(qtbot, dialog, "team", str(store))
    assert dialog.table.rowCount() == 1, dialog.note.text()
    assert dialog.table.item(0, 0).text() == "team"
    assert dialog.table.item(0, 2).text() == "never"
    with qtbot.waitSignal(window.sync_status.finished, timeout=60_000) as done:
        qtbot.mouseClick(dialog.sync_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.sync_status.bar.isVisible(), timeout=5_000)
    assert done.args[0].startswith("Synced 1 source"), done.args[0]
    qtbot.waitUntil(
        lambda: shown_versions(window.sidebar) == ["counts:v0", "counts:v1"], timeout=5_000
    )
    assert not window.sync_status.bar.isVisible()
    assert dialog.table.item(0, 2).text() != "never"


def test_a_folder_that_is_not_a_store_is_not_added(qtbot, window, tmp_path):
    dialog = open_sources(qtbot, window)
    (tmp_path / "plain").mkdir()
    add_source(qtbot, dialog, "nowhere", str(tmp_path / "missing-folder"))
    assert dialog.table.rowCount() == 0
    assert dialog.note.text().startswith("Cannot add nowhere"), dialog.note.text()


def test_an_unreachable_source_is_marked_offline_and_the_cache_stays_usable(qtbot, window, store):
    dialog = open_sources(qtbot, window)
    add_source(qtbot, dialog, "team", str(store))
    with qtbot.waitSignal(window.sync_status.finished, timeout=60_000):
        window.sync_status.sync_sources()
    qtbot.waitUntil(lambda: len(shown_versions(window.sidebar)) == 2, timeout=5_000)
    shutil.rmtree(store)  # the share went away
    with qtbot.waitSignal(window.sync_status.finished, timeout=60_000) as done:
        window.sync_status.sync_sources()
    assert "offline: team" in done.args[0], done.args[0]
    indicator = window.sync_status.offline_label
    assert indicator.isVisible() and "team" in indicator.text()
    assert str(store) in indicator.toolTip() or "team" in indicator.toolTip()
    assert "offline" in dialog.table.item(0, 3).text()
    page = window.open_version(window.state.cache.resolve("team/counts:v1"), "table")
    panel = page.show_table()
    qtbot.waitUntil(lambda: panel.model.result is not None, timeout=15_000)
    assert panel.model.total_rows == 5


def test_a_catalog_only_version_shows_not_downloaded_and_downloads_when_opened(
    qtbot, window, store
):
    from desktopviz.sync.backends import open_backend
    from desktopviz.sync.pull import sync

    cache = window.state.cache
    sync(cache, open_backend(str(store)), source="team", catalog_only=True)
    window.state.refresh()
    index = version_row(window.sidebar, "team/counts:v1")
    assert index.data(DETAIL_ROLE).startswith("not downloaded"), index.data(DETAIL_ROLE)
    with qtbot.waitSignal(window.sync_status.finished, timeout=60_000) as done:
        click(qtbot, window.sidebar, index)
    assert done.args[0] == "Downloaded team/counts:v1", done.args[0]
    version = cache.resolve("team/counts:v1")
    assert version.state == "complete"
    qtbot.waitUntil(lambda: window.page_for(version) is not None, timeout=5_000)
    qtbot.waitUntil(
        lambda: (
            not version_row(window.sidebar, "team/counts:v1")
            .data(DETAIL_ROLE)
            .startswith("not downloaded")
        ),
        timeout=5_000,
    )
    assert (
        version_row(window.sidebar, "team/counts:v0").data(DETAIL_ROLE).startswith("not downloaded")
    )  # the other stays in the catalog until it is opened
