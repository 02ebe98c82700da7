"""The start page (central area when no version is open): a welcome on an empty cache, a drop
zone, "Import folder…", "Import files…" and "Open demo project".

Public API: :class:`StartPage` (``StartPage(state)``, ``refresh``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktopviz.app.icons import app_icon, icon
from desktopviz.app.state import AppState
from desktopviz.app.widgets.import_dialog import dropped_paths

WHAT_IMPORTS = (
    "W&B artifact folders and offline runs, *.table.json, CSV, Parquet, JSON Lines, "
    "folders of images"
)


class StartPage(QWidget):
    """Welcome, drop zone and the first actions."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setAcceptDrops(True)
        logo = QLabel()
        logo.setPixmap(app_icon().pixmap(QSize(72, 72)))
        logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel()
        self.title.setObjectName("pageTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.subtitle = QLabel()
        self.subtitle.setObjectName("dimText")
        self.subtitle.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.subtitle.setWordWrap(True)

        self.drop_zone = QFrame()
        self.drop_zone.setObjectName("dropZone")
        self.drop_zone.setMinimumSize(460, 170)
        zone = QVBoxLayout(self.drop_zone)
        zone.setContentsMargins(28, 24, 28, 24)
        zone.setSpacing(6)
        drop_icon = QLabel()
        drop_icon.setPixmap(icon("import").pixmap(QSize(36, 36)))
        drop_icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        drop_title = QLabel("Drop files or folders here")
        drop_title.setObjectName("dropTitle")
        drop_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        drop_hint = QLabel(WHAT_IMPORTS)
        drop_hint.setObjectName("dimText")
        drop_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        drop_hint.setWordWrap(True)
        zone.addStretch(1)
        zone.addWidget(drop_icon)
        zone.addWidget(drop_title)
        zone.addWidget(drop_hint)
        zone.addStretch(1)

        self.import_folder_button = QPushButton(icon("folder-open"), "Import folder…")
        self.import_files_button = QPushButton(icon("import"), "Import files…")
        self.demo_button = QPushButton(icon("demo"), "Open demo project")
        for button in (self.import_folder_button, self.import_files_button, self.demo_button):
            button.setMinimumHeight(34)
            button.setIconSize(QSize(18, 18))
        self.demo_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.setSpacing(10)
        buttons.addStretch(1)
        buttons.addWidget(self.import_folder_button)
        buttons.addWidget(self.import_files_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch(1)

        column = QVBoxLayout()
        column.setSpacing(12)
        column.addStretch(2)
        column.addWidget(logo)
        column.addWidget(self.title)
        column.addWidget(self.subtitle)
        column.addSpacing(10)
        column.addWidget(self.drop_zone)
        column.addSpacing(6)
        column.addLayout(buttons)
        column.addStretch(3)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(column, 4)
        outer.addStretch(1)

        self.import_folder_button.clicked.connect(self.ask_folder)
        self.import_files_button.clicked.connect(self.ask_files)
        self.demo_button.clicked.connect(state.demo_requested.emit)
        state.cache_changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Word the page for an empty cache or for one with versions to pick."""
        empty = not self.state.cache.versions()
        if empty:
            self.title.setText("Welcome to desktopviz")
            self.subtitle.setText(
                "Browse, query and compare versioned datasets and predictions, offline.\n"
                "Bring something in, or start with the demo project."
            )
        else:
            self.title.setText("Open a version from the sidebar")
            self.subtitle.setText(
                "Click a version to see its overview, files and tables, or import more."
            )
        self.demo_button.setVisible(empty)

    def ask_folder(self) -> None:
        """Pick a folder to import."""
        folder = QFileDialog.getExistingDirectory(self, "Import folder")
        if folder:
            self.state.import_requested.emit([Path(folder)])

    def ask_files(self) -> None:
        """Pick files to import."""
        files, _ = QFileDialog.getOpenFileNames(self, "Import files")
        if files:
            self.state.import_requested.emit([Path(f) for f in files])

    # -- drops ----------------------------------------------------------------------------------
    def _set_dragging(self, on: bool) -> None:
        self.drop_zone.setProperty("dragging", on)
        self.drop_zone.style().unpolish(self.drop_zone)
        self.drop_zone.style().polish(self.drop_zone)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if dropped_paths(event.mimeData()):
            self._set_dragging(True)
            event.acceptProposedAction()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:  # noqa: N802 - Qt override
        self._set_dragging(False)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        self._set_dragging(False)
        paths = dropped_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.state.import_requested.emit(paths)
