"""The artifact sidebar (left dock): project -> artifact type -> artifact -> versions, each version
with its alias chips, size and age; a search box filtering the tree; a context menu per version
(open, add/move/remove alias, compare, copy reference, export, delete).

Public API: :class:`Sidebar` (``Sidebar(state)``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import (
    QModelIndex,
    QPoint,
    QRect,
    QSize,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QFont,
    QFontMetrics,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPalette,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from desktopviz.app.icons import icon, type_icon
from desktopviz.app.state import AppState
from desktopviz.app.theme import draw_chips
from desktopviz.app.widgets.compare_bar import compare_targets
from desktopviz.app.widgets.dialogs import open_kept, warn
from desktopviz.app.widgets.search_results import SearchResults
from desktopviz.app.workers import run_in_worker
from desktopviz.errors import DesktopvizError
from desktopviz.humanize import age_text, human_size, local_time_text
from desktopviz.model import Version

KIND_ROLE = Qt.ItemDataRole.UserRole + 1
"""``project``, ``type``, ``artifact`` or ``version``; ``registry`` (the Registry section),
``registry-collection`` or ``registry-link`` (a version linked to a registry collection)."""
VERSION_ROLE = Qt.ItemDataRole.UserRole + 2
"""The :class:`Version` of a version row."""
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 3
"""Lower-case text a search matches: the row's own words and its ancestors'."""
KEY_ROLE = Qt.ItemDataRole.UserRole + 4
"""A stable key of the row (kept across rebuilds: expansion and selection)."""
DETAIL_ROLE = Qt.ItemDataRole.UserRole + 5
"""Dim text drawn right-aligned: size and age of a version, version count of an artifact."""
CHIPS_ROLE = Qt.ItemDataRole.UserRole + 6
"""Alias chips of a row that are not its version's own (a registry link's aliases)."""
LINKED_ROLE = Qt.ItemDataRole.UserRole + 7
"""The source :class:`Version` of a registry link's row (clicking opens it)."""


class _TreeFilter(QSortFilterProxyModel):
    """Keeps rows whose (own and ancestors') words contain every word of the query; their
    ancestors stay to show where they are."""

    def __init__(self) -> None:
        super().__init__()
        self._words: list[str] = []
        self.setRecursiveFilteringEnabled(True)

    def set_query(self, text: str) -> None:
        self.beginFilterChange()
        self._words = text.lower().split()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex) -> bool:  # noqa: N802
        if not self._words:
            return True
        index = self.sourceModel().index(source_row, 0, source_parent)
        text = index.data(SEARCH_ROLE) or ""
        return all(w in text for w in self._words)


