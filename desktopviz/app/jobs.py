"""Long jobs from the window (import, export, save as a version): a core function runs in a
worker behind a progress dialog (stage, bar, counts, bytes, rate, Cancel), and the user is told
how it ended.

Public API::

    worker = run_job(parent, "Export", "600 rows to a.csv", fn, *args, on_done=..., status=...)

:class:`Job` (the dialog, the worker, signals ``done(value)``, ``failed(error)``,
``cancelled()``; subclass it to act on an outcome first, as the import does),
:class:`ProgressDialog`, :func:`progress_text`.

``fn`` takes the core's ``progress``/``cancel`` parameters when it reports or can stop
(:mod:`desktopviz.app.workers`). Cancel (the button, Escape, closing the dialog) sets the
worker's cancel flag; a cancel says "<verb> cancelled; nothing was written" in the status bar; a
failure says so in the status bar and in a message box (a traceback under Details when the error
is not one of ours).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
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
from desktopviz.app.workers import Worker, run_in_worker
from desktopviz.errors import DesktopvizError
from desktopviz.humanize import human_size
from desktopviz.progress import Progress

UNITS = {"files": "files", "blobs": "files", "table": "rows", "exporting": "rows", "saving": "rows"}
"""What a stage counts (``steps`` for the others)."""


def progress_text(p: Progress, elapsed: float) -> str:
    """``412 / 1,204 files · 31.0 / 80.1 MB · 12.4 MB/s`` (parts only when known)."""
    unit = UNITS.get(p.stage, "steps")
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


def _stage_title(stage: str) -> str:
    if stage == "files":
        return "Reading and storing files"
    if stage == "table":
        return "Converting tables"
    return stage[:1].upper() + stage[1:]


class ProgressDialog(QDialog):
    """Shows a job's progress; Cancel (or Escape) asks it to stop (then nothing is kept)."""

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
        for widget in (self.what, self.stage, self.bar, self.detail, self.current, buttons):
            layout.addWidget(widget)
        self._stage_started = time.monotonic()

    def update_progress(self, p: Progress) -> None:
        """Show a progress report (the rate is over the stage's time so far)."""
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
        """Escape or closing the dialog cancels the job (the dialog closes when it stops)."""
        if not self.cancel_button.isHidden() and self.cancel_button.isEnabled():
            self._cancel()


class Job(QObject):
    """``fn(*args, **kwargs)`` in a worker behind a :class:`ProgressDialog`; tells the user how it
    ended (``status`` gets the status-bar text)."""

    done = Signal(object)
    """The job finished: what ``fn`` returned."""
    failed = Signal(object)
    """The job stopped on an error (shown in a message box: :attr:`error_box`)."""
    cancelled = Signal()
    """The user cancelled; nothing was kept."""

    def __init__(
        self,
        parent: QWidget | None,
        verb: str,
        what: str,
        fn: Callable[..., Any],
        *args: Any,
        title: str | None = None,
        can_cancel: bool = True,
        status: Callable[[str], None] | None = None,
        cancelled_note: str = "nothing was written",
        failed_note: str = "nothing was written",
        **kwargs: Any,
    ) -> None:
        super().__init__(parent)
        self.verb = verb
        self._say = status or (lambda _text: None)
        self._notes = (cancelled_note, failed_note)
        self.dialog = ProgressDialog(title or verb.removesuffix("e") + "ing", what, parent)
        self.dialog.cancel_button.setVisible(can_cancel)
        self.error_box: QMessageBox | None = None
        self.worker: Worker = run_in_worker(
            fn,
            *args,
            **kwargs,
            on_progress=self.dialog.update_progress,
            on_result=self._finished,
            on_error=self._failed,
            on_cancelled=self._cancelled,
        )
        self.dialog.cancel_requested.connect(self.worker.cancel)
        self.dialog.open()

    @property
    def running(self) -> bool:
        """Whether the worker is still at it."""
        return not self.worker.is_done

    def cancel(self) -> None:
        """Ask the job to stop."""
        self.worker.cancel()

    def succeeded(self, value: Any) -> None:
        """What a subclass does first when the job is done (the dialog is closed)."""

    def stopped(self, error: BaseException) -> None:
        """What a subclass does first when the job failed (the dialog is closed)."""

    def _finished(self, value: Any) -> None:
        self.dialog.accept()
        self.succeeded(value)
        self.done.emit(value)

    def _cancelled(self) -> None:
        self.dialog.accept()
        self._say(f"{self.verb} cancelled; {self._notes[0]}")
        self.cancelled.emit()

    def _failed(self, error: BaseException) -> None:
        self.dialog.accept()
        self.stopped(error)
        self._say(f"{self.verb} failed: {error}")
        box = QMessageBox(self.dialog.parentWidget())
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle(f"{self.verb} failed")
        if isinstance(error, DesktopvizError):
            box.setText(f"The {self.verb.lower()} stopped; {self._notes[1]}.")
            box.setInformativeText(str(error))
        else:
            box.setText(f"The {self.verb.lower()} stopped on an unexpected error.")
            box.setInformativeText(f"{type(error).__name__}: {error}")
            box.setDetailedText("".join(traceback.format_exception(error)))
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_box = box
        box.open()
        self.failed.emit(error)

    def dispose(self) -> None:
        """Delete the dialog and the job once nobody looks at them any more."""
        self.dialog.deleteLater()
        self.deleteLater()


def run_job(
    parent: QWidget,
    verb: str,
    what: str,
    fn: Callable[..., Any],
    *args: Any,
    on_done: Callable[[Any], None] | None = None,
    status: Callable[[str], None] | None = None,
    **kwargs: Any,
) -> Worker:
    """Run ``fn(*args, **kwargs)`` in a worker behind a progress dialog titled after ``verb``
    ("Export": "Exporting"), with Cancel; ``on_done`` gets its result; a cancel or a failure is
    said through ``status`` (a failure in a message box too). The dialog goes with ``parent``
    or when the job is over; ``worker.cancel()`` cancels as the button does."""
    job = Job(parent, verb, what, fn, *args, status=status, **kwargs)
    if on_done is not None:
        job.done.connect(on_done)
    job.worker.finished.connect(job.dispose)
    return job.worker
