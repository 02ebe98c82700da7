"""File > Sources…: the servers and folders this cache syncs from. Add one (name, URL or folder,
token; the connection is tested first, in a worker), remove one, sync now; each row says when it
was last synced and whether it could be reached.

Public API: :class:`SourcesDialog` -- ``SourcesDialog(state, sync_status, parent)``;
:meth:`add`, :meth:`remove`, :meth:`sync_now`, :meth:`reload`; :func:`probe_store`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktopviz.app.palette import mute
from desktopviz.app.state import AppState
from desktopviz.app.widgets.sync_status import SyncStatus
from desktopviz.app.workers import Worker, run_in_worker
from desktopviz.errors import DesktopvizError
from desktopviz.humanize import age_text

COLUMNS = ("Name", "URL or folder", "Last synced", "State")


def probe_store(url: str, token: str | None) -> str:
    """What a store at ``url`` says about itself (raises with the reason it cannot be read)."""
    from desktopviz.sync.backends import open_backend
    from desktopviz.sync.store import read_store_info

    backend = open_backend(url, token)
    try:
        info = read_store_info(backend)
    finally:
        backend.close()
    return f"a desktopviz store, format {info.get('version', '?')}"


class SourcesDialog(QDialog):
    """The cache's sources, with add, remove and sync now."""

    def __init__(
        self, state: AppState, sync_status: SyncStatus, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.state, self.sync_status = state, sync_status
        self.setWindowTitle("Sources")
        self.resize(720, 420)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.name = QLineEdit(self)
        self.name.setPlaceholderText("team")
        self.url = QLineEdit(self)
        self.url.setPlaceholderText("http://host:8765, s3://bucket/prefix or a folder")
        self.token = QLineEdit(self)
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("optional: kept in the system keyring")
        self.note = mute(QLabel("", self))
        self.note.setWordWrap(True)
        self.add_button = QPushButton("Test and add", self)
        self.add_button.clicked.connect(self.add)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.clicked.connect(self.remove)
        self.sync_button = QPushButton("Sync now", self)
        self.sync_button.clicked.connect(self.sync_now)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("URL or folder", self.url)
        form.addRow("Token", self.token)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.sync_button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addLayout(buttons)
        layout.addWidget(close)
        self.test_job: Worker | None = None
        sync_status.finished.connect(lambda _text: self.reload())
        self.reload()

    def reload(self) -> None:
        """Show the saved sources (and which could not be reached at the last sync)."""
        from desktopviz.sync.sources import sources

        saved = sources(self.state.cache)
        self.table.setRowCount(len(saved))
        for row, source in enumerate(saved):
            offline = self.sync_status.offline.get(source.name)
            last = age_text(source.last_sync) if source.last_sync else "never"
            state = f"offline: {offline}" if offline else (source.state or "")
            for col, text in enumerate((source.name, source.url, last, state)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if col == 3 and offline:
                    item.setForeground(Qt.GlobalColor.darkRed)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.remove_button.setEnabled(bool(saved))
        self.sync_button.setEnabled(bool(saved))

    def selected_name(self) -> str | None:
        """The source whose row is selected."""
        row = self.table.currentRow()
        item = self.table.item(row, 0) if row >= 0 else None
        return item.text() if item is not None else None

    def add(self) -> Worker | None:
        """Test the connection in a worker; add the source when the store answers."""
        name, url, token = self.name.text().strip(), self.url.text().strip(), self.token.text()
        if not name or not url:
            self.note.setText("A source needs a name and a URL or folder.")
            return None
        self.note.setText(f"Testing {url}…")
        self.add_button.setEnabled(False)

        def tested(said: str) -> None:
            from desktopviz.sync.sources import add_source

            self.add_button.setEnabled(True)
            try:
                add_source(self.state.cache, name, url, token or None)
            except DesktopvizError as e:
                self.note.setText(str(e))
                return
            self.note.setText(f"Added {name}: {said}.")
            self.token.clear()
            self.reload()

        def failed(error: BaseException) -> None:
            self.add_button.setEnabled(True)
            self.note.setText(f"Cannot add {name}: {error}")

        self.test_job = run_in_worker(
            probe_store, url, token or None, on_result=tested, on_error=failed, owner=self
        )
        return self.test_job

    def remove(self) -> None:
        """Forget the selected source (what it synced stays in the cache)."""
        from desktopviz.sync.sources import remove_source

        name = self.selected_name()
        if name is not None:
            remove_source(self.state.cache, name)
            self.note.setText(f"Removed {name}; what it synced stays in the cache.")
            self.reload()

    def sync_now(self) -> None:
        """Sync the selected source (every source when none is selected)."""
        name = self.selected_name()
        self.sync_status.sync_sources([name] if name else None)
