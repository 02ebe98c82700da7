"""The artifact sidebar, driven as a user would: clicks, typing, the context menu, keys."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QContextMenuEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox

from desktopviz.app.widgets.sidebar import KEY_ROLE, VERSION_ROLE, Sidebar
from desktopviz.humanize import age_text


def show_sidebar(qtbot, state, height: int = 520) -> Sidebar:
    """A sidebar on ``state``, 340 pixels wide, shown."""
    widget = Sidebar(state)
    widget.resize(340, height)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def sidebar(qtbot, app_state):
    return show_sidebar(qtbot, app_state)


def rows(sidebar: Sidebar, parent: QModelIndex | None = None) -> list[QModelIndex]:
    parent = parent or QModelIndex()
    out = []
    for r in range(sidebar.proxy.rowCount(parent)):
        index = sidebar.proxy.index(r, 0, parent)
        out.append(index)
        out.extend(rows(sidebar, index))
    return out


def shown_versions(sidebar: Sidebar) -> list[str]:
    return sorted(
        f"{v.name}:{v.tag}" for i in rows(sidebar) if (v := i.data(VERSION_ROLE)) is not None
    )


def version_row(sidebar: Sidebar, ref: str) -> QModelIndex:
    version = sidebar.state.cache.resolve(ref)
    (index,) = [i for i in rows(sidebar) if i.data(KEY_ROLE) == f"v{version.id}"]
    return index


def click(qtbot, sidebar: Sidebar, index: QModelIndex, button=Qt.MouseButton.LeftButton) -> None:
    rect = sidebar.tree.visualRect(index)
    qtbot.mouseClick(sidebar.tree.viewport(), button, pos=rect.center())


def open_menu(qtbot, sidebar: Sidebar, ref: str):
    index = version_row(sidebar, ref)
    pos = sidebar.tree.visualRect(index).center()
    event = QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, pos, sidebar.tree.viewport().mapToGlobal(pos)
    )
    QApplication.sendEvent(sidebar.tree.viewport(), event)
    qtbot.waitUntil(lambda: sidebar.menu is not None and sidebar.menu.isVisible())
    return sidebar.menu


def menu_action(menu, text: str):
    (action,) = [a for a in menu.actions() if a.text() == text]
    return action


def test_tree_shows_projects_types_artifacts_and_versions(sidebar):
    texts = [i.data() for i in rows(sidebar)]
    assert texts[:3] == ["street-scenes", "dataset", "street-scenes-dataset"]
    assert shown_versions(sidebar) == [
        "scene-detector:v0",
        "scene-detector:v1",
        "scene-predictions:v0",
        "scene-predictions:v1",
        "street-scenes-dataset:v0",
    ]
    newest = version_row(sidebar, "scene-predictions:v1")
    assert newest.data(VERSION_ROLE).aliases == ("latest", "staging")
    assert "MB" in newest.data(Qt.ItemDataRole.UserRole + 5)


def test_clicking_a_version_asks_to_open_it(qtbot, sidebar, app_state):
    index = version_row(sidebar, "scene-predictions:v0")
    with qtbot.waitSignal(app_state.open_version_requested) as signal:
        click(qtbot, sidebar, index)
    version, tab = signal.args
    assert (version.name, version.tag, tab) == ("scene-predictions", "v0", "overview")


def test_typing_in_the_search_box_filters_the_tree(qtbot, sidebar):
    qtbot.keyClicks(sidebar.search, "production")
    assert shown_versions(sidebar) == ["scene-predictions:v0"]
    sidebar.search.clear()
    qtbot.keyClicks(sidebar.search, "detector v1")
    assert shown_versions(sidebar) == ["scene-detector:v1"]
    sidebar.search.clear()
    qtbot.keyClicks(sidebar.search, "model")
    assert shown_versions(sidebar) == ["scene-detector:v0", "scene-detector:v1"]
    sidebar.search.clear()
    assert len(shown_versions(sidebar)) == 5
    qtbot.keyClicks(sidebar.search, "no-such-thing")
    assert shown_versions(sidebar) == []


def test_add_alias_from_the_menu_moves_it_and_draws_the_chip(qtbot, sidebar, app_state):
    before = sidebar.tree.grab().toImage()
    menu = open_menu(qtbot, sidebar, "scene-predictions:v1")
    menu_action(menu, "Add or move alias…").trigger()
    dialog = sidebar._dialog
    qtbot.waitUntil(dialog.isVisible)
    dialog.combo.lineEdit().clear()
    qtbot.keyClicks(dialog.combo.lineEdit(), "production")
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)

    cache = app_state.cache
    assert cache.resolve("scene-predictions:production").tag == "v1"
    assert cache.resolve("scene-predictions:v0").aliases == ()
    assert cache.resolve("scene-predictions:latest").tag == "v1"
    assert version_row(sidebar, "scene-predictions:v1").data(VERSION_ROLE).aliases == (
        "latest",
        "production",
        "staging",
    )
    assert version_row(sidebar, "scene-predictions:v0").data(VERSION_ROLE).aliases == ()
    assert sidebar.tree.grab().toImage() != before


def test_a_bad_alias_is_refused_with_a_message(qtbot, sidebar, app_state):
    sidebar.set_alias(app_state.cache.resolve("scene-detector:v0"), "v7")
    box = sidebar._dialog
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert "bad alias 'v7'" in box.text()
    assert app_state.cache.resolve("scene-detector:v0").aliases == ()


def test_remove_alias_from_the_menu(qtbot, sidebar, app_state):
    menu = open_menu(qtbot, sidebar, "scene-predictions:v1")
    remove = next(a for a in menu.actions() if a.text() == "Remove alias").menu()
    assert [a.text() for a in remove.actions()] == ["staging"]
    remove.actions()[0].trigger()
    assert app_state.cache.resolve("scene-predictions:v1").aliases == ("latest",)


def test_compare_with_lists_versions_that_have_tables(qtbot, sidebar):
    menu = open_menu(qtbot, sidebar, "scene-predictions:v1")
    compare = menu_action(menu, "Compare with")
    assert compare.isEnabled()
    assert [a.text() for a in compare.menu().actions()] == ["v0  (production)"]
    model_menu = open_menu(qtbot, sidebar, "scene-detector:v1")  # a model: no tables
    assert not menu_action(model_menu, "Compare with").isEnabled()


def test_delete_asks_first_then_moves_latest(qtbot, sidebar, app_state):
    menu = open_menu(qtbot, sidebar, "scene-detector:v1")
    menu_action(menu, "Delete version…").trigger()
    box = sidebar._dialog
    qtbot.waitUntil(box.isVisible)
    assert "Delete scene-detector:v1?" in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    assert "scene-detector:v1" in shown_versions(sidebar)

    menu = open_menu(qtbot, sidebar, "scene-detector:v1")
    menu_action(menu, "Delete version…").trigger()
    box = sidebar._dialog
    (delete,) = [b for b in box.buttons() if b.text() == "Delete"]
    qtbot.mouseClick(delete, Qt.MouseButton.LeftButton)

    assert "scene-detector:v1" not in shown_versions(sidebar)
    assert app_state.cache.resolve("scene-detector:latest").tag == "v0"
    assert version_row(sidebar, "scene-detector:v0").data(VERSION_ROLE).aliases == ("latest",)
    assert app_state.cache.check() == []


def test_copy_reference_puts_it_on_the_clipboard(qtbot, sidebar):
    QGuiApplication.clipboard().clear()
    menu = open_menu(qtbot, sidebar, "street-scenes-dataset:v0")
    menu_action(menu, "Copy reference").trigger()
    assert QGuiApplication.clipboard().text() == "street-scenes/street-scenes-dataset:v0"


def test_keyboard_moves_opens_copies_and_deletes(qtbot, sidebar, app_state):
    sidebar.tree.setFocus()
    sidebar.tree.setCurrentIndex(version_row(sidebar, "scene-detector:v1"))
    qtbot.keyClick(sidebar.tree, Qt.Key.Key_Down)
    assert sidebar.current_version().tag == "v0"
    with qtbot.waitSignal(app_state.open_version_requested) as signal:
        qtbot.keyClick(sidebar.tree, Qt.Key.Key_Return)
    assert signal.args[0].ref == "street-scenes/scene-detector:v0"

    QGuiApplication.clipboard().clear()
    qtbot.keyClick(sidebar.tree, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "street-scenes/scene-detector:v0"

    qtbot.keyClick(sidebar.tree, Qt.Key.Key_Delete)
    box = sidebar._dialog
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert "scene-detector:v0" in box.text()
    box.reject()


def test_search_then_enter_reaches_the_match_by_keyboard(qtbot, sidebar, app_state):
    qtbot.keyClicks(sidebar.search, "staging")
    qtbot.keyClick(sidebar.search, Qt.Key.Key_Return)
    assert sidebar.tree.hasFocus()
    with qtbot.waitSignal(app_state.open_version_requested) as signal:
        qtbot.keyClick(sidebar.tree, Qt.Key.Key_Return)
    assert signal.args[0].ref == "street-scenes/scene-predictions:v1"


def test_the_tree_follows_the_cache_and_the_current_version(qtbot, sidebar, app_state):
    cache = app_state.cache
    cache.set_alias(cache.resolve("scene-detector:v0"), "best")
    app_state.refresh()
    assert version_row(sidebar, "scene-detector:v0").data(VERSION_ROLE).aliases == ("best",)
    app_state.set_version(cache.resolve("street-scenes-dataset:v0"))
    assert sidebar.current_version().name == "street-scenes-dataset"


def test_age_text():
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 1, 10, 12, tzinfo=UTC)
    assert age_text((now - timedelta(seconds=5)).isoformat(), now) == "just now"
    assert age_text((now - timedelta(minutes=5)).isoformat(), now) == "5 min ago"
    assert age_text((now - timedelta(hours=3)).isoformat(), now) == "3 h ago"
    assert age_text((now - timedelta(days=2)).isoformat(), now) == "2 d ago"
    assert age_text("not a date", now) == "not a date"
