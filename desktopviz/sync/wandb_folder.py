"""Sync from a folder of W&B data that is not a store: a network share where training jobs write
``wandb/offline-run-*`` folders and where artifact download folders (``<name>:v<N>/``) land.

Every run and download folder found under the folder is an *entry*. An entry is imported through
the importer (:func:`desktopviz.importing.import_path`) when its file list (each file's path, size
and mtime) differs from every one imported before from this source; an unchanged one is skipped
without reading it. An entry still being written waits: a run whose ``run-*.wandb`` file has no
exit record yet, or any entry with a file modified in the last ``settle`` seconds. A run that
never wrote its exit record (its process was killed) is imported once nothing in it has changed
for ``stale`` seconds.

:func:`watch` follows the folder as files arrive (the ``watchdog`` library), and also rescans it
every ``rescan`` seconds, since change notifications do not cross a network share.

Public API: :class:`FolderSyncReport`, :func:`find_entries`, :func:`sync_folder`, :func:`watch`.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from desktopviz.errors import Cancelled, DesktopvizError, FormatError
from desktopviz.formats.manifest import MANIFEST_NAME
from desktopviz.importing.detect import (
    DOWNLOAD_DIR,
    ImportResult,
    _version_order,
    default_project,
    import_path,
)
from desktopviz.progress import CancelFn, ProgressFn, check_cancel
from desktopviz.store.cache import Cache, now_iso

SETTLE_SECONDS = 3.0
STALE_SECONDS = 900.0
RESCAN_SECONDS = 30.0
LISTING = "listing:"


@dataclass(frozen=True)
class Entry:
    """A run folder or an artifact download folder found in the synced folder."""

    path: Path
    kind: str  # "run" or "artifact"

    def order(self) -> tuple[int, tuple[str, int, str]]:
        """Download folders first (a run may refer to them), each kind in version/time order."""
        return (0 if self.kind == "artifact" else 1, _version_order(self.path))


@dataclass
class FolderMemo:
    """What one pass tells the next (in :func:`watch`): entries (by file-list digest) whose run
    had no exit record, and entries that failed; neither is read again until it changes."""

    open_runs: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)


@dataclass
class FolderSyncReport:
    """What one pass over the folder did."""

    imported: list[ImportResult] = field(default_factory=list)
    skipped: int = 0
    """Entries unchanged since they were imported."""
    pending: list[Path] = field(default_factory=list)
    """Entries still being written (taken on a later pass)."""
    failed: list[DesktopvizError] = field(default_factory=list)
    """Entries that could not be imported, each error naming its folder."""


def _is_run(path: Path) -> bool:
    return path.name.startswith("offline-run-") or any(path.glob("run-*.wandb"))


def _is_download(path: Path) -> bool:
    return bool(DOWNLOAD_DIR.match(path.name)) or (path / MANIFEST_NAME).is_file()


def find_entries(root: Path) -> list[Entry]:
    """The runs and download folders under ``root``, in the order they are imported (symlinks,
    such as ``wandb/latest-run``, and hidden folders are not followed)."""
    found: list[Entry] = []
    for here, dirs, _files in os.walk(root):
        keep = []
        for d in sorted(dirs):
            p = Path(here) / d
            if d.startswith(".") or p.is_symlink():
                continue
            if _is_run(p):
                found.append(Entry(p, "run"))
            elif _is_download(p):
                found.append(Entry(p, "artifact"))
            else:
                keep.append(d)
        dirs[:] = keep
    return sorted(found, key=Entry.order)


def listing(root: Path, entry: Entry) -> tuple[str, float]:
    """The digest of the entry's file list (each path, size, mtime; symlinks, such as a run's
    ``logs/debug-core.log``, as themselves) and its newest mtime."""
    h = hashlib.sha256(entry.path.relative_to(root).as_posix().encode() + b"\n")
    newest = 0.0
    for rel, st in sorted(_lstat_tree(entry.path, "")):
        h.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        newest = max(newest, st.st_mtime)
    return h.hexdigest(), newest


def _lstat_tree(folder: Path, prefix: str) -> list[tuple[str, os.stat_result]]:
    out = []
    with os.scandir(folder) as it:
        for e in it:
            if e.is_dir(follow_symlinks=False):
                out.extend(_lstat_tree(Path(e.path), f"{prefix}{e.name}/"))
            else:
                out.append((prefix + e.name, e.stat(follow_symlinks=False)))
    return out


def _run_file_state(entry: Entry) -> tuple[str | None, bool]:
    """A run's project and whether its ``.wandb`` file holds the exit record yet."""
    from desktopviz.importing.offline_run import read_records

    files = sorted(entry.path.glob("run-*.wandb"))
    if not files:
        return None, False
    project, ended = None, False
    try:
        for record in read_records(files[0]):
            kind = record.WhichOneof("record_type")
            if kind == "run":
                project = record.run.project or None
            elif kind == "exit":
                ended = True
    except FormatError:  # a record cut short: the writer is still at it
        return project, False
    return project, ended


def _seen(cache: Cache, source: str) -> set[str]:
    """The file-list digests of the entries imported from ``source`` (rows of ``synced`` whose
    digest is ``listing:<sha256>``; the versions they made are rows of their own)."""
    rows = cache.conn.execute(
        "SELECT digest FROM synced WHERE source = ? AND digest LIKE ?", (source, LISTING + "%")
    ).fetchall()
    return {r[0][len(LISTING) :] for r in rows}


