"""macOS opens documents with QFileOpenEvent: the handler hands each path to the callback."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QUrl
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication

from desktopviz.app.file_open_events import install_file_open_handler
from desktopviz.app.launch import documents_opened_by_os
from tests.app.test_main_window import make_window
from tests.cli_support import small_table


def test_file_open_event_reaches_callback(qtbot, tmp_path: Path) -> None:
    app = QApplication.instance()
    table = tmp_path / "preds.table.json"
    table.write_text("{}")
    folder = tmp_path / "demo-dataset:v0"
    folder.mkdir()
    opened: list[str] = []
    handler = install_file_open_handler(app, opened.append)
    try:
        assert QCoreApplication.sendEvent(app, QFileOpenEvent(str(table)))
        assert QCoreApplication.sendEvent(app, QFileOpenEvent(QUrl.fromLocalFile(str(folder))))
    finally:
        app.removeEventFilter(handler)
        handler.deleteLater()
    assert [Path(p) for p in opened] == [table, folder]


def test_other_events_pass_through(qtbot) -> None:
    app = QApplication.instance()
    opened: list[str] = []
    handler = install_file_open_handler(app, opened.append)
    try:
        QCoreApplication.sendEvent(app, QEvent(QEvent.Type.User))
    finally:
        app.removeEventFilter(handler)
        handler.deleteLater()
    assert opened == []


def test_a_document_the_os_opens_is_imported_and_shown(qtbot, tmp_path: Path, app_state) -> None:
    """macOS: a *.table.json double-clicked in the Finder while the window starts (the event
    comes before the window is ready) is imported and opened once it is."""
    app = QApplication.instance()
    window = make_window(qtbot, app_state, tmp_path)
    tabs = window.pages.count()
    assert documents_opened_by_os(app, window, platform="linux") is None
    opened = documents_opened_by_os(app, window, platform="darwin")
    try:
        table = small_table(tmp_path / "from-finder")
        QCoreApplication.sendEvent(app, QFileOpenEvent(str(table)))
        assert window.pages.count() == tabs  # not before the window is ready
        opened.window_ready()
        qtbot.waitUntil(lambda: window.pages.count() == tabs + 1, timeout=60_000)
        assert "ok" in window.windowTitle()
        page = window.pages.currentWidget()
        assert page.tabs.tabText(page.tabs.currentIndex()) == "Table"  # the table, not Overview
    finally:
        app.removeEventFilter(opened.handler)
        opened.handler.deleteLater()
