"""The Registry section of the sidebar and a registry collection's page, driven as a user would:
click the collection, read its versions, aliases and alias history, see the production version's
lineage, open a source version, move an alias, unlink; link a version from the sidebar's menu."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMenu

from desktopviz import registry
from desktopviz.app.widgets.registry_page import ALIASES_ROLE, RegistryPage
from desktopviz.app.widgets.sidebar import CHIPS_ROLE, KEY_ROLE, KIND_ROLE
from desktopviz.app.widgets.version_page import VersionPage
from tests.app.test_main_window import make_window, tab_texts
from tests.app.test_sidebar import click, menu_action, open_menu, rows

SHOTS = Path("/work/notes/shots/i15")


@pytest.fixture
def window(qtbot, app_state, tmp_path):
    registry.add_demo_registry(app_state.cache)
    return make_window(qtbot, app_state, tmp_path)


def row_with_key(sidebar, key: str) -> QModelIndex:
    """The sidebar row with this key, scrolled into view (as a user scrolls to it)."""
    (index,) = [i for i in rows(sidebar) if i.data(KEY_ROLE) == key]
    sidebar.tree.scrollTo(index)
    return index


def table_texts(table, columns: range | None = None) -> list[list[str]]:
    cols = columns or range(table.columnCount())
    return [[table.item(r, c).text() for c in cols] for r in range(table.rowCount())]


def save_shot(widget, name: str) -> None:
    if SHOTS.is_dir():
        widget.grab().save(str(SHOTS / name))


def test_clicking_a_registry_collection_opens_its_page(qtbot, window, app_state):
    sidebar = window.sidebar
    section = row_with_key(sidebar, "registry")
    assert section.data(KIND_ROLE) == "registry" and section.data() == "Registry"
    collection = row_with_key(sidebar, "registry/scene-detector")
    assert collection.data(KIND_ROLE) == "registry-collection"
    links = [sidebar.proxy.index(r, 0, collection) for r in range(2)]
    assert [i.data() for i in links] == ["v1", "v0"]
    assert [i.data(CHIPS_ROLE) for i in links] == [("latest", "staging"), ("production",)]
    save_shot(sidebar, "registry-sidebar.png")

    click(qtbot, sidebar, collection)
    qtbot.waitUntil(lambda: isinstance(window.pages.currentWidget(), RegistryPage))
    page: RegistryPage = window.pages.currentWidget()
    assert tab_texts(window) == ["registry/scene-detector"]
    assert window.sidebar_dock.width() > 250  # the page leaves the sidebar its width
    assert page.collection == "scene-detector" and page.title.text() == "scene-detector"
    assert "promoted from the street-scenes project" in page.description.text()
    assert table_texts(page.versions, range(0, 4, 2)) == [
        ["v1", "street-scenes/scene-detector:v1"],
        ["v0", "street-scenes/scene-detector:v0"],
    ]
    chips = [page.versions.item(r, 1).data(ALIASES_ROLE) for r in range(2)]
    assert chips == [("latest", "staging"), ("production",)]
    assert table_texts(page.history, range(4)) == [
        ["staging", "v0", "v1", registry.current_user()],
        ["production", "—", "v0", registry.current_user()],
        ["staging", "—", "v0", registry.current_user()],
    ]
    # the lineage is the production version's: the model v0 and the run that trained it
    assert page.lineage is not None
    assert page.lineage.version.ref == "street-scenes/scene-detector:v0"
    assert "Lineage of production" in page.lineage_title.text()
    assert ("run", "train-baseline") in page.lineage.items
    save_shot(window, "registry-page.png")

    # a second click brings the same page forward
    click(qtbot, sidebar, collection)
    assert window.pages.count() == 1

    # clicking a linked version in the sidebar opens its source too
    click(qtbot, sidebar, row_with_key(sidebar, "registry/scene-detector:v1"))
    qtbot.waitUntil(
        lambda: (
            getattr(window.pages.currentWidget(), "version", None) is not None
            and window.pages.currentWidget().version.tag == "v1"
        )
    )

    window.pages.setCurrentWidget(page)
    # double-clicking a version opens its source version's page
    rect = page.versions.visualItemRect(page.versions.item(1, 0))
    # a double click is a press and release, then the double-click press
    qtbot.mouseClick(page.versions.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(page.versions.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: isinstance(window.pages.currentWidget(), VersionPage))
    assert window.pages.currentWidget().version.ref == "street-scenes/scene-detector:v0"


def page_menu(qtbot, page: RegistryPage, row: int) -> QMenu:
    pos: QPoint = page.versions.visualItemRect(page.versions.item(row, 0)).center()
    event = QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, pos, page.versions.viewport().mapToGlobal(pos)
    )
    QApplication.sendEvent(page.versions.viewport(), event)
    qtbot.waitUntil(lambda: page.menu is not None and page.menu.isVisible())
    return page.menu


def test_move_an_alias_and_unlink_from_the_page(qtbot, window, app_state):
    page = window.open_registry("scene-detector")
    menu = page_menu(qtbot, page, 0)  # v1
    menu_action(menu, "Move alias here…").trigger()
    dialog = page._dialog
    qtbot.waitUntil(dialog.isVisible)
    dialog.setTextValue("production")
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.history.rowCount() == 4)
    assert table_texts(page.history, range(3))[0] == ["production", "v0", "v1"]
    assert page.versions.item(0, 1).data(ALIASES_ROLE) == ("latest", "production", "staging")
    assert page.lineage.version.ref == "street-scenes/scene-detector:v1"  # follows production
    sidebar_v1 = row_with_key(window.sidebar, "registry/scene-detector:v1")
    assert sidebar_v1.data(CHIPS_ROLE) == ("latest", "production", "staging")

    menu = page_menu(qtbot, page, 0)
    menu_action(menu, "Unlink v1").trigger()
    assert table_texts(page.versions, range(1)) == [["v0"]]
    assert page.versions.item(0, 1).data(ALIASES_ROLE) == ("latest",)
    assert "Lineage of latest" in page.lineage_title.text()
    assert app_state.cache.resolve("street-scenes/scene-detector:v1").tag == "v1"  # stays


def test_link_a_version_from_the_sidebar_menu(qtbot, window, app_state):
    sidebar = window.sidebar
    menu = open_menu(qtbot, sidebar, "scene-predictions:v1")
    menu_action(menu, "Link to registry…").trigger()
    dialog = sidebar._dialog
    qtbot.waitUntil(dialog.isVisible)
    assert [dialog.combo.itemText(i) for i in range(dialog.combo.count())] == ["scene-detector"]
    dialog.combo.lineEdit().clear()
    qtbot.keyClicks(dialog.combo.lineEdit(), "street-predictions")
    qtbot.keyClicks(dialog.aliases_edit, "staging, candidate")
    save_shot(dialog, "registry-link-dialog.png")
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)

    link = registry.find_link(app_state.cache, "street-predictions", "staging")
    assert link.version.ref == "street-scenes/scene-predictions:v1"
    assert link.aliases == ("latest", "candidate", "staging")
    collection = row_with_key(sidebar, "registry/street-predictions")
    click(qtbot, sidebar, collection)
    qtbot.waitUntil(lambda: isinstance(window.pages.currentWidget(), RegistryPage))
    assert window.pages.currentWidget().collection == "street-predictions"
    assert window.pages.currentWidget().lineage.version.ref == link.version.ref

    # a bad collection name is refused with a message, nothing linked
    sidebar.link_to_registry(link.version, "a/b", [])
    assert "bad registry collection name" in sidebar._dialog.text()
    assert [c.name for c in registry.collections(app_state.cache)] == [
        "scene-detector",
        "street-predictions",
    ]


def test_a_removed_collection_says_so(qtbot, window, app_state):
    page = window.open_registry("scene-detector")
    registry.delete_collection(app_state.cache, "scene-detector")
    app_state.refresh()
    assert "no longer in the cache" in page.description.text()
    assert page.versions.rowCount() == 0 and page.lineage is None
    assert not [i for i in rows(window.sidebar) if i.data(KEY_ROLE) == "registry"]