def _record(
    cache: Cache, source: str, root: Path, entry: Entry, digest: str, results: list[ImportResult]
) -> None:
    rows = [("", entry.path.relative_to(root).as_posix(), LISTING + digest, -1, None)]
    for r in results:
        if r.result is not None:
            v = r.result.version
            rows.append((v.project, v.name, v.digest, v.index, v.id))
    with cache.write() as conn:
        conn.executemany(
            "INSERT OR IGNORE INTO synced (source, project, name, digest, number, version_id) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(source, *row) for row in rows],
        )


def sync_folder(
    cache: Cache,
    root: Path,
    *,
    source: str,
    projects: list[str] | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    settle: float = SETTLE_SECONDS,
    stale: float = STALE_SECONDS,
    on_import: Callable[[list[ImportResult]], None] | None = None,
    memo: FolderMemo | None = None,
) -> FolderSyncReport:
    """Import the new or changed runs and download folders under ``root`` (see the module).

    ``source``: the name the entries' digests are kept under (a saved source's name, else the
    folder's path). ``projects``: only entries of these projects. ``on_import`` is called with
    each entry's results as soon as it is in the cache.
    """
    root = Path(root)
    if not root.is_dir():
        raise DesktopvizError("no such folder", file=root)
    cache.add_source(source, str(root.resolve()), replace=False)  # as a store's sync does
    report = FolderSyncReport()
    memo = memo if memo is not None else FolderMemo()
    seen = _seen(cache, source)
    todo: list[tuple[Entry, str]] = []
    now = time.time()
    for entry in find_entries(root):
        check_cancel(cancel)
        try:
            digest, newest = listing(root, entry)
        except FileNotFoundError:  # a file went away while we looked
            report.pending.append(entry.path)
            continue
        if digest in seen:
            report.skipped += 1
            continue
        if digest in memo.failed:
            continue
        quiet = now - newest
        if entry.kind == "run":
            if digest in memo.open_runs and quiet < stale:
                report.pending.append(entry.path)
                continue
            project, ended = _run_file_state(entry)
            if not ended and quiet < stale:
                memo.open_runs.add(digest)
            if (not ended and quiet < stale) or quiet < settle:
                report.pending.append(entry.path)
                continue
        else:
            project = default_project(entry.path)
            if quiet < settle:
                report.pending.append(entry.path)
                continue
        if projects and project not in projects:
            continue
        todo.append((entry, digest))
    # An entry that fails for want of another's files (a reference to an artifact imported later
    # in the pass) is tried again after the rest, as long as each round imports something.
    while todo:
        deferred: list[tuple[Entry, str, DesktopvizError]] = []
        for entry, digest in todo:
            check_cancel(cancel)
            try:
                results = import_path(cache, entry.path, progress=progress, cancel=cancel)
            except FormatError as e:
                deferred.append((entry, digest, e.located(file=entry.path)))
                continue
            except Cancelled:
                raise
            except DesktopvizError as e:
                memo.failed.add(digest)
                report.failed.append(e.located(file=entry.path))
                continue
            _record(cache, source, root, entry, digest, results)
            report.imported.extend(results)
            if on_import is not None:
                on_import(results)
        if len(deferred) == len(todo):
            report.failed.extend(e for _, _, e in deferred)
            memo.failed.update(digest for _, digest, _ in deferred)
            break
        todo = [(entry, digest) for entry, digest, _ in deferred]
    if report.failed:
        cache.set_source_state(source, state=f"error: {report.failed[0]}"[:500])
    else:
        cache.set_source_state(source, state="ok", last_sync=now_iso())
    return report


def watch(
    cache: Cache,
    root: Path,
    *,
    source: str,
    projects: list[str] | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    on_report: Callable[[FolderSyncReport], None] | None = None,
    on_import: Callable[[list[ImportResult]], None] | None = None,
    settle: float = SETTLE_SECONDS,
    stale: float = STALE_SECONDS,
    rescan: float = RESCAN_SECONDS,
    tick: float = 0.25,
) -> None:
    """Sync ``root`` now, then again whenever files under it change and have been quiet for
    ``settle`` seconds, while an entry is still being written, and every ``rescan`` seconds;
    until ``cancel()`` is true (then :class:`~desktopviz.errors.Cancelled`) or the process is
    interrupted."""
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers import Observer

    changed = threading.Event()

    class _Changed(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            if event.event_type != "opened" and event.event_type != "closed_no_write":
                changed.set()

    observer = Observer()
    observer.schedule(_Changed(), str(root), recursive=True)
    observer.start()
    memo = FolderMemo()
    try:
        last_change = last_pass = 0.0
        due = True
        while True:
            check_cancel(cancel)
            now = time.monotonic()
            if changed.is_set():
                changed.clear()
                last_change, due = now, True
            if (due and now - last_change >= settle) or now - last_pass >= rescan:
                report = sync_folder(
                    cache,
                    root,
                    source=source,
                    projects=projects,
                    progress=progress,
                    cancel=cancel,
                    settle=settle,
                    stale=stale,
                    on_import=on_import,
                    memo=memo,
                )
                last_pass = time.monotonic()
                # an entry still being written is looked at again once it may have settled
                due = bool(report.pending)
                last_change = last_pass if due else last_change
                if on_report is not None:
                    on_report(report)
            time.sleep(tick)
    finally:
        observer.stop()
        observer.join(timeout=5)
