"""The main window: pages from the sidebar, Ctrl+W, drops that import, the status bar, settings
restored, cache switching, themes, About, runs, the demo from an empty cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox

from desktopviz.app.main_window import MainWindow
from desktopviz.app.state import AppState
from desktopviz.app.widgets.run_page import RunPage
from tests.app.test_sidebar import click, version_row
from tests.app.test_start_page import drop


def settings_in(folder: Path) -> QSettings:
    """Settings in a file of the test's own (never the user's)."""
    return QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)


def make_window(qtbot, state: AppState, folder: Path) -> MainWindow:
    window = MainWindow(state, settings_in(folder))
    window.resize(1300, 850)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def open_table(qtbot, window: MainWindow, ref: str, table: str):  # noqa: ANN201 - a TablePanel
    """Open ``table`` of version ``ref`` in ``window`` and wait for its first rows."""
    version = window.state.cache.resolve(ref)
    page = window.open_version(version, "table", table)
    panel = page.show_table(table)
    qtbot.waitUntil(lambda: panel.model.is_loaded(0), timeout=15_000)
    return panel


@pytest.fixture
def window(qtbot, app_state, tmp_path):
    return make_window(qtbot, app_state, tmp_path)


@pytest.fixture
def empty_state(qtbot, cache):
    state = AppState(cache)
    yield state
    state.engine.close()


def tab_texts(window: MainWindow) -> list[str]:
    return [window.pages.tabText(i) for i in range(window.pages.count())]


def wait_for_tables(qtbot, window: MainWindow) -> None:
    """Let table panels finish loading before the test ends (their workers report back)."""
    for page in window.page_list():
        for panel in page.table_panels():
            qtbot.waitUntil(lambda p=panel: p.model.rowCount() > 0)


def test_empty_cache_shows_the_start_page(qtbot, empty_state, tmp_path):
    window = make_window(qtbot, empty_state, tmp_path)
    assert "desktopviz" in window.windowTitle()
    assert window.central.currentWidget() is window.start_page
    assert window.start_page.title.text() == "Welcome to desktopviz"
    assert window.start_page.demo_button.isVisible()


def test_clicking_versions_opens_and_focuses_pages(qtbot, window):
    sidebar = window.sidebar
    click(qtbot, sidebar, version_row(sidebar, "scene-predictions:v0"))
    assert tab_texts(window) == ["scene-predictions:v0"]
    assert window.central.currentWidget() is window.pages
    assert window.current_page().current_tab() == "overview"
    assert "scene-predictions:v0" in window.windowTitle()
    assert "desktopviz" in window.windowTitle()

    click(qtbot, sidebar, version_row(sidebar, "scene-detector:v1"))
    click(qtbot, sidebar, version_row(sidebar, "scene-predictions:v0"))
    assert tab_texts(window) == ["scene-predictions:v0", "scene-detector:v1"]
    assert window.current_page().version.name == "scene-predictions"
    assert window.state.version.name == "scene-predictions"


def test_ctrl_w_closes_the_tab_in_front(qtbot, window, app_state):
    window.open_version(app_state.cache.resolve("scene-detector:v0"))
    window.open_version(app_state.cache.resolve("scene-detector:v1"))
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window.pages, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert tab_texts(window) == ["scene-detector:v0"]
    qtbot.keyClick(window.pages, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert tab_texts(window) == []
    assert window.central.currentWidget() is window.start_page
    assert window.start_page.title.text() == "Open a version from the sidebar"


def test_a_table_opens_with_rows_in_the_status_bar(qtbot, window, app_state):
    page = window.open_version(app_state.cache.resolve("street-scenes-dataset:v0"), "table")
    wait_for_tables(qtbot, window)
    qtbot.waitUntil(lambda: window.table_status_label.text() == "120 rows")
    page.show_table().select_row(4)
    qtbot.waitUntil(lambda: "1 selected" in window.table_status_label.text())
    qtbot.waitUntil(
        lambda: window.cache_label.text().startswith("Cache ") and "MB" in window.cache_label.text()
    )


def test_ctrl_f_focuses_the_table_filter_else_the_artifact_search(qtbot, window, app_state):
    page = window.open_version(app_state.cache.resolve("street-scenes-dataset:v0"), "table")
    wait_for_tables(qtbot, window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    panel = page.show_table()
    panel.view.setFocus()
    qtbot.keyClick(panel.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is panel.filter_bar.editor
    qtbot.keyClicks(panel.filter_bar.editor, 'row["label"] == "car"')
    qtbot.keyClick(panel.filter_bar.editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "of 120" in window.table_status_label.text())
    page.show_tab("overview")
    window.activateWindow()  # offscreen, the completion popup keeps the activation it took
    qtbot.waitUntil(window.isActiveWindow)
    find = next(a for a in window.findChildren(QAction) if a.text() == "&Find (filter)")
    assert find.shortcut().toString() == "Ctrl+F"
    find.trigger()  # what Ctrl+F does on another tab
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.sidebar.search)


def test_dropping_a_csv_imports_it_and_selects_the_version(qtbot, window, app_state, tmp_path):
    source = tmp_path / "incoming" / "scores.csv"
    source.parent.mkdir()
    source.write_text("id,score\n1,0.5\n2,0.75\n3,0.1\n")
    drop(window, [source])
    job = window.import_job
    assert job is not None and job.dialog.windowTitle() == "Importing"
    with qtbot.waitSignal(job.done, timeout=30_000):
        pass
    assert tab_texts(window) == ["scores:v0"]
    assert window.sidebar.current_version().ref == "incoming/scores:v0"
    assert app_state.cache.resolve("incoming/scores:latest").tag == "v0"


def test_dropping_a_folder_of_images_imports_one_table(qtbot, window, app_state, tmp_path):
    from PIL import Image

    folder = tmp_path / "pets"
    for label in ("cat", "dog"):
        (folder / label).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (12, 10), (40 * i, 90, 120)).save(folder / label / f"{i}.png")
    drop(window, [folder])
    with qtbot.waitSignal(window.import_job.done, timeout=30_000):
        pass
    version = window.current_page().version
    assert version.name == "pets"
    assert window.sidebar.current_version().id == version.id
    assert app_state.cache.table_info(version).num_rows == 6


def test_dropping_a_broken_file_names_it_in_a_message(qtbot, window, app_state, tmp_path):
    broken = tmp_path / "bad.table.json"
    broken.write_text(json.dumps({"columns": ["a", "b"], "data": [[1, 2], [3]]}))
    versions = len(app_state.cache.versions())
    drop(window, [broken])
    with qtbot.waitSignal(window.import_job.failed, timeout=30_000):
        pass
    box = window.import_job.error_box
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert "bad.table.json" in box.informativeText()
    assert len(app_state.cache.versions()) == versions
    assert app_state.cache.check() == []


def test_window_state_and_last_version_are_restored(qtbot, app_state, tmp_path):
    first = make_window(qtbot, app_state, tmp_path)
    first.open_version(app_state.cache.resolve("street-scenes-dataset:v0"), "files")
    first.resize(first.width(), 502)
    first.inspector_dock.hide()
    first.close()

    second = MainWindow(app_state, settings_in(tmp_path))
    qtbot.addWidget(second)
    second.restore_session()
    second.show()
    qtbot.waitExposed(second)
    assert tab_texts(second) == ["street-scenes-dataset:v0"]
    assert second.current_page().current_tab() == "files"
    assert second.height() == 502
    assert not second.inspector_dock.isVisible()


def test_deleting_the_open_version_closes_its_page(qtbot, window, app_state):
    version = app_state.cache.resolve("scene-detector:v1")
    window.open_version(version)
    window.sidebar.delete_version(version)
    assert tab_texts(window) == []
    assert version_row(window.sidebar, "scene-detector:v0").isValid()


def test_alias_change_updates_the_open_page(qtbot, window, app_state):
    version = app_state.cache.resolve("scene-detector:v0")
    page = window.open_version(version)
    window.sidebar.set_alias(version, "best")
    assert page.overview.chips.aliases == ("best",)


def test_open_another_cache_and_remember_it(qtbot, window, app_state, tmp_path):
    from desktopviz.store.cache import Cache

    other = tmp_path / "other-cache"
    with Cache(other) as c:
        from desktopviz.importing import import_path

        (tmp_path / "t.csv").write_text("a\n1\n")
        import_path(c, tmp_path / "t.csv", project="elsewhere")
    window.open_version(app_state.cache.resolve("scene-detector:v0"))
    assert window.open_cache(other)
    assert tab_texts(window) == []
    assert window.state.cache.root == other
    assert [v.ref for v in window.state.cache.versions()] == ["elsewhere/t:v0"]
    assert version_row(window.sidebar, "elsewhere/t:v0").isValid()
    assert window.recent_caches()[0] == str(other.resolve())
    window.state.cache.close()


def test_open_cache_refuses_a_folder_without_one(qtbot, window, tmp_path):
    assert not window.open_cache(tmp_path / "nothing-here")
    assert "no desktopviz cache" in window.dialog.text()


def test_theme_menu_switches_to_dark(qtbot, window):
    before = QApplication.palette().color(QPalette.ColorRole.Window)
    try:
        window.theme_actions["dark"].trigger()
        after = QApplication.palette().color(QPalette.ColorRole.Window)
        assert after.lightness() < 80 < before.lightness()
        assert window.settings.value("theme") == "dark"
        shot = window.grab().toImage()
        assert shot.pixelColor(shot.width() // 2, shot.height() - 5).lightness() < 80
    finally:
        window.theme_actions["light"].trigger()


def test_about_lists_the_versions(qtbot, window):
    import duckdb
    import PySide6

    dialog = window.show_about()
    assert dialog.isVisible()
    text = dialog.text()
    assert f"PySide6: {PySide6.__version__}" in text
    assert f"DuckDB: {duckdb.__version__}" in text
    assert "pyarrow: " in text and "Python: " in text


def test_a_run_link_opens_the_run(qtbot, window, app_state):
    page = window.open_version(app_state.cache.resolve("scene-predictions:v1"))
    page.overview.producer.linkActivated.emit("run:eval-wide-resnet")
    run_page = window.pages.currentWidget()
    assert isinstance(run_page, RunPage) and run_page.isVisible()
    assert tab_texts(window) == ["scene-predictions:v1", "eval-wide-resnet"]
    assert window.windowTitle().startswith("Run eval-wide-resnet — street-scenes")


@pytest.mark.slow
def test_the_demo_button_builds_and_opens_the_demo(qtbot, empty_state, tmp_path):
    window = make_window(qtbot, empty_state, tmp_path)
    window.demo_images = 24
    qtbot.mouseClick(window.start_page.demo_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(window.import_job.done, timeout=120_000):
        pass
    assert tab_texts(window) == ["scene-predictions:v1"]
    assert not window.start_page.demo_button.isVisible()
