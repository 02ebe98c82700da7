"""A registry collection's page (a tab of the main window): its description, the versions linked
to it (number, alias chips, the source project and version, who linked it when) beside the
history of its alias moves, over the lineage of its ``production`` version (else ``latest``).
Double-click a version to open its source version; right-click to move an alias onto it or
unlink it. Also the "Link to registry…" dialog the sidebar's version menu opens.

Public API: :class:`RegistryPage` (``RegistryPage(state, collection)``, ``reload``,
``versions``, ``history``, ``lineage``), :class:`LinkDialog`.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktopviz import registry
from desktopviz.app.icons import icon
from desktopviz.app.palette import mute
from desktopviz.app.state import AppState
from desktopviz.app.theme import draw_chips
from desktopviz.app.widgets.dialogs import open_kept, warn
from desktopviz.app.widgets.lineage_view import LineageView
from desktopviz.errors import DesktopvizError, NotFoundError
from desktopviz.humanize import local_time_text
from desktopviz.model import Version

VERSION_COLUMNS = ("Version", "Aliases", "Source", "Type", "Linked", "By")
HISTORY_COLUMNS = ("Alias", "From", "To", "By", "When")
ALIASES_ROLE = Qt.ItemDataRole.UserRole + 1
"""The alias chips of a version row's Aliases cell."""
LINK_ROLE = Qt.ItemDataRole.UserRole + 2
"""The :class:`registry.Link` of a version row (on its first cell)."""
PROMOTED = "production"


