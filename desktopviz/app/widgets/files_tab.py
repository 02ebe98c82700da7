"""A version's Files tab: the file tree (size, digest) and a preview of the selected file: images
(zoom and pan), JSON (a collapsible tree), text and Markdown; table files open in the Table tab;
a reference to another artifact's file says where it points and opens the source.

Public API: :class:`FilesTab` (``FilesTab(state, version)``, ``select_path``, ``preview_kind``),
:func:`preview_kind_of`, :func:`local_bytes`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, QSize, Qt, Signal
from PySide6.QtGui import QShowEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTextBrowser,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from desktopviz.app.icons import file_icon, icon
from desktopviz.app.state import AppState
from desktopviz.app.theme import monospace_font
from desktopviz.app.widgets.overview import JsonTree
from desktopviz.app.workers import Worker, run_in_worker
from desktopviz.errors import DesktopvizError, NotFoundError
from desktopviz.formats.images import IMAGE_SUFFIXES
from desktopviz.formats.materialize import table_kind
from desktopviz.humanize import human_size
from desktopviz.model import FileEntry, Version
from desktopviz.store.cache import Cache

PATH_ROLE = Qt.ItemDataRole.UserRole + 1
"""The artifact path of a row (a folder's path ends with ``/``)."""
TEXT_SUFFIXES = (".txt", ".log", ".yaml", ".yml", ".py", ".cfg", ".toml", ".ini", ".xml", ".html")
MARKDOWN_SUFFIXES = (".md", ".markdown")
TEXT_PREVIEW_BYTES = 512 * 1024
JSON_PREVIEW_BYTES = 64 * 1024 * 1024


def preview_kind_of(path: str) -> str:
    """How a file previews: ``table``, ``image``, ``json``, ``markdown``, ``text`` or ``binary``."""
    low = path.lower()
    if table_kind(path):
        return "table"
    if low.endswith(tuple(IMAGE_SUFFIXES)):
        return "image"
    if low.endswith(".json"):
        return "json"
    if low.endswith(MARKDOWN_SUFFIXES):
        return "markdown"
    if low.endswith(TEXT_SUFFIXES) or "." not in low.rsplit("/", 1)[-1]:
        return "text"
    return "binary"


def local_bytes(cache: Cache, entry: FileEntry) -> Path | None:
    """Where a file's bytes are on disk: its own blob, else its reference's (None if absent)."""
    if entry.sha256 is not None:
        return cache.blobs.local_path(entry.sha256)
    if entry.ref_version_id is not None and entry.ref_path:
        try:
            return cache.file_path(entry.ref_version_id, entry.ref_path)
        except NotFoundError:
            return None
    return None


@dataclass(frozen=True)
class _Loaded:
    path: str
    kind: str
    value: Any
    truncated: bool = False


def _load(path: str, kind: str, local: Path) -> _Loaded:
    """Read a file for its preview (in a worker): parsed JSON or text."""
    size = local.stat().st_size
    if kind == "json" and size <= JSON_PREVIEW_BYTES:
        try:
            return _Loaded(path, kind, json.loads(local.read_bytes()))
        except ValueError as e:
            raise DesktopvizError(f"not valid JSON: {e}", file=path) from e
    with local.open("rb") as f:
        head = f.read(TEXT_PREVIEW_BYTES)
    if b"\0" in head[:8192]:
        return _Loaded(path, "binary", None)
    text_kind = "markdown" if kind == "markdown" else "text"
    return _Loaded(path, text_kind, head.decode("utf-8", "replace"), size > TEXT_PREVIEW_BYTES)


NARROW_TREE = 400
"""Below this width (pixels) the file tree hides its digest column."""


class FilesTab(QWidget):
    """File tree on the left, the selected file's header and preview on the right."""

    table_requested = Signal(str)
    """A table file was opened (clicked or Enter): its path in the version."""

    def __init__(self, state: AppState, version: Version, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.version = version
        self.entries: dict[str, FileEntry] = {}
        self.preview_kind = "none"
        """What the preview shows now (``image``, ``json``, ``text``, ``markdown``, ``table``,
        ``binary``, ``folder``, ``missing``, ``error``, ``loading`` or ``none``)."""
        self._worker: Worker | None = None

        self.model = QStandardItemModel(self)
        self.model.setHorizontalHeaderLabels(["Name", "Size", "Digest"])
        self.tree = QTreeView()
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setIconSize(QSize(16, 16))
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        self.tree.setAccessibleName("Files")

        self.name_label = QLabel()
        self.name_label.setObjectName("sectionTitle")
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info_label = QLabel()
        self.info_label.setObjectName("dimText")
        self.info_label.setWordWrap(True)
        self.info_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.ref_label = QLabel()
        self.ref_label.setWordWrap(True)
        self.open_source_button = QPushButton(icon("link"), "Open source")
        self.open_source_button.clicked.connect(self._open_source)
        ref_row = QHBoxLayout()
        ref_row.addWidget(self.ref_label, 1)
        ref_row.addWidget(self.open_source_button)

        from desktopviz.app.widgets.image_view import ImageView

        self.image_view = ImageView()
        image_page = QWidget()
        image_layout = QVBoxLayout(image_page)
        image_layout.setContentsMargins(0, 0, 0, 0)
        image_layout.setSpacing(0)
        image_layout.addWidget(self.image_view.make_toolbar())
        image_layout.addWidget(self.image_view, 1)
        self.json_tree = JsonTree()
        self.text_view = QPlainTextEdit()
        self.text_view.setReadOnly(True)
        self.text_view.setFont(monospace_font())
        self.markdown_view = QTextBrowser()
        self.markdown_view.setOpenExternalLinks(True)
        self.message = QLabel()
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setObjectName("dimText")
        table_page = QWidget()
        table_layout = QVBoxLayout(table_page)
        self.table_note = QLabel()
        self.table_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.table_note.setWordWrap(True)
        self.open_table_button = QPushButton(icon("table"), "Open in the Table tab")
        self.open_table_button.clicked.connect(lambda: self.table_requested.emit(self.current_path))
        table_layout.addStretch(1)
        table_layout.addWidget(self.table_note)
        table_layout.addWidget(self.open_table_button, 0, Qt.AlignmentFlag.AlignHCenter)
        table_layout.addStretch(1)
        self.stack = QStackedWidget()
        self._pages = {
            "image": image_page,
            "json": self.json_tree,
            "text": self.text_view,
            "markdown": self.markdown_view,
            "table": table_page,
            "message": self.message,
        }
        for page in self._pages.values():
            self.stack.addWidget(page)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(10, 6, 6, 6)
        right_layout.setSpacing(4)
        right_layout.addWidget(self.name_label)
        right_layout.addWidget(self.info_label)
        right_layout.addLayout(ref_row)
        right_layout.addWidget(self.stack, 1)

        splitter = self.splitter = QSplitter()
        splitter.addWidget(self.tree)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 11)
        splitter.setStretchFactor(1, 9)
        self._split_done = False
        self.tree.installEventFilter(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.current_path = ""
        self.tree.selectionModel().currentChanged.connect(self._current_changed)
        self.tree.clicked.connect(self._opened)
        self.tree.activated.connect(self._opened)
        self.set_version(version)

    # -- the tree ---------------------------------------------------------------------------
    def set_version(self, version: Version) -> None:
        """Show the files of ``version``."""
        self.version = version
        files = self.state.cache.files(version)
        self.entries = {f.path: f for f in files}
        self.model.removeRows(0, self.model.rowCount())
        folders: dict[str, QStandardItem] = {"": self.model.invisibleRootItem()}
        folder_sizes: dict[str, list[int]] = {}

        def folder(path: str) -> QStandardItem:
            if path not in folders:
                parent_path, _, name = path.rpartition("/")
                parent = folder(parent_path)
                item = self._row(parent, name, f"{path}/", icon("folder"))
                folders[path] = item
            return folders[path]

        for path in sorted(self.entries, key=lambda p: (p.count("/") == 0, p)):
            entry = self.entries[path]
            parent_path, _, name = path.rpartition("/")
            parent = folder(parent_path)
            self._row(parent, name, path, file_icon(path), entry)
            prefix = parent_path
            while prefix:
                counts = folder_sizes.setdefault(prefix, [0, 0])
                counts[0] += 1
                counts[1] += entry.size
                prefix = prefix.rpartition("/")[0]
        for path, item in folders.items():
            if path:
                count, size = folder_sizes.get(path, [0, 0])
                row = item.index().row()
                parent = item.parent() or self.model.invisibleRootItem()
                parent.child(row, 1).setText(human_size(size))
                parent.child(row, 2).setText(f"{count:,} file{'s' if count != 1 else ''}")
        self._size_columns()
        for row in range(self.model.rowCount()):
            if self.model.item(row).hasChildren() and self.model.rowCount() <= 3:
                self.tree.expand(self.model.index(row, 0))
        self.show_path("")
        first_file = next((p for p in self.entries if "/" not in p), None)
        if first_file is not None:
            self.select_path(first_file)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._split_done and self.width() > 0:
            self._split_done = True  # 55% for the tree, whatever the preview's own size hints
            self.splitter.setSizes([self.width() * 11 // 20, self.width() * 9 // 20])

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if obj is self.tree and event.type() == QEvent.Type.Resize:
            # a narrow tree drops the digest column (the preview header shows it) before names
            self.tree.setColumnHidden(2, self.tree.width() < NARROW_TREE)
        return super().eventFilter(obj, event)

    def _size_columns(self) -> None:
        """The name takes the room left by the size and (short) digest columns."""
        metrics = self.tree.fontMetrics()
        self.tree.setColumnWidth(1, metrics.horizontalAdvance("999.9 MB") + 20)
        self.tree.setColumnWidth(2, metrics.horizontalAdvance("01234567") + 16)

    @staticmethod
    def _row(
        parent: QStandardItem,
        name: str,
        path: str,
        row_icon: Any,
        entry: FileEntry | None = None,
    ) -> QStandardItem:
        item = QStandardItem(row_icon, name)
        item.setData(path, PATH_ROLE)
        item.setToolTip(path)
        size = QStandardItem(human_size(entry.size) if entry else "")
        size.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        digest = QStandardItem(_digest_text(entry) if entry else "")
        if entry is not None:
            digest.setToolTip(
                f"sha256 {entry.sha256 or '-'}\nW&B digest {entry.wandb_digest or '-'}"
            )
        if entry is not None and entry.ref:
            item.setIcon(icon("link"))
            item.setToolTip(f"{path}\nreference: {entry.ref}")
        parent.appendRow([item, size, digest])
        return item

    def select_path(self, path: str) -> bool:
        """Select ``path`` in the tree (expanding its folders); False if it is not there."""
        found = self.model.match(
            self.model.index(0, 0), PATH_ROLE, path, 1, Qt.MatchFlag.MatchRecursive
        )
        if not found:
            return False
        self.tree.setCurrentIndex(found[0])
        self.tree.scrollTo(found[0])
        return True

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.show_path(current.siblingAtColumn(0).data(PATH_ROLE) or "")

    def _opened(self, index: QModelIndex) -> None:
        path = index.siblingAtColumn(0).data(PATH_ROLE) or ""
        if preview_kind_of(path) == "table" and path in self.entries:
            self.table_requested.emit(path)

    # -- the preview ------------------------------------------------------------------------
    def show_path(self, path: str) -> None:
        """Show the header and preview of ``path`` (a file, or a folder ending in ``/``)."""
        self.current_path = path
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None
        self.name_label.setText(path or "")
        self.info_label.setText("")
        self._show_reference(None)
        if not path:
            self._show_message("Select a file to preview it.")
            return
        if path.endswith("/"):
            inside = [e for p, e in self.entries.items() if p.startswith(path)]
            size = sum(e.size for e in inside)
            files = f"{len(inside):,} file{'s' if len(inside) != 1 else ''}"
            self.info_label.setText(f"Folder · {files} · {human_size(size)}")
            self.info_label.setToolTip("")
            self._show_message(f"{files} in {path}", "folder")
            return
        entry = self.entries[path]
        self.info_label.setText(_info_text(entry))
        self.info_label.setToolTip(_info_text(entry, full=True))
        self._show_reference(entry)
        kind = preview_kind_of(path)
        if kind == "table":
            self._show_table_note(path)
            return
        if kind == "binary":
            self._show_message("No preview for this kind of file.", "binary")
            return
        local = local_bytes(self.state.cache, entry)
        if local is None or not local.is_file():
            self._show_message("The bytes of this file are not in the cache.", "missing")
            return
        if kind == "image":
            self.image_view.set_image(local)
            self.preview_kind = "image"
            self.stack.setCurrentWidget(self._pages["image"])
            return
        self._show_message("Loading…", "loading")
        self._worker = run_in_worker(
            _load, path, kind, local, on_result=self._loaded, on_error=self._failed
        )

    def _loaded(self, loaded: _Loaded) -> None:
        if loaded.path != self.current_path:
            return
        self._worker = None
        if loaded.kind == "json":
            self.json_tree.set_value(loaded.value, expand_depth=1)
        elif loaded.kind == "markdown":
            self.markdown_view.setMarkdown(loaded.value)
        elif loaded.kind == "text":
            note = "\n\n[… the rest of the file is not shown]" if loaded.truncated else ""
            self.text_view.setPlainText(loaded.value + note)
        else:
            self._show_message("No preview for this kind of file.", "binary")
            return
        self.preview_kind = loaded.kind
        self.stack.setCurrentWidget(self._pages[loaded.kind])

    def _failed(self, error: BaseException) -> None:
        if self._worker is None or self._worker.error is not error:
            return
        self._worker = None
        self._show_message(f"Cannot preview: {error}", "error")

    def _show_message(self, text: str, kind: str = "none") -> None:
        self.message.setText(text)
        self.preview_kind = kind
        self.stack.setCurrentWidget(self.message)

    def _show_table_note(self, path: str) -> None:
        info = next((t for t in self.state.cache.tables(self.version) if t.path == path), None)
        rows = f" with {info.num_rows:,} rows" if info else ""
        self.table_note.setText(f"{path} is a table{rows}.")
        self.open_table_button.setEnabled(info is not None)
        self.preview_kind = "table"
        self.stack.setCurrentWidget(self._pages["table"])

    def _show_reference(self, entry: FileEntry | None) -> None:
        source = None
        if entry is not None and entry.ref_version_id is not None:
            try:
                source = self.state.cache.version_by_id(entry.ref_version_id)
            except NotFoundError:
                source = None
        self._source = (source, entry.ref_path if entry else None)
        has_ref = entry is not None and bool(entry.ref)
        self.ref_label.setVisible(has_ref)
        self.open_source_button.setVisible(source is not None)
        if not has_ref:
            return
        if source is not None:
            self.ref_label.setText(f"Reference to {source.ref} · {entry.ref_path}")
        else:
            self.ref_label.setText(f"Reference to {entry.ref} (its artifact is not in the cache)")

    def _open_source(self) -> None:
        source, path = self._source
        if source is not None and path:
            self.state.file_requested.emit(source, path)


def _digest_text(entry: FileEntry) -> str:
    """The digest's first 8 characters (the preview header and tooltip show it whole)."""
    return (entry.sha256 or "")[:8] or (entry.wandb_digest or "")[:8]


def _info_text(entry: FileEntry, full: bool = False) -> str:
    parts = [human_size(entry.size)]
    if entry.sha256:
        parts.append(f"sha256 {entry.sha256 if full else entry.sha256[:16] + '…'}")
    if entry.wandb_digest:
        parts.append(f"W&B digest {entry.wandb_digest}")
    return ("\n" if full else " · ").join(parts)
