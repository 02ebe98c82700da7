"""The sync status in the window's status bar: syncing a source (or downloading a version that
was synced as catalog only) runs in a worker, and the status bar shows what it is at (files,
bytes, rate) with Cancel; each source's last sync or an "offline" mark when it cannot be reached
(the cache stays usable).

Public API: :class:`SyncStatus` -- ``SyncStatus(state)``; :meth:`SyncStatus.sync_sources`,
:meth:`SyncStatus.fetch`; signals ``finished(str)`` and ``offline_changed(dict)``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from desktopviz.app.jobs import progress_text
from desktopviz.app.palette import mute
from desktopviz.app.state import AppState
from desktopviz.app.workers import Worker, run_in_worker
from desktopviz.errors import Cancelled, DesktopvizError
from desktopviz.model import Version
from desktopviz.progress import CancelFn, Progress, ProgressFn
from desktopviz.store.cache import Cache


def sync_saved_sources(
    root: Path, names: list[str] | None, *, progress: ProgressFn, cancel: CancelFn
) -> dict[str, str]:
    """Sync these saved sources (None: all) into the cache at ``root`` through a connection of
    the worker's own; returns each source's outcome ("ok", or the error said in one line)."""
    from desktopviz.sync.backends import open_backend
    from desktopviz.sync.pull import sync
    from desktopviz.sync.sources import sources, token_for

    outcome: dict[str, str] = {}
    with Cache(root) as cache:
        for source in sources(cache):
            if names is not None and source.name not in names:
                continue
            try:
                backend = open_backend(source.url, token_for(source.name, source.url))
                try:
                    sync(cache, backend, source=source.name, progress=progress, cancel=cancel)
                finally:
                    backend.close()
                outcome[source.name] = "ok"
            except Cancelled:
                raise
            except (DesktopvizError, OSError) as e:
                outcome[source.name] = str(e)
    return outcome


def fetch_on_own_connection(
    root: Path, version_id: int, *, progress: ProgressFn, cancel: CancelFn
) -> Version:
    """Download the blobs of a version synced as catalog only (see ``desktopviz pull``)."""
    from desktopviz.sync.pull import fetch_version

    with Cache(root) as cache:
        return fetch_version(
            cache, cache.version_by_id(version_id), progress=progress, cancel=cancel
        )


class SyncStatus(QWidget):
    """Progress and Cancel of a sync or a download, in the status bar."""

    finished = Signal(str)
    """What the job said when it ended ("Synced 3 sources", "Sync cancelled", an error)."""
    offline_changed = Signal(dict)
    """Source name -> the error that made it unreachable (empty: every source answered)."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.job: Worker | None = None
        self.offline: dict[str, str] = {}
        self._started = 0.0
        self._open_tab = "overview"
        self.label = mute(QLabel("", self))
        self.bar = QProgressBar(self)
        self.bar.setFixedWidth(140)
        self.bar.setMaximumHeight(12)
        self.bar.setTextVisible(False)
        self.cancel_button = QToolButton(self)
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip(
            "Stop syncing: what is complete stays, the rest resumes later"
        )
        self.cancel_button.clicked.connect(self.cancel)
        self.offline_label = QLabel("", self)
        self.offline_label.setObjectName("offlineIndicator")
        self.offline_label.setStyleSheet("color: #b35900;")
        self.offline_label.hide()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.offline_label)
        row.addWidget(self.label)
        row.addWidget(self.bar)
        row.addWidget(self.cancel_button)
        self._show(False)

    @property
    def busy(self) -> bool:
        """Whether a sync or a download runs."""
        return self.job is not None and not self.job.is_done

    def sync_sources(self, names: list[str] | None = None) -> Worker | None:
        """Sync saved sources (None: all) in a worker; None when a job runs already."""
        if self.busy:
            self.state.status_message.emit("A sync is running: wait for it or cancel it")
            return None
        return self._start("Syncing", sync_saved_sources, self.state.cache.root, names)

    def fetch(self, version: Version, tab: str = "overview") -> Worker | None:
        """Download a catalog-only version, then open it on ``tab``."""
        if self.busy:
            self.state.status_message.emit("A sync is running: wait for it or cancel it")
            return None
        self._open_tab = tab
        return self._start(
            f"Downloading {version.ref}", fetch_on_own_connection, self.state.cache.root, version.id
        )

    def cancel(self) -> None:
        """Stop the job: versions already complete stay, a later sync resumes."""
        if self.job is not None:
            self.job.cancel()

    def _start(self, verb: str, fn: Any, *args: Any) -> Worker:
        self._started = time.monotonic()
        self.label.setText(f"{verb}…")
        self.bar.setRange(0, 0)
        self._show(True)
        self.job = run_in_worker(
            fn,
            *args,
            on_progress=lambda p: self._progress(verb, p),
            on_result=lambda value: self._done(verb, value),
            on_cancelled=lambda: self._ended(
                f"{verb.split()[0]} cancelled; complete versions stay"
            ),
            on_error=lambda e: self._ended(f"{verb.split()[0]} failed: {e}"),
            owner=self,
        )
        return self.job

    def _progress(self, verb: str, p: Progress) -> None:
        if p.total:
            self.bar.setRange(0, max(1, p.total))
            self.bar.setValue(min(p.done, p.total))
        said = progress_text(p, time.monotonic() - self._started) or p.message or p.stage
        self.label.setText(f"{verb}: {said}")

    def _done(self, verb: str, value: Any) -> None:
        if isinstance(value, dict):  # sources -> outcome
            self.offline = {name: said for name, said in value.items() if said != "ok"}
            self.offline_changed.emit(dict(self.offline))
            self.offline_label.setVisible(bool(self.offline))
            self.offline_label.setText(f"⚠ offline: {', '.join(sorted(self.offline))}")
            self.offline_label.setToolTip(
                "\n".join(f"{name}: {said}" for name, said in sorted(self.offline.items()))
                + "\nThe cache stays usable; File > Sync all sources tries again."
            )
            ok = sum(1 for said in value.values() if said == "ok")
            text = f"Synced {ok} source{'s' * (ok != 1)}"
            if self.offline:
                text += f"; offline: {', '.join(sorted(self.offline))} (the cache stays usable)"
        else:
            text = f"Downloaded {value.ref}"
            self.state.open_version_requested.emit(value, self._open_tab)
        self.state.refresh()
        self._ended(text)

    def _ended(self, text: str) -> None:
        self._show(False)
        self.state.status_message.emit(text)
        self.finished.emit(text)

    def _show(self, busy: bool) -> None:
        for widget in (self.label, self.bar, self.cancel_button):
            widget.setVisible(busy)
