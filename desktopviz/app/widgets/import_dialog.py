"""Importing from the window: the job that runs the core import (or the demo build) in a worker
on its own cache connection, behind the progress dialog of :mod:`desktopviz.app.jobs`.

Public API: :class:`ImportJob` (``ImportJob.import_paths(state, paths)``,
``ImportJob.build_demo(state)``; signals ``done(version)``, ``failed(error)``, ``cancelled()``),
:func:`dropped_paths`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData
from PySide6.QtWidgets import QWidget

from desktopviz.app.jobs import Job
from desktopviz.app.state import AppState
from desktopviz.model import Version
from desktopviz.progress import CancelFn, ProgressFn
from desktopviz.store.cache import Cache


def dropped_paths(mime: QMimeData) -> list[Path]:
    """The local files and folders of a drag (empty when it carries anything else)."""
    if not mime.hasUrls():
        return []
    urls = mime.urls()
    if not urls or not all(u.isLocalFile() for u in urls):
        return []
    return [Path(u.toLocalFile()) for u in urls]


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


class ImportJob(Job):
    """One import (or demo build) with its dialog: when it is done the sidebar refreshes and the
    version opens; a cancel leaves the cache as it was; an error is shown in a message box."""

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
        self.state = state
        self.open_tab = "overview"
        """The tab the imported version opens on."""
        super().__init__(
            parent,
            "Import",
            what,
            fn,
            *args,
            title=title,
            can_cancel=can_cancel,
            status=state.status_message.emit,
            cancelled_note="the cache is unchanged",
            failed_note="nothing of the failing item was kept",
        )

    @classmethod
    def import_paths(
        cls, state: AppState, paths: list[Path], parent: QWidget | None = None
    ) -> ImportJob:
        """Start importing ``paths`` into the state's cache."""
        names = ", ".join(p.name or str(p) for p in paths[:3])
        more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
        job = cls(
            state,
            "Importing",
            f"Importing <b>{names}</b>{more}",
            _import_into,
            state.cache.root,
            list(paths),
            parent=parent,
        )
        if len(paths) == 1 and paths[0].is_file():  # one table (a double-clicked *.table.json)
            job.open_tab = "table"
        return job

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

    def succeeded(self, version: Version | None) -> None:
        self.state.refresh()
        self.state.import_finished.emit(version)
        if version is not None:
            self.state.open_version_requested.emit(version, self.open_tab)
            self.state.status_message.emit(f"Imported {version.ref}")
        else:
            self.state.status_message.emit("Import finished")

    def stopped(self, error: BaseException) -> None:
        self.state.refresh()
