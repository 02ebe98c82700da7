"""The one runner of long jobs (export, save as a version, import): a progress dialog with
Cancel in front of a worker, and what the user is told when the job ends."""

from __future__ import annotations

import threading

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from desktopviz.app.jobs import ProgressDialog, run_job
from desktopviz.errors import DesktopvizError
from desktopviz.progress import Progress, check_cancel
from desktopviz.query.export import export_result
from desktopviz.query.spec import QuerySpec


@pytest.fixture
def window(qtbot):
    w = QWidget()
    w.resize(600, 400)
    qtbot.addWidget(w)
    w.show()
    return w


def dialog_of(window: QWidget) -> ProgressDialog:
    (dialog,) = [d for d in window.findChildren(ProgressDialog) if d.isVisible()]
    return dialog


def gated(*, progress, cancel, gate: threading.Event, fail: BaseException | None = None):
    """A job that reports 5 of 10 rows, then waits for ``gate`` (stopping when cancelled)."""
    progress(Progress("exporting", 5, 10, message="out.csv"))
    while not gate.wait(0.01):
        check_cancel(cancel)
    if fail is not None:
        raise fail
    return 10


def test_a_job_shows_its_progress_then_hands_over_its_result(qtbot, window):
    gate, said, done = threading.Event(), [], []
    worker = run_job(
        window, "Export", "10 rows to out.csv", gated, gate=gate,
        on_done=done.append, status=said.append,
    )  # fmt: skip
    dialog = dialog_of(window)
    assert dialog.windowTitle() == "Exporting" and dialog.what.text() == "10 rows to out.csv"
    qtbot.waitUntil(lambda: dialog.detail.text().startswith("5 / 10 rows"))
    assert dialog.stage.text() == "Exporting" and dialog.bar.value() == 500
    assert dialog.isModal() or dialog.windowModality() == Qt.WindowModality.WindowModal
    gate.set()
    qtbot.waitUntil(lambda: done == [10])
    assert worker.is_done and said == []
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog))  # the dialog goes with the job


def test_cancel_stops_the_job_and_says_nothing_was_written(qtbot, window):
    gate, said, done = threading.Event(), [], []
    worker = run_job(
        window, "Export", "10 rows", gated, gate=gate, on_done=done.append, status=said.append
    )
    dialog = dialog_of(window)
    qtbot.waitUntil(lambda: dialog.detail.text().strip() != "")
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert dialog.cancel_button.text() == "Cancelling…" and not dialog.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: said == ["Export cancelled; nothing was written"])
    assert worker.is_cancel_requested and done == []
    assert not any(
        d.isVisible() for d in window.findChildren(ProgressDialog) if shiboken6.isValid(d)
    )


def test_escape_cancels_too(qtbot, window):
    gate, said = threading.Event(), []
    run_job(window, "Save", "10 rows as a version of x", gated, gate=gate, status=said.append)
    dialog = dialog_of(window)
    assert dialog.windowTitle() == "Saving"
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: said == ["Save cancelled; nothing was written"])


@pytest.mark.parametrize(
    ("error", "text", "details"),
    [
        (DesktopvizError("disk full"), "The save stopped; nothing was written.", False),
        (ZeroDivisionError("division by zero"), "The save stopped on an unexpected error.", True),
    ],
)
def test_a_failure_is_said_in_the_status_bar_and_a_message_box(qtbot, window, error, text, details):
    gate, said = threading.Event(), []
    gate.set()
    run_job(window, "Save", "10 rows", gated, gate=gate, fail=error, status=said.append)
    qtbot.waitUntil(lambda: len(said) == 1)
    assert said == [f"Save failed: {error}"]
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert len(boxes) == 1
    box = boxes[0]
    assert box.windowTitle() == "Save failed" and box.text() == text
    assert str(error) in box.informativeText()
    assert ("Traceback" in box.detailedText()) == details
    box.close()


def test_a_job_outliving_its_window_tells_nobody(qtbot):
    gate, said, done = threading.Event(), [], []
    window = QWidget()
    worker = run_job(
        window, "Export", "10 rows", gated, gate=gate, on_done=done.append, status=said.append
    )
    shiboken6.delete(window)
    with qtbot.waitSignal(worker.finished):
        gate.set()
    assert worker.result == 10 and done == [] and said == []


def test_a_real_export_cancelled_from_the_dialog_keeps_the_old_file(
    qtbot, window, app_state, tmp_path
):
    """The rows of a real table, exported by the core's export_result behind the dialog: Escape
    while it writes leaves the file that was there and no partial file."""
    version = app_state.cache.resolve("street-scenes-dataset:v0")
    result = app_state.engine.result(version, None, QuerySpec())
    target = tmp_path / "scenes.csv"
    target.write_text("kept\n")
    reported = threading.Event()
    gate = threading.Event()

    def slow_progress(report, p: Progress) -> None:
        report(p)
        reported.set()
        gate.wait(10)  # hold the export at its first report until the user has cancelled

    said = []
    worker = run_job(
        window, "Export", f"{result.num_rows} rows to {target}",
        lambda *, progress, cancel: export_result(
            result, target, progress=lambda p: slow_progress(progress, p), cancel=cancel
        ),
        status=said.append,
    )  # fmt: skip
    dialog = dialog_of(window)
    qtbot.waitUntil(lambda: f"0 / {result.num_rows:,} rows" in dialog.detail.text())
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    gate.set()
    qtbot.waitUntil(lambda: worker.is_done)
    qtbot.waitUntil(lambda: said == ["Export cancelled; nothing was written"])
    assert target.read_text() == "kept\n"
    assert list(tmp_path.glob(".*.part")) == []
