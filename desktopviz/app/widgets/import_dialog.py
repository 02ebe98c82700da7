"""Importing from the window: the progress dialog (stage, counts, bytes, rate, cancel) and the
job that runs the core import (or the demo build) in a worker on its own cache connection.

Public API: :class:`ImportDialog`, :class:`ImportJob` (``ImportJob.import_paths(state, paths)``,
``ImportJob.build_demo(state)``; signals ``done(version)``, ``failed(error)``, ``cancelled()``),
:func:`dropped_paths`, :func:`progress_text`.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktopviz.app.icons import icon
from desktopviz.app.state import AppState
from desktopviz.app.workers import Worker, run_in_worker
from desktopviz.cli.commands import human_size
from desktopviz.errors import DesktopvizError
from desktopviz.model import Version
from desktopviz.progress import CancelFn, Progress, ProgressFn
from desktopviz.store.cache import Cache


def dropped_paths(mime: QMimeData) -> list[Path]:
    """The local files and folders of a drag (empty when it carries anything else)."""
    if not mime.hasUrls():
        return []
    urls = mime.urls()
    if not urls or not all(u.isLocalFile() for u in urls):
        return []
    return [Path(u.toLocalFile()) for u in urls]


def progress_text(p: Progress, elapsed: float) -> str:
    """``412 / 1,204 files · 31.0 / 80.1 MB · 12.4 MB/s`` (parts only when known)."""
    unit = "rows" if p.stage == "table" else "files" if p.stage == "files" else "steps"
    parts = []
    if p.total:
        parts.append(f"{p.done:,} / {p.total:,} {unit}")
    elif p.done:
        parts.append(f"{p.done:,} {unit}")
    if p.bytes_total:
        parts.append(f"{human_size(p.bytes_done)} / {human_size(p.bytes_total)}")
    elif p.bytes_done:
        parts.append(human_size(p.bytes_done))
    if elapsed > 0.5:
        if p.bytes_done:
            parts.append(f"{human_size(int(p.bytes_done / elapsed))}/s")
        elif p.done:
            parts.append(f"{p.done / elapsed:,.0f} {unit}/s")
    return " · ".join(parts)


class ImportDialog(QDialog):
    """Shows an import's progress; Cancel asks the import to stop (nothing is kept then)."""

    cancel_requested = Signal()

    def __init__(self, title: str, what: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(460)
        self.what = QLabel(what)
        self.what.setWordWrap(True)
        self.what.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stage = QLabel("Starting…")
        self.stage.setObjectName("sectionTitle")
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setTextVisible(False)
        self.detail = QLabel(" ")
        self.detail.setObjectName("dimText")
        self.current = QLabel(" ")
        self.current.setObjectName("dimText")
        self.current.setMinimumWidth(400)
        buttons = QDialogButtonBox()
        self.cancel_button = QPushButton(icon("cancel"), "Cancel")
        buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.cancel_button.clicked.connect(self._cancel)
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addWidget(self.what)
        layout.addWidget(self.stage)
        layout.addWidget(self.bar)
        layout.addWidget(self.detail)
        layout.addWidget(self.current)
        layout.addWidget(buttons)
        self._started = time.monotonic()
        self._stage_started = self._started

    def update_progress(self, p: Progress) -> None:
        """Show a progress report."""
        stage = _stage_title(p.stage)
        if stage != self.stage.text():
            self.stage.setText(stage)
            self._stage_started = time.monotonic()
        if p.total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * min(p.done, p.total) / p.total))
        elif p.bytes_total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * min(p.bytes_done, p.bytes_total) / p.bytes_total))
        else:
            self.bar.setRange(0, 0)
        self.detail.setText(progress_text(p, time.monotonic() - self._stage_started) or " ")
        metrics = self.current.fontMetrics()
        self.current.setText(
            metrics.elidedText(p.message, Qt.TextElideMode.ElideMiddle, self.current.width()) or " "
        )

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")
        self.stage.setText("Cancelling: undoing what was written…")
        self.cancel_requested.emit()

    def reject(self) -> None:
        """Escape or closing the dialog cancels the import (the dialog closes when it stops)."""
        if self.cancel_button.isEnabled():
            self._cancel()


