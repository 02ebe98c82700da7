"""The Export button of a table: a click exports the rows shown (filtered, sorted) as CSV,
Parquet or JSON Lines; its arrow opens a menu with the media files too, and Save as new version.
Each runs in a worker behind a progress dialog with Cancel.

Public API: :class:`ExportTool` -- ``ExportTool(state, table_state, parent)``; ``export_menu``,
``save_version_action``, ``export_job``, ``save_job``, ``saved_version``; :meth:`ask_export`,
:meth:`export_to`, :meth:`ask_save_as_version`, :meth:`save_as_version`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMenu, QToolButton, QWidget

from desktopviz.app.icons import icon
from desktopviz.app.jobs import run_job
from desktopviz.app.state import AppState
from desktopviz.app.table_state import TableState
from desktopviz.app.workers import Worker
from desktopviz.errors import DesktopvizError
from desktopviz.model import Version
from desktopviz.progress import CancelFn, ProgressFn
from desktopviz.store.cache import Cache


class ExportTool(QToolButton):
    """The Export button (click: export rows; arrow: the menu), bound to a TableState."""

    def __init__(self, state: AppState, table: TableState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.table = state, table
        self.setIcon(icon("export"))
        self.setText("Export")
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setToolTip(
            "Save the rows shown (filtered, sorted) as CSV, Parquet or JSON Lines; "
            "the arrow: with media files, or as a new artifact version"
        )
        self.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        # (clicked and triggered carry a bool that must not arrive as ``media``)
        self.clicked.connect(lambda: self.ask_export())
        self.export_menu = QMenu(self)
        self.export_menu.addAction("Export rows…", lambda: self.ask_export())
        self.export_menu.addAction(
            "Export rows with media files…", lambda: self.ask_export(media="copy")
        ).setToolTip("Copies the images and masks into a folder beside the file")
        self.export_menu.addSeparator()
        self.save_version_action = self.export_menu.addAction(
            "Save as new version…", self.ask_save_as_version
        )
        self.export_menu.aboutToShow.connect(self._fill_menu)
        self.setMenu(self.export_menu)
        self.export_job: Worker | None = None
        self.save_job: Worker | None = None
        self.save_dialog: QWidget | None = None
        self.saved_version: Version | None = None

    def _plain(self) -> bool:
        spec = self.table.result.spec if self.table.result is not None else self.table.spec
        return spec.group is None and spec.compare is None

    def _fill_menu(self) -> None:
        plain = self._plain()
        self.save_version_action.setEnabled(plain and self.table.result is not None)
        self.save_version_action.setToolTip(
            "" if plain else "Grouped or compared rows cannot be saved: show the table's rows"
        )

    def ask_export(self, media: str = "cells") -> None:
        """Ask where (the suffix picks the format), then export (``media="copy"``: with the
        images copied beside the file)."""
        table = self.table
        stem = Path(table.table).name.split(".")[0] or "rows"
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Export rows with media files" if media == "copy" else "Export rows",
            str(Path.home() / f"{table.version.name}-{table.version.tag}-{stem}.csv"),
            "CSV (*.csv);;Parquet (*.parquet);;JSON Lines (*.jsonl)",
        )
        if path:
            self.export_to(Path(path), media)

    def export_to(self, path: Path, media: str = "cells") -> None:
        """Write every row the table shows now to ``path`` in a worker, with a progress dialog
        and Cancel; the file (and with ``media="copy"`` its media folder) appears whole or not
        at all."""
        from desktopviz.query.export import export_result, format_for

        result = self.table.result
        if result is None:
            return
        try:
            fmt = format_for(path)
        except DesktopvizError as e:
            self.state.status_message.emit(str(e))
            return
        self.export_job = run_job(
            self,
            "Export",
            f"{result.num_rows:,} rows to {path}",
            export_result,
            result,
            path,
            fmt,
            media=media,
            source=self.table.version,
            on_done=lambda rows: self.state.status_message.emit(
                f"Exported {rows:,} rows to {path}"
            ),
            status=self.state.status_message.emit,
        )

    def ask_save_as_version(self) -> None:
        """Ask which artifact the rows shown become a new version of, then save them."""
        from desktopviz.app.widgets.save_version_dialog import SaveVersionDialog

        result = self.table.result
        if result is None:
            return
        if not self._plain():
            self.state.status_message.emit(
                "Grouped or compared rows cannot be saved as a version: show the table's rows"
            )
            return
        dialog = SaveVersionDialog(
            self.state.cache, self.table.version, self.table.table, result.num_rows, self
        )
        self.save_dialog = dialog
        dialog.accepted.connect(
            lambda: self.save_as_version(
                open_after=dialog.open_after.isChecked(), **dialog.values()
            )
        )
        dialog.open()

    def save_as_version(self, name: str, *, open_after: bool = False, **options: object) -> None:
        """Save the rows shown as a new version of artifact ``name`` in a worker (progress and
        Cancel; a cancelled save writes nothing), then refresh the sidebar and maybe open it."""
        result = self.table.result
        if result is None:
            return
        self.saved_version = None

        def saved(version: Version) -> None:
            self.saved_version = version
            self.state.refresh()
            self.state.status_message.emit(f"Saved {result.num_rows:,} rows as {version.ref}")
            if open_after:
                self.state.open_version_requested.emit(version, "table")

        self.save_job = run_job(
            self,
            "Save",
            f"{result.num_rows:,} rows as a version of {name}",
            _save_on_own_connection,
            self.state.cache.root,
            result,
            self.table.version,
            self.table.table,
            name,
            on_done=saved,
            status=self.state.status_message.emit,
            **options,
        )


def _save_on_own_connection(
    root: Path,
    result: Any,
    source: Version,
    table: str,
    name: str,
    *,
    progress: ProgressFn,
    cancel: CancelFn,
    **options: Any,
) -> Version:
    """:func:`desktopviz.sdk.subset.save_as_version` in a worker, writing the index through a
    connection of the worker's own (the window's is the UI thread's), as an import does."""
    from desktopviz.sdk.subset import save_as_version

    with Cache(root) as cache:
        return save_as_version(
            result, source, table, name, cache=cache, progress=progress, cancel=cancel, **options
        )
