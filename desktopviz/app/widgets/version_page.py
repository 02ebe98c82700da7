"""One open version (a central tab of the main window): Overview, Files and Table tabs.

The Table tab holds one sub-tab per table file. Joined and partitioned tables appear as single
tables: the sides and parts they are made of (which the index also lists) get no sub-tab of their
own unless opened from the Files tab. Table panels are built when their sub-tab is first shown.

Public API: :class:`VersionPage` (``VersionPage(state, version)``, ``show_tab``, ``show_table``,
``show_file``, ``set_version``, ``current_tab``, ``table_panels``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QTabWidget, QVBoxLayout, QWidget

from desktopviz.app.icons import icon
from desktopviz.app.state import AppState
from desktopviz.app.widgets.files_tab import FilesTab
from desktopviz.app.widgets.overview import Overview, visible_tables
from desktopviz.model import Version
from desktopviz.store.cache import table_name

TABS = ("overview", "files", "table", "lineage")


class _TableSlot(QWidget):
    """A sub-tab of the Table tab: builds its TablePanel when first shown."""

    def __init__(self, state: AppState, version: Version, table: str) -> None:
        super().__init__()
        self.state = state
        self.version = version
        self.table = table
        self.panel = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def ensure_panel(self):  # noqa: ANN201 - a TablePanel (imported lazily)
        """The table panel, built on first use."""
        if self.panel is None:
            from desktopviz.app.widgets.table_panel import TablePanel

            self.panel = TablePanel(self.state, self.version, self.table, self)
            self._layout.addWidget(self.panel)
        return self.panel


class VersionPage(QWidget):
    """Overview, Files and Table tabs of one version."""

    def __init__(self, state: AppState, version: Version, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.version = version
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.overview = Overview(state, version)
        self.files = FilesTab(state, version)
        self.tables = QTabWidget()
        self.tables.setDocumentMode(True)
        self.tables.setTabPosition(QTabWidget.TabPosition.South)
        self.tables.setTabsClosable(False)
        self.no_tables = QLabel("This version holds no tables.")
        self.no_tables.setObjectName("dimText")
        self.no_tables.setAlignment(Qt.AlignmentFlag.AlignCenter)
        table_tab = QWidget()
        table_layout = QVBoxLayout(table_tab)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addWidget(self.tables)
        table_layout.addWidget(self.no_tables)
        self.tabs.addTab(self.overview, icon("overview"), "Overview")
        self.tabs.addTab(self.files, icon("folder"), "Files")
        self.tabs.addTab(table_tab, icon("table"), "Table")
        self.lineage_tab = QWidget()  # the graph is drawn when the tab is first shown
        QVBoxLayout(self.lineage_tab).setContentsMargins(0, 0, 0, 0)
        self.lineage = None
        self.tabs.addTab(self.lineage_tab, icon("link"), "Lineage")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)

        self.slots: dict[str, _TableSlot] = {}
        for info in visible_tables(state.cache.tables(version)):
            self._add_slot(info.path)
        self.no_tables.setVisible(not self.slots)
        self.tables.setVisible(bool(self.slots))

        self.overview.table_requested.connect(self.show_table)
        self.files.table_requested.connect(self.show_table)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.tables.currentChanged.connect(self._table_changed)

    def _add_slot(self, path: str) -> _TableSlot:
        slot = _TableSlot(self.state, self.version, path)
        self.slots[path] = slot
        self.tables.addTab(slot, icon("table"), table_name(path))
        self.tables.setTabToolTip(self.tables.indexOf(slot), path)
        return slot

    def set_version(self, version: Version) -> None:
        """Refresh what shows the version's own fields (after an alias change)."""
        self.version = version
        self.overview.set_version(version)

    # -- navigation -----------------------------------------------------------------------
    def current_tab(self) -> str:
        """``overview``, ``files`` or ``table``."""
        return TABS[self.tabs.currentIndex()]

    def show_tab(self, name: str) -> None:
        """Switch to a tab by name (``overview``, ``files``, ``table``)."""
        self.tabs.setCurrentIndex(TABS.index(name) if name in TABS else 0)
        self._tab_changed(self.tabs.currentIndex())

    def show_table(self, path: str | None = None):  # noqa: ANN201 - a TablePanel or None
        """Switch to the Table tab on ``path`` (default: the current sub-tab); return its panel.

        A table hidden as part of a joined or partitioned table gets its own sub-tab now.
        """
        if path is not None:
            known = {t.path for t in self.state.cache.tables(self.version)}
            if path not in known:
                path = next((p for p in sorted(known) if table_name(p) == path), None)
            if path is None:
                return None
            slot = self.slots.get(path) or self._add_slot(path)
            self.no_tables.hide()
            self.tables.show()
            self.tables.setCurrentWidget(slot)
        self.tabs.setCurrentIndex(TABS.index("table"))
        slot = self.tables.currentWidget()
        if slot is None:
            return None
        panel = slot.ensure_panel()
        self.state.focus_table(panel.table_state)
        self.state.table_changed.emit(self.version, slot.table)
        return panel

    def announce_table(self) -> None:
        """Tell the app which table is in front now: the Table tab's current table, or none
        (the Inspector and the Charts dock follow it)."""
        slot = self.tables.currentWidget() if self.current_tab() == "table" else None
        panel = slot.panel if slot is not None else None
        self.state.focus_table(panel.table_state if panel is not None else None)

    def show_file(self, path: str) -> bool:
        """Switch to the Files tab with ``path`` selected."""
        self.tabs.setCurrentIndex(TABS.index("files"))
        return self.files.select_path(path)

    def _tab_changed(self, index: int) -> None:
        QTimer.singleShot(0, self, self._focus_off_hidden)  # dropped if the page goes first
        if index == TABS.index("table") and self.tables.count():
            self.show_table()
        else:
            self.announce_table()
        if index == TABS.index("lineage") and self.lineage is None:
            from desktopviz.app.widgets.lineage_view import LineageView

            self.lineage = LineageView(self.state, self.version)
            self.lineage_tab.layout().addWidget(self.lineage)

    def _focus_off_hidden(self) -> None:
        """Keys (Ctrl+F, Ctrl+C...) must not go to a widget of a tab no longer shown."""
        focused = QApplication.focusWidget()
        if focused is not None and self.isAncestorOf(focused) and not focused.isVisible():
            self.tabs.currentWidget().setFocus(Qt.FocusReason.OtherFocusReason)
            if QApplication.focusWidget() is focused:
                focused.clearFocus()

    def _table_changed(self, _index: int) -> None:
        if self.tabs.currentIndex() == TABS.index("table"):
            self.show_table()

    def table_panels(self) -> list:
        """The table panels built so far."""
        return [s.panel for s in self.slots.values() if s.panel is not None]