def _stage_title(stage: str) -> str:
    if stage == "files":
        return "Reading and storing files"
    if stage == "table":
        return "Converting tables"
    return stage[:1].upper() + stage[1:]


def _import_into(
    root: Path,
    paths: list[Path],
    *,
    progress: ProgressFn,
    cancel: CancelFn,
) -> Version | None:
    """Import ``paths`` into the cache at ``root`` on a connection of this thread's own; return
    the last version made or found (None when only runs were imported)."""
    from desktopviz.importing import import_paths

    with Cache(root) as cache:
        results = import_paths(cache, paths, progress=progress, cancel=cancel)
    versions = [r.result.version for r in results if r.result is not None]
    return versions[-1] if versions else None


def _demo_into(root: Path, n_images: int, *, progress: ProgressFn) -> Version:
    """Build the demo project into the cache at ``root``; return its latest predictions."""
    from desktopviz.demo import PREDICTIONS, PROJECT, build_demo

    with Cache(root) as cache:
        build_demo(cache, n_images=n_images, progress=progress)
        return cache.resolve(f"{PROJECT}/{PREDICTIONS}:latest")


class ImportJob(QObject):
    """One import (or demo build) with its dialog; tells the user how it ended."""

    done = Signal(object)
    """The import finished: the version to show (or None)."""
    failed = Signal(object)
    """The import stopped on an error (shown to the user in a message box)."""
    cancelled = Signal()
    """The user cancelled; the cache is as it was."""

    def __init__(
        self,
        state: AppState,
        title: str,
        what: str,
        fn: Callable[..., Any],
        *args: Any,
        can_cancel: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.dialog = ImportDialog(title, what, parent)
        self.dialog.cancel_button.setVisible(can_cancel)
        self.error_box: QMessageBox | None = None
        self.dialog.cancel_requested.connect(self.cancel)
        self.worker: Worker = run_in_worker(
            fn,
            *args,
            on_progress=self.dialog.update_progress,
            on_result=self._finished,
            on_error=self._failed,
            on_cancelled=self._cancelled,
        )
        self.dialog.open()

    @classmethod
    def import_paths(
        cls, state: AppState, paths: list[Path], parent: QWidget | None = None
    ) -> ImportJob:
        """Start importing ``paths`` into the state's cache."""
        names = ", ".join(p.name or str(p) for p in paths[:3])
        more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
        return cls(
            state,
            "Importing",
            f"Importing <b>{names}</b>{more}",
            _import_into,
            state.cache.root,
            list(paths),
            parent=parent,
        )

    @classmethod
    def build_demo(
        cls, state: AppState, n_images: int = 600, parent: QWidget | None = None
    ) -> ImportJob:
        """Start building the demo project into the state's cache."""
        return cls(
            state,
            "Building the demo project",
            "Drawing street scenes, training two detectors and logging their predictions",
            _demo_into,
            state.cache.root,
            n_images,
            can_cancel=False,
            parent=parent,
        )

    @property
    def running(self) -> bool:
        """Whether the worker is still at it."""
        return not self.worker.is_done

    def cancel(self) -> None:
        """Ask the import to stop."""
        self.worker.cancel()

    def _finished(self, version: Version | None) -> None:
        self.dialog.accept()
        self.state.refresh()
        self.state.import_finished.emit(version)
        if version is not None:
            self.state.open_version_requested.emit(version, "overview")
            self.state.status_message.emit(f"Imported {version.ref}")
        else:
            self.state.status_message.emit("Import finished")
        self.done.emit(version)

    def _cancelled(self) -> None:
        self.dialog.accept()
        self.state.status_message.emit("Import cancelled; the cache is unchanged")
        self.cancelled.emit()

    def _failed(self, error: BaseException) -> None:
        self.dialog.accept()
        self.state.refresh()
        box = QMessageBox(self.dialog.parentWidget())
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("Import failed")
        if isinstance(error, DesktopvizError):
            box.setText("The import stopped; nothing of the failing item was kept.")
            box.setInformativeText(str(error))
        else:
            box.setText("The import stopped on an unexpected error.")
            box.setInformativeText(f"{type(error).__name__}: {error}")
            box.setDetailedText("".join(traceback.format_exception(error)))
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_box = box
        box.open()
        self.failed.emit(error)