class _RowDelegate(QStyledItemDelegate):
    """Draws a row's name, then alias chips (versions), then dim details right-aligned."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        size = super().sizeHint(option, index)
        return QSize(size.width(), max(size.height(), QFontMetrics(option.font).height() + 10))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        name = opt.text
        opt.text = ""
        style = opt.widget.style() if opt.widget else QGuiApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        text_rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, opt.widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        palette = opt.palette
        text_colour = palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        dim = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.PlaceholderText
        detail = index.data(DETAIL_ROLE) or ""
        metrics = QFontMetrics(opt.font)
        detail_width = metrics.horizontalAdvance(detail) + 8 if detail else 0
        right = text_rect.right() - detail_width

        painter.save()
        painter.setFont(opt.font)
        painter.setPen(text_colour)
        shown = metrics.elidedText(name, Qt.TextElideMode.ElideRight, max(0, right - text_rect.x()))
        painter.drawText(
            QRect(text_rect.x(), text_rect.y(), right - text_rect.x(), text_rect.height()),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            shown,
        )
        version: Version | None = index.data(VERSION_ROLE)
        chips = index.data(CHIPS_ROLE) or (version.aliases if version is not None else ())
        if chips:
            x = text_rect.x() + metrics.horizontalAdvance(shown) + 8
            draw_chips(painter, x, text_rect.center().y() + 0.5, chips, opt.font, palette, right)
        if detail:
            painter.setPen(palette.color(dim))
            painter.drawText(
                text_rect.adjusted(0, 0, -2, 0),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                detail,
            )
        painter.restore()


class AliasDialog(QDialog):
    """Ask for an alias to put on a version (an editable list of the artifact's aliases)."""

    def __init__(self, version: Version, known: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add or move alias")
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.addItems(known)
        self.combo.setCurrentText("")
        self.combo.lineEdit().setPlaceholderText("production")
        note = QLabel(
            f"Put an alias on <b>{version.name}:{version.tag}</b>. An alias another version of "
            "this artifact holds moves here."
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.combo)
        layout.addWidget(buttons)
        self.setMinimumWidth(360)

    def alias(self) -> str:
        """The alias typed or picked."""
        return self.combo.currentText().strip()


class Sidebar(QWidget):
    """The artifact tree with its search box. Clicking a version (or Enter) opens its page."""

    version_activated = Signal(object)
    """A version was clicked or Enter was pressed on it (after ``open_version_requested``)."""
    registry_requested = Signal(str)
    """A registry collection was clicked: open its page (the collection's name)."""
    project_requested = Signal(str)
    report_requested = Signal(int)
    """A report row was activated (its id)."""
    """A project row was clicked: open its page (the project's name)."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.search = QLineEdit()
        self.search.setObjectName("searchBox")
        self.search.setPlaceholderText("Search artifacts, versions, runs, tables…")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.model = QStandardItemModel(self)
        self.proxy = _TreeFilter()
        self.proxy.setSourceModel(self.model)
        self.tree = _Tree()
        self.tree.setModel(self.proxy)
        self.tree.setHeaderHidden(True)
        self.tree.setItemDelegate(_RowDelegate(self.tree))
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.setExpandsOnDoubleClick(True)
        self.tree.setAnimated(False)
        self.tree.setIconSize(QSize(16, 16))
        self.tree.setIndentation(14)
        self.tree.setAccessibleName("Artifacts")
        self.empty_note = QLabel("No artifacts yet.\nDrop files or folders on the window.")
        self.empty_note.setObjectName("dimText")
        self.empty_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.search)
        self.results = SearchResults(state)
        """Ranked hits of the search box (desktopviz.search), over the filtered tree."""
        self.results.attach(self.search)
        layout.addWidget(self.results)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.empty_note)
        self.menu: QMenu | None = None
        self._dialog: QDialog | None = None
        self._workers: list = []

        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._focus_first_match)
        self.results.project_requested.connect(self.project_requested)
        self.results.registry_requested.connect(self.registry_requested)
        self.results.hit_activated.connect(self._show_hit)
        self.tree.clicked.connect(self._activate)
        self.tree.enter_pressed.connect(self._activate)
        self.tree.delete_pressed.connect(self._delete_current)
        self.tree.copy_pressed.connect(self._copy_current)
        self.tree.customContextMenuRequested.connect(self._show_menu)
        state.cache_changed.connect(self.reload)
        state.version_changed.connect(self.select_version)
        self.reload()

    # -- building the tree ----------------------------------------------------------------
    def reload(self) -> None:
        """Rebuild the tree from the cache, keeping expansion, the current row, the scroll position
        and the filter; rows new since the last load come expanded (an import shows)."""
        known = {i.data(KEY_ROLE) for i in self._walk()}
        expanded = self._expanded_keys()
        first_load = self.model.rowCount() == 0
        current = self.tree.currentIndex().data(KEY_ROLE)
        scroll = self.tree.verticalScrollBar().value()
        self.model.clear()
        versions = self.state.cache.versions()
        by_collection: dict[tuple[str, str, str], list[Version]] = {}
        for v in versions:
            by_collection.setdefault((v.project, v.type, v.name), []).append(v)
        projects: dict[str, QStandardItem] = {}
        types: dict[tuple[str, str], QStandardItem] = {}
        for (project, kind, name), found in sorted(by_collection.items()):
            if project not in projects:
                projects[project] = self._item("project", project, project, [project])
                projects[project].setIcon(icon("project"))
                bold = QFont()
                bold.setWeight(QFont.Weight.DemiBold)
                projects[project].setFont(bold)
                self.model.appendRow(projects[project])
            if (project, kind) not in types:
                item = self._item("type", kind, f"{project}/{kind}", [project, kind])
                item.setIcon(type_icon(kind))
                types[project, kind] = item
                projects[project].appendRow(item)
            count = len(found)
            artifact = self._item(
                "artifact", name, f"{project}/{kind}/{name}", [project, kind, name]
            )
            artifact.setData(f"{count} version{'s' if count != 1 else ''}", DETAIL_ROLE)
            artifact.setToolTip(f"{project}/{name} ({kind})")
            types[project, kind].appendRow(artifact)
            for v in reversed(found):
                words = [project, kind, name, v.tag, *v.aliases]
                row = self._item("version", v.tag, f"v{v.id}", words)
                row.setData(v, VERSION_ROLE)
                detail = f"{human_size(v.size)} · {age_text(v.created_at, suffix='')}"
                if not v.downloaded:  # synced as catalog only
                    detail = f"not downloaded · {human_size(v.size)}"
                    row.setForeground(self.palette().color(QPalette.ColorRole.PlaceholderText))
                row.setData(detail, DETAIL_ROLE)
                row.setToolTip(_version_tooltip(v))
                artifact.appendRow(row)
        self._add_report_rows(projects)
        self._add_registry_rows()
        self.empty_note.setVisible(not versions)
        self.tree.setVisible(bool(versions))
        if first_load:
            self.tree.expandAll()
        else:
            for index in self._walk():
                key = index.data(KEY_ROLE)
                if key in expanded or key not in known:
                    self.tree.expand(index)
        index = self._index_of(current) if current is not None else None
        if index is not None:
            self.tree.setCurrentIndex(index)
        self.tree.verticalScrollBar().setValue(scroll)

    @staticmethod
    def _item(kind: str, text: str, key: str, words: list[str]) -> QStandardItem:
        item = QStandardItem(text)
        item.setEditable(False)
        item.setData(kind, KIND_ROLE)
        item.setData(key, KEY_ROLE)
        item.setData(" ".join(words).lower(), SEARCH_ROLE)
        return item

    def _walk(self, parent: QModelIndex | None = None):  # noqa: ANN202 - generator of indexes
        parent = parent or QModelIndex()
        for row in range(self.proxy.rowCount(parent)):
            index = self.proxy.index(row, 0, parent)
            yield index
            yield from self._walk(index)

    def _expanded_keys(self) -> set[str]:
        return {i.data(KEY_ROLE) for i in self._walk() if self.tree.isExpanded(i)}

    def _index_of(self, key: str) -> QModelIndex | None:
        """The (shown) row whose KEY_ROLE is ``key``."""
        matches = self.proxy.match(
            self.proxy.index(0, 0), KEY_ROLE, key, 1, Qt.MatchFlag.MatchRecursive
        )
        return matches[0] if matches else None

    def _filter(self, text: str) -> None:
        self.proxy.set_query(text)
        if text.strip():
            self.tree.expandAll()
        if not self.tree.currentIndex().isValid():
            first = next((i for i in self._walk() if i.data(KIND_ROLE) == "version"), None)
            if first is not None:
                self.tree.setCurrentIndex(first)

    def _focus_first_match(self) -> None:
        """Enter in the search box: open the best hit (and show a version's row in the tree);
        without hits, go to the tree's first match."""
        if self.results.open_current() is not None:
            return
        self.tree.setFocus()
        if not self.tree.currentIndex().isValid():
            first = next(self._walk(), None)
            if first is not None:
                self.tree.setCurrentIndex(first)

    def _show_hit(self, hit) -> None:  # noqa: ANN001 - a desktopviz.search.Hit
        if hit.kind == "version":
            self.select_version(self.state.cache.version_by_id(int(hit.key)))
            self.tree.setFocus()

    # -- selection ----------------------------------------------------------------------------
    def current_version(self) -> Version | None:
        """The version row that is current (None for other rows)."""
        return self.tree.currentIndex().data(VERSION_ROLE)

    def select_version(self, version: Version | None) -> None:
        """Make ``version``'s row current (expanding its parents) without opening it."""
        if version is None:
            return
        index = self._index_of(f"v{version.id}")
        if index is not None:
            parent = index.parent()
            while parent.isValid():
                self.tree.expand(parent)
                parent = parent.parent()
            self.tree.setCurrentIndex(index)
            self.tree.scrollTo(index)

    def _activate(self, index: QModelIndex) -> None:
        if index.data(KIND_ROLE) == "project":
            self.project_requested.emit(index.data(Qt.ItemDataRole.DisplayRole))
            return
        if index.data(KIND_ROLE) == "registry-collection":
            self.registry_requested.emit(index.data(Qt.ItemDataRole.DisplayRole))
            return
        if index.data(KIND_ROLE) == "report":
            self.report_requested.emit(int(index.data(KEY_ROLE).removeprefix("report/")))
            return
        version = index.data(VERSION_ROLE) or index.data(LINKED_ROLE)
        if version is None:
            return
        self.state.open_version_requested.emit(version, "overview")
        self.version_activated.emit(version)

    # -- context menu -----------------------------------------------------------------------
    def menu_for(self, version: Version) -> QMenu:
        """The context menu of a version row."""
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        for label, tab, name in (
            ("Open", "overview", "open"),
            ("Open files", "files", "folder-open"),
            ("Open table", "table", "table"),
        ):
            action = menu.addAction(icon(name), label)
            action.triggered.connect(
                lambda _=False, t=tab: self.state.open_version_requested.emit(version, t)
            )
        menu.addSeparator()
        menu.addAction(icon("alias"), "Add or move alias…", lambda: self.ask_alias(version))
        user_aliases = [a for a in version.aliases if a != "latest"]
        remove = menu.addMenu("Remove alias")
        remove.setEnabled(bool(user_aliases))
        for alias in user_aliases:
            remove.addAction(alias, lambda a=alias: self.remove_alias(version, a))
        menu.addAction(icon("link"), "Link to registry…", lambda: self.ask_link(version))
        compare = menu.addMenu(icon("compare"), "Compare with")
        cache = self.state.cache
        others = [v for v in compare_targets(cache, version) if cache.tables(v)]
        compare.setEnabled(bool(others) and bool(cache.tables(version)))
        compare.setToolTip(
            "Its table against another version's, row by row"
            if others
            else "No other version of this artifact has a table"
        )
        for other in others:
            aliases = f"  ({', '.join(other.aliases)})" if other.aliases else ""
            compare.addAction(
                f"{other.tag}{aliases}",
                lambda o=other: self.state.compare_requested.emit(version, o),
            )
        menu.addSeparator()
        copy = menu.addAction(icon("copy"), "Copy reference", lambda: self.copy_reference(version))
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        menu.addAction(icon("export"), "Export as W&B folder…", lambda: self.ask_export(version))
        menu.addSeparator()
        delete = menu.addAction(icon("delete"), "Delete version…", lambda: self.ask_delete(version))
        delete.setShortcut(QKeySequence.StandardKey.Delete)
        return menu

    def _show_menu(self, pos: QPoint) -> None:
        index = self.tree.indexAt(pos)
        version = index.data(VERSION_ROLE)
        if version is None:
            return
        self.tree.setCurrentIndex(index)
        self.menu = self.menu_for(version)
        self.menu.popup(self.tree.viewport().mapToGlobal(pos))

    # -- actions ------------------------------------------------------------------------------
    def copy_reference(self, version: Version) -> None:
        """Put ``project/name:vN`` on the clipboard."""
        QGuiApplication.clipboard().setText(version.ref)
        self.state.status_message.emit(f"Copied {version.ref}")

    def _copy_current(self) -> None:
        version = self.current_version()
        if version is not None:
            self.copy_reference(version)

    def ask_alias(self, version: Version) -> AliasDialog:
        """Open the alias dialog (non-blocking); OK sets the alias."""
        known = sorted(
            {a for v in self.state.cache.versions(version.project, version.name) for a in v.aliases}
            - {"latest"}
            | {"production", "staging"}
        )
        dialog = AliasDialog(version, known, self)
        dialog.accepted.connect(lambda: self.set_alias(version, dialog.alias()))
        return open_kept(self, dialog)

    def set_alias(self, version: Version, alias: str) -> None:
        """Point ``alias`` at ``version`` (moving it), telling the user what went wrong if not."""
        try:
            self.state.cache.set_alias(version, alias)
        except DesktopvizError as e:
            warn(self, "Cannot set alias", str(e))
            return
        self.state.refresh()
        self.state.status_message.emit(f"{alias} → {version.name}:{version.tag}")

    def remove_alias(self, version: Version, alias: str) -> None:
        """Take ``alias`` off ``version``."""
        self.state.cache.remove_alias(version, alias)
        self.state.refresh()

    # -- the registry -------------------------------------------------------------------------
    def _add_report_rows(self, projects: dict[str, QStandardItem]) -> None:
        """Each project's reports, under a *Reports* node of the project."""
        from desktopviz import reports

        nodes: dict[str, QStandardItem] = {}
        for r in reports.list_reports(self.state.cache):
            if r.project not in projects:
                continue
            if r.project not in nodes:
                node = self._item("reports", "reports", f"{r.project}/reports", [r.project])
                node.setIcon(icon("file-text"))
                nodes[r.project] = node
                projects[r.project].appendRow(node)
            row = self._item("report", r.name, f"report/{r.id}", [r.project, "report", r.name])
            row.setIcon(icon("file-text"))
            row.setData(f"{r.block_count} block{'s' * (r.block_count != 1)}", DETAIL_ROLE)
            row.setToolTip(f"Report {r.ref}: click to open it")
            nodes[r.project].appendRow(row)
        for node in nodes.values():
            count = node.rowCount()
            node.setData(f"{count} report{'s' * (count != 1)}", DETAIL_ROLE)

    def _add_registry_rows(self) -> None:
        """The Registry section: collections -> linked versions (their source and aliases)."""
        from desktopviz import registry

        found = registry.collections(self.state.cache)
        if not found:
            return
        section = self._item("registry", "Registry", "registry", ["registry"])
        section.setIcon(icon("link"))
        bold = QFont()
        bold.setWeight(QFont.Weight.DemiBold)
        section.setFont(bold)
        section.setToolTip("Collections of versions promoted from projects (model registry)")
        self.model.appendRow(section)
        for c in found:
            words = ["registry", c.name, *(a for a, _ in c.aliases)]
            item = self._item("registry-collection", c.name, f"registry/{c.name}", words)
            item.setIcon(icon("version"))
            item.setData(f"{c.link_count} version{'s' * (c.link_count != 1)}", DETAIL_ROLE)
            item.setToolTip(f"registry/{c.name}: {c.description or 'click to open its page'}")
            section.appendRow(item)
            for link in reversed(registry.links(self.state.cache, c.name)):
                v = link.version
                text = link.tag
                words = ["registry", c.name, link.tag, v.project, v.name, v.tag, *link.aliases]
                row = self._item("registry-link", text, link.ref, words)
                row.setIcon(type_icon(v.type))
                row.setData(v, LINKED_ROLE)
                row.setData(link.aliases, CHIPS_ROLE)
                row.setData(f"{v.name}:{v.tag}", DETAIL_ROLE)  # the source; its project below
                row.setToolTip(f"<b>{link.ref}</b> → {v.ref}<br>{_version_tooltip(v)}")
                item.appendRow(row)

    def ask_link(self, version: Version) -> QDialog:
        """Open the Link to registry dialog (non-blocking); OK links the version."""
        from desktopviz import registry
        from desktopviz.app.widgets.registry_page import LinkDialog

        known = [c.name for c in registry.collections(self.state.cache)]
        dialog = LinkDialog(version, known, self)
        dialog.accepted.connect(
            lambda: self.link_to_registry(version, dialog.collection(), dialog.aliases())
        )
        return open_kept(self, dialog)

    def link_to_registry(self, version: Version, collection: str, aliases: list[str]) -> None:
        """Link ``version`` to registry ``collection`` with ``aliases`` (no bytes copied)."""
        from desktopviz import registry

        try:
            link = registry.link_version(self.state.cache, version, collection, aliases)
        except DesktopvizError as e:
            warn(self, "Cannot link to registry", str(e))
            return
        self.state.refresh()
        self.state.status_message.emit(f"Linked {version.ref} as {link.ref}")

    def ask_delete(self, version: Version) -> QMessageBox:
        """Ask before deleting (non-blocking); Delete deletes."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Delete version")
        box.setText(f"Delete {version.name}:{version.tag}?")
        moves = (
            " The alias latest moves to the previous version."
            if "latest" in version.aliases
            else ""
        )
        box.setInformativeText(
            f"{version.ref} and its aliases leave the cache.{moves} This cannot be undone; "
            "its files are freed by “desktopviz gc”."
        )
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(
            lambda button: self.delete_version(version) if button is delete else None
        )
        return open_kept(self, box)

    def delete_version(self, version: Version) -> None:
        """Delete ``version`` from the cache (no question asked)."""
        try:
            self.state.cache.delete_version(version)
        except DesktopvizError as e:
            warn(self, "Cannot delete version", str(e))
            return
        self.state.refresh()
        self.state.status_message.emit(f"Deleted {version.ref}")

    def _delete_current(self) -> None:
        version = self.current_version()
        if version is not None:
            self.ask_delete(version)

    def ask_export(self, version: Version) -> None:
        """Choose a folder, then write the version there as a W&B download folder."""
        folder = QFileDialog.getExistingDirectory(self, f"Export {version.name}:{version.tag} to")
        if folder:
            self.export(version, Path(folder))

    def export(self, version: Version, folder: Path) -> None:
        """Write ``folder/<name>:vN`` (``-`` instead of ``:`` on Windows) in a worker."""
        from desktopviz.sdk.artifact import export_download_folder

        sep = "-" if QGuiApplication.platformName() == "windows" else ":"
        target = folder / f"{version.name}{sep}{version.tag}"
        self.state.status_message.emit(f"Exporting {version.ref} to {target}…")
        worker = run_in_worker(
            export_download_folder,
            self.state.cache,
            version,
            target,
            on_result=lambda path: self.state.status_message.emit(f"Exported to {path}"),
            on_error=lambda e: warn(self, "Export failed", str(e)),
            owner=self,
        )
        self._workers = [w for w in self._workers if not w.is_done] + [worker]


class _Tree(QTreeView):
    """The tree with the keys a user expects: Enter opens, Delete deletes, Ctrl+C copies."""

    enter_pressed = Signal(QModelIndex)
    delete_pressed = Signal()
    copy_pressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        index = self.currentIndex()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and index.isValid():
            if index.data(VERSION_ROLE) is None:
                self.setExpanded(index, not self.isExpanded(index))
            else:
                self.enter_pressed.emit(index)
            return
        if event.matches(QKeySequence.StandardKey.Delete):
            self.delete_pressed.emit()
            return
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_pressed.emit()
            return
        super().keyPressEvent(event)


def _version_tooltip(v: Version) -> str:
    lines = [f"<b>{v.ref}</b>"]
    if v.aliases:
        lines.append("aliases: " + ", ".join(v.aliases))
    lines.append(
        f"{v.file_count} files, {human_size(v.size)}, created {local_time_text(v.created_at)}"
    )
    if v.description:
        lines.append(v.description)
    return "<br>".join(lines)