class _ChipsDelegate(QStyledItemDelegate):
    """Draws a cell's aliases as chips."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        aliases = index.data(ALIASES_ROLE) or ()
        rect = opt.rect
        draw_chips(
            painter, rect.x() + 4, rect.center().y() + 0.5, aliases, opt.font, opt.palette,
            rect.right() - 2,
        )  # fmt: skip


def _table(columns: tuple[str, ...], name: str) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(columns))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return table


def _cell(text: str, tooltip: str | None = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setToolTip(tooltip or text)
    return item


class RegistryPage(QWidget):
    """One registry collection: versions, alias history and the promoted version's lineage."""

    def __init__(self, state: AppState, collection: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.collection = collection
        self.setObjectName("registryPage")
        self.title = QLabel(collection)
        self.title.setObjectName("pageTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.summary = mute(QLabel())
        self.summary.setWordWrap(True)  # the page must not push the sidebar aside
        self.versions = _table(VERSION_COLUMNS, "registryVersions")
        self.versions.setItemDelegateForColumn(1, _ChipsDelegate(self.versions))
        header = self.versions.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        self.versions.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.versions.setToolTip("Double-click a version to open its source version")
        self.history = _table(HISTORY_COLUMNS, "registryHistory")
        self.lineage_title = QLabel()
        self.lineage_title.setWordWrap(True)
        self.lineage_box = QWidget()
        lineage_layout = QVBoxLayout(self.lineage_box)
        lineage_layout.setContentsMargins(0, 0, 0, 0)
        lineage_layout.addWidget(self.lineage_title)
        self.lineage: LineageView | None = None
        self.menu: QMenu | None = None
        self._dialog: QWidget | None = None

        versions_box = self._titled("Versions", self.versions)
        history_box = self._titled("Alias history", self.history)
        upper = QSplitter(Qt.Orientation.Horizontal)  # the two tables side by side
        upper.addWidget(versions_box)
        upper.addWidget(history_box)
        upper.setSizes([600, 400])
        split = QSplitter(Qt.Orientation.Vertical)  # over the lineage, full width
        split.addWidget(upper)
        split.addWidget(self.lineage_box)
        split.setSizes([260, 520])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 12)
        layout.addWidget(self.title)
        layout.addWidget(self.description)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)

        self.versions.cellDoubleClicked.connect(lambda row, _col: self.open_source(row))
        self.versions.customContextMenuRequested.connect(self._show_menu)
        state.cache_changed.connect(self.reload)
        self.reload()

    @staticmethod
    def _titled(title: str, widget: QWidget) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 6, 0, 0)
        label = QLabel(f"<b>{title}</b>")
        layout.addWidget(label)
        layout.addWidget(widget, 1)
        return box

    # -- showing ---------------------------------------------------------------------------
    def links(self) -> list[registry.Link]:
        """The versions linked to the collection, newest first (as shown)."""
        return [self.versions.item(r, 0).data(LINK_ROLE) for r in range(self.versions.rowCount())]

    def reload(self) -> None:
        """Show the collection as the cache holds it now (a removed one says so)."""
        cache = self.state.cache
        try:
            info = registry.collection(cache, self.collection)
            links = registry.links(cache, self.collection)
            moves = registry.alias_history(cache, self.collection)
        except NotFoundError:
            self.description.setText("This registry collection is no longer in the cache.")
            self.summary.clear()
            self.versions.setRowCount(0)
            self.history.setRowCount(0)
            self._show_lineage(None, "")
            return
        self.description.setText(info.description or "")
        self.description.setVisible(bool(info.description))
        sources = {link.version.project for link in links}
        self.summary.setText(
            f"Registry collection · {len(links)} version{'s' * (len(links) != 1)} linked from "
            f"{', '.join(sorted(sources)) or 'no project'} · created "
            f"{local_time_text(info.created_at)} · reference registry/{self.collection}:<vN|alias>"
        )
        self.versions.setRowCount(len(links))
        for row, link in enumerate(reversed(links)):
            v = link.version
            first = _cell(link.tag, link.ref)
            first.setData(LINK_ROLE, link)
            self.versions.setItem(row, 0, first)
            chips = _cell("", ", ".join(link.aliases))
            chips.setData(ALIASES_ROLE, link.aliases)
            self.versions.setItem(row, 1, chips)
            self.versions.setItem(row, 2, _cell(v.ref, v.description or v.ref))
            self.versions.setItem(row, 3, _cell(v.type))
            self.versions.setItem(row, 4, _cell(local_time_text(link.linked_at)))
            self.versions.setItem(row, 5, _cell(link.linked_by or "?"))
        metrics = self.versions.fontMetrics()
        widest = max(
            (sum(metrics.horizontalAdvance(a) + 18 for a in k.aliases) for k in links), default=0
        )
        self.versions.setColumnWidth(1, max(80, widest + 8))
        self.history.setRowCount(len(moves))
        for row, move in enumerate(reversed(moves)):
            cells = (
                move.alias,
                "—" if move.from_number is None else f"v{move.from_number}",
                "—" if move.to_number is None else f"v{move.to_number}",
                move.moved_by or "?",
                local_time_text(move.moved_at),
            )
            for col, text in enumerate(cells):
                self.history.setItem(row, col, _cell(text))
        promoted = next((k for k in links if PROMOTED in k.aliases), None)
        shown = promoted or (links[-1] if links else None)
        which = PROMOTED if promoted else "latest (no production alias)"
        self._show_lineage(
            shown.version if shown else None,
            f"<b>Lineage of {which}</b>: {shown.tag} = {shown.version.ref}" if shown else "",
        )

    def _show_lineage(self, version: Version | None, title: str) -> None:
        self.lineage_title.setText(title or "<b>Lineage</b>: no version linked")
        if self.lineage is not None and (version is None or self.lineage.version.id != version.id):
            self.lineage.setParent(None)
            self.lineage.deleteLater()
            self.lineage = None
        if version is not None and self.lineage is None:
            self.lineage = LineageView(self.state, version)
            self.lineage_box.layout().addWidget(self.lineage, 1)
        elif self.lineage is not None:
            self.lineage.rebuild()

    # -- acting --------------------------------------------------------------------------------
    def open_source(self, row: int) -> None:
        """Open the source version of the version row ``row``."""
        link = self.versions.item(row, 0).data(LINK_ROLE)
        self.state.open_version_requested.emit(link.version, "overview")

    def _show_menu(self, pos: QPoint) -> None:
        item = self.versions.itemAt(pos)
        if item is None:
            return
        link = self.versions.item(item.row(), 0).data(LINK_ROLE)
        menu = QMenu(self)
        menu.addAction(
            icon("open"), f"Open {link.version.ref}", lambda: self.open_source(item.row())
        )
        menu.addAction(icon("alias"), "Move alias here…", lambda: self.ask_alias(link))
        menu.addSeparator()
        menu.addAction(icon("delete"), f"Unlink {link.tag}", lambda: self.unlink(link))
        self.menu = menu
        menu.popup(self.versions.viewport().mapToGlobal(pos))

    def ask_alias(self, link: registry.Link) -> QInputDialog:
        """Ask for an alias to move onto ``link`` (non-blocking)."""
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Move alias")
        dialog.setLabelText(f"Alias to move onto {link.ref}:")
        dialog.setComboBoxEditable(True)
        dialog.setComboBoxItems([PROMOTED, "staging"])
        dialog.textValueSelected.connect(lambda text: self.move_alias(link, text))
        return open_kept(self, dialog)

    def move_alias(self, link: registry.Link, alias: str) -> None:
        """Move ``alias`` onto ``link`` (recorded in the history)."""
        try:
            registry.set_alias(self.state.cache, link, alias)
        except DesktopvizError as e:
            warn(self, "Cannot move alias", str(e))
            return
        self.state.refresh()
        self.state.status_message.emit(f"{alias} → {link.ref}")

    def unlink(self, link: registry.Link) -> None:
        """Remove ``link`` from the collection (its source version stays)."""
        registry.unlink(self.state.cache, link)
        self.state.refresh()
        self.state.status_message.emit(f"Unlinked {link.ref}")


class LinkDialog(QDialog):
    """Ask for a registry collection (an editable list of those there are) and aliases."""

    def __init__(self, version: Version, known: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Link to registry")
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.addItems(known)
        self.combo.setCurrentText(known[0] if known else version.name)
        self.aliases_edit = QLineEdit()
        self.aliases_edit.setPlaceholderText("staging, production (optional)")
        note = QLabel(
            f"Link <b>{version.ref}</b> to a registry collection (made if new). No bytes are "
            "copied; an alias another version of the collection holds moves here."
        )
        note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Collection", self.combo)
        form.addRow("Aliases", self.aliases_edit)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)

    def collection(self) -> str:
        """The collection typed or picked."""
        return self.combo.currentText().strip()

    def aliases(self) -> list[str]:
        """The aliases typed (comma or space separated)."""
        return [a for a in self.aliases_edit.text().replace(",", " ").split() if a]
