"""Pack files: many small blobs appended to one file, made durable with one ``fsync``.

Creating a file costs far more than writing a few kilobytes (tens to hundreds of microseconds
each, more in sandboxes and on network file systems), so an import of 20,000 images writes them
into a pack instead of 20,000 files. A pack is append-only while its import runs and immutable
after; where each blob lies (pack, offset, size) is a row of the index's ``packed`` table,
written in the same transaction that publishes the version. A crash before that transaction
leaves only a pack no row names, which ``gc`` removes.
"""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from desktopviz.store.leases import Lease

PACK_MAX_BLOB = 1 << 20
"""Blobs up to this size go into packs; larger ones are files of their own."""
PACK_ROLL_BYTES = 1 << 30
"""A pack is closed and a new one begun past this size (so repacking stays cheap)."""
_FLUSH_BYTES = 8 << 20
SUFFIX = ".pack"
PACKS_DIR = "packs"


@dataclass(frozen=True)
class PackedBlob:
    """Where one blob lies: ``size`` bytes at ``offset`` of pack file ``pack``."""

    sha256: str
    pack: str
    offset: int
    size: int


def pack_lease_name(pack: str) -> str:
    """The name a lease holds for a pack being written (``gc`` spares it)."""
    return f"{PACKS_DIR}/{pack}"


class PackWriter:
    """Appends blobs to new pack files under ``folder``; safe to share between threads.

    Nothing written is durable until :meth:`finish`, which flushes and syncs every pack once.
    """

    def __init__(self, folder: Path, lease: Lease | None = None) -> None:
        self.folder = folder
        self.lease = lease
        self.entries: list[PackedBlob] = []
        self.names: list[str] = []
        self._lock = threading.Lock()
        self._buffer = bytearray()
        self._file: int | None = None
        self._written = 0
        self._pending: dict[str, PackedBlob] = {}

    def append(self, sha256: str, data: bytes) -> PackedBlob:
        """Add a blob (once per digest per writer) and say where it lies."""
        with self._lock:
            known = self._pending.get(sha256)
            if known is not None:
                return known
            if self._file is None or self._written + len(self._buffer) >= PACK_ROLL_BYTES:
                self._roll()
            entry = PackedBlob(sha256, self.names[-1], self._written + len(self._buffer), len(data))
            self._buffer += data
            if len(self._buffer) >= _FLUSH_BYTES:
                self._flush()
            self.entries.append(entry)
            self._pending[sha256] = entry
            return entry

    def finish(self) -> list[PackedBlob]:
        """Write what is buffered and make every pack durable; return the blobs written."""
        with self._lock:
            if self._file is not None:
                self._flush()
                os.fsync(self._file)
                os.close(self._file)
                self._file = None
            if self.names:
                fsync_dir(self.folder)
            return list(self.entries)

    def abandon(self) -> None:
        """Close without syncing (the caller discards the packs)."""
        with self._lock:
            if self._file is not None:
                os.close(self._file)
                self._file = None

    def _roll(self) -> None:
        if self._file is not None:
            self._flush()
            os.fsync(self._file)
            os.close(self._file)
        name = f"{secrets.token_hex(12)}{SUFFIX}"
        if self.lease is not None:
            self.lease.add(pack_lease_name(name))
        self.folder.mkdir(parents=True, exist_ok=True)
        self._file = os.open(self.folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        self.names.append(name)
        self._written = 0

    def _flush(self) -> None:
        view = memoryview(self._buffer)
        while view:
            n = os.write(self._file, view)  # type: ignore[arg-type]
            view = view[n:]
        self._written += len(self._buffer)
        self._buffer = bytearray()


def read_packed(folder: Path, pack: str, offset: int, size: int) -> bytes:
    """The bytes of one packed blob (short when the pack was cut: the caller checks)."""
    fd = os.open(folder / pack, os.O_RDONLY)
    try:
        return os.pread(fd, size, offset)
    finally:
        os.close(fd)


def place_file(tmp: str | os.PathLike[str], dest: Path) -> None:
    """Rename a written and synced temp file to ``dest`` durably (its folder made and synced)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, dest)
    fsync_dir(dest.parent)


def fsync_dir(path: Path) -> None:
    """Flush a directory entry so a file created or renamed inside it survives a crash."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
