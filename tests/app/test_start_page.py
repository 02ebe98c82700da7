"""The start page: welcome on an empty cache, the drop zone, the demo button."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from desktopviz.app.state import AppState
from desktopviz.app.widgets.start_page import StartPage


@pytest.fixture
def empty_state(qtbot, cache):
    state = AppState(cache)
    yield state
    state.engine.close()


def start_page(qtbot, state) -> StartPage:
    page = StartPage(state)
    page.resize(900, 640)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitExposed(page)
    return page


def drop(widget, paths: list[Path]) -> QDropEvent:
    """Drag ``paths`` over ``widget`` and drop them there, as a file manager would."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = widget.rect().center()
    actions = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(
        pos, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, enter)
    event = QDropEvent(
        QPointF(pos), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, event)
    return event


def test_an_empty_cache_gets_a_welcome_and_the_demo_button(qtbot, empty_state):
    page = start_page(qtbot, empty_state)
    assert page.title.text() == "Welcome to desktopviz"
    assert page.demo_button.isVisible()
    with qtbot.waitSignal(empty_state.demo_requested):
        qtbot.mouseClick(page.demo_button, Qt.MouseButton.LeftButton)


def test_a_cache_with_versions_points_at_the_sidebar(qtbot, app_state):
    page = start_page(qtbot, app_state)
    assert page.title.text() == "Open a version from the sidebar"
    assert not page.demo_button.isVisible()
    assert page.import_folder_button.isVisible()


def test_dropping_files_asks_to_import_them(qtbot, empty_state, tmp_path):
    page = start_page(qtbot, empty_state)
    a, b = tmp_path / "a.csv", tmp_path / "images"
    a.write_text("x\n1\n")
    b.mkdir()
    with qtbot.waitSignal(empty_state.import_requested) as signal:
        event = drop(page, [a, b])
    assert event.isAccepted()
    assert signal.args == [[a, b]]
    assert page.drop_zone.property("dragging") is False


def test_a_drag_that_is_not_files_is_refused(qtbot, empty_state):
    page = start_page(qtbot, empty_state)
    mime = QMimeData()
    mime.setText("just text")
    enter = QDragEnterEvent(
        page.rect().center(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    enter.setAccepted(False)
    QApplication.sendEvent(page, enter)
    assert not enter.isAccepted()
