"""Importing in a worker with the progress dialog: success, errors naming the file, cancel; and
the generic worker underneath."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt

from desktopviz.app.jobs import progress_text
from desktopviz.app.widgets.import_dialog import ImportJob
from desktopviz.app.workers import run_in_worker
from desktopviz.errors import Cancelled, FormatError
from desktopviz.progress import Progress, check_cancel
from tests.cli_support import stored_files


def big_csv(path: Path, rows: int = 1_500_000) -> Path:
    """A CSV large enough that an import takes a while (about 40 MB)."""
    with path.open("w") as f:
        f.write("id,score,label,note\n")
        chunk = "".join(
            f"{i},{i % 997 / 997:.4f},class-{i % 13},row number {i}\n" for i in range(10_000)
        )
        for _ in range(rows // 10_000):
            f.write(chunk)
    return path


def index_snapshot(cache) -> dict[str, list]:
    return {
        t: sorted(cache.conn.execute(f"SELECT * FROM {t}").fetchall())
        for t in ("projects", "collections", "versions", "aliases", "files", "tables")
    }


def test_import_shows_the_dialog_then_opens_the_version(qtbot, app_state, tmp_path):
    source = tmp_path / "scores.csv"
    source.write_text("id,score,label\n1,0.5,car\n2,0.25,bus\n")
    opened = []
    app_state.open_version_requested.connect(lambda v, tab: opened.append((v.ref, tab)))
    job = ImportJob.import_paths(app_state, [source])
    assert job.dialog.isVisible()
    assert "scores.csv" in job.dialog.what.text()
    with qtbot.waitSignal(job.done, timeout=30_000) as signal:
        pass
    version = signal.args[0]
    assert version.ref == f"{tmp_path.name}/scores:v0"
    assert opened == [(version.ref, "table")]  # one file: its table shows; a folder: Overview
    assert not job.dialog.isVisible()
    assert app_state.cache.table_info(version).num_rows == 2


def test_a_broken_file_is_reported_by_name(qtbot, app_state, tmp_path):
    broken = tmp_path / "broken.table.json"
    broken.write_text('{"columns": ["a"], "data": [[1], [2, 3]]}')
    before = index_snapshot(app_state.cache)
    job = ImportJob.import_paths(app_state, [broken])
    with qtbot.waitSignal(job.failed, timeout=30_000) as signal:
        pass
    assert isinstance(signal.args[0], FormatError)
    box = job.error_box
    assert box is not None and box.isVisible()
    assert "broken.table.json" in box.informativeText()
    assert "row" in box.informativeText()
    assert index_snapshot(app_state.cache) == before


@pytest.mark.slow
def test_cancelling_a_large_import_leaves_the_cache_unchanged(qtbot, app_state, tmp_path):
    source = big_csv(tmp_path / "big.csv")
    before = index_snapshot(app_state.cache)
    versions = len(app_state.cache.versions())
    job = ImportJob.import_paths(app_state, [source])
    qtbot.waitUntil(lambda: job.dialog.detail.text().strip() != "", timeout=30_000)
    with qtbot.waitSignal(job.cancelled, timeout=60_000):
        qtbot.mouseClick(job.dialog.cancel_button, Qt.MouseButton.LeftButton)
        assert job.dialog.cancel_button.text() == "Cancelling…"
    assert not job.dialog.isVisible()
    assert len(app_state.cache.versions()) == versions
    assert index_snapshot(app_state.cache) == before
    assert app_state.cache.check() == []


def test_escape_cancels_too(qtbot, app_state, tmp_path):
    release = threading.Event()

    def slow(*, progress, cancel):
        progress(Progress("files", 1, 10))
        while not release.wait(0.01):
            check_cancel(cancel)

    job = ImportJob(app_state, "Importing", "slow", slow)
    qtbot.waitUntil(lambda: "1 / 10 files" in job.dialog.detail.text())
    with qtbot.waitSignal(job.cancelled, timeout=10_000):
        qtbot.keyClick(job.dialog, Qt.Key.Key_Escape)
    release.set()


def test_progress_text_has_counts_bytes_and_rate():
    p = Progress("files", 412, 1204, 31 * 1024 * 1024, 80 * 1024 * 1024, "a.png")
    assert progress_text(p, 2.0) == "412 / 1,204 files · 31.0 MB / 80.0 MB · 15.5 MB/s"
    rows = Progress("table", 5000, None, 0, None, "t.csv")
    assert progress_text(rows, 2.0) == "5,000 rows · 2,500 rows/s"
    assert progress_text(Progress("files"), 0.1) == ""


# -- the worker ------------------------------------------------------------------------------


def test_worker_reports_progress_then_the_result_on_the_ui_thread(qtbot):
    ui_thread = threading.get_ident()
    seen = []

    def job(x, *, progress, cancel):
        progress(Progress("files", 1, 2))
        return x * 2

    def result(value):
        seen.append(("result", value, threading.get_ident() == ui_thread))

    worker = run_in_worker(
        job,
        21,
        on_progress=lambda p: seen.append(("progress", p.done, threading.get_ident() == ui_thread)),
        on_result=result,
    )
    qtbot.waitUntil(lambda: len(seen) == 2)
    assert seen == [("progress", 1, True), ("result", 42, True)]
    assert worker.is_done and worker.result == 42


def test_worker_reports_errors_and_cancellation(qtbot):
    errors = []
    run_in_worker(lambda: 1 / 0, on_error=errors.append)
    qtbot.waitUntil(lambda: len(errors) == 1)
    assert isinstance(errors[0], ZeroDivisionError)

    started = threading.Event()

    def loop(*, cancel):
        started.set()
        while True:
            check_cancel(cancel)

    cancelled = []
    worker = run_in_worker(loop, on_cancelled=lambda: cancelled.append(True))
    assert started.wait(10)
    worker.cancel()
    qtbot.waitUntil(lambda: cancelled == [True])
    assert isinstance(worker.error, Cancelled)


def test_worker_drops_callbacks_of_a_deleted_owner(qtbot):
    import shiboken6

    release = threading.Event()
    owner = QObject()
    called = []
    worker = run_in_worker(lambda: release.wait(10), on_result=called.append, owner=owner)
    shiboken6.delete(owner)
    with qtbot.waitSignal(worker.finished):
        release.set()
    assert worker.result is True
    assert called == []


@pytest.mark.slow
def test_a_folder_import_shows_files_bytes_and_rate_and_cancel_leaves_no_pack(
    qtbot, app_state, tmp_path
):
    source = tmp_path / "shards"
    source.mkdir()
    for i in range(300):  # 300 MB of files a pack takes
        (source / f"shard-{i:03d}.bin").write_bytes(os.urandom(1 << 20))
    cache_root = app_state.cache.root
    before = stored_files(cache_root)
    job = ImportJob.import_paths(app_state, [source])
    qtbot.waitUntil(lambda: "MB/s" in job.dialog.detail.text(), timeout=60_000)
    shown = job.dialog.detail.text()
    assert " / 300 files · " in shown and " MB / 300.0 MB · " in shown, shown
    assert job.dialog.stage.text() and job.dialog.bar.maximum() == 1000
    with qtbot.waitSignal(job.cancelled, timeout=60_000):
        qtbot.mouseClick(job.dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert stored_files(cache_root) == before  # the pack begun is gone
    assert app_state.cache.check() == []
