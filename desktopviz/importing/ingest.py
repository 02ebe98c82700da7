"""One read per file: an import's local files hashed, checked and put in the blob store.

Each file is read once, in a reading thread (several for large files: hashlib releases the GIL on
their buffers), for its sha256 (the blob's name), its W&B digest (md5, and xxh128 when the
manifest uses it) and, for an image, the header facts that show it whole (or Pillow's verdict
when the header cannot tell).
The main thread then asks the index which blobs are new, in one query per batch, and appends
those to a pack (:mod:`desktopviz.store.packs`), which is made durable with one ``fsync`` before
the version is committed. Files larger than a pack takes are copied as blobs of their own
(``copy_file_range``: a reflink or an in-kernel copy where the file system offers one).
"""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from desktopviz.errors import DesktopvizError, FormatError
from desktopviz.formats.images import IMAGE_SUFFIXES, check_image, image_header
from desktopviz.progress import CancelFn, Progress, ProgressFn, check_cancel
from desktopviz.store.blobs import CHUNK, DISK_FULL, BlobStore, unreadable
from desktopviz.store.leases import Lease
from desktopviz.store.packs import PACK_MAX_BLOB, PackWriter, fsync_dir

BATCH_FILES = 128
BATCH_BYTES = 8 << 20
"""A batch ends at this many files or bytes (the bytes of small files wait in memory until the
main thread packs them: at most ``AHEAD`` batches per thread)."""
LARGE_AVERAGE = 1 << 20
"""Files this large on average are read by several threads."""
AHEAD = 3
"""Batches in flight per worker: enough to keep the threads busy, few enough to bound memory."""

_NO_COPY_RANGE = frozenset({errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EPERM})
ImageCheck = tuple[int, int, str] | DesktopvizError
"""An image's ``(width, height, format)``, or the error that shows it broken."""


@dataclass(frozen=True)
class Ingested:
    """What one read of a local file found."""

    sha256: str
    size: int
    md5_b64: str
    xxh128: str | None = None
    image: ImageCheck | None = None
    """Set for files with an image suffix."""


@dataclass
class _Read:
    path: str
    facts: Ingested
    data: bytes | None  # the bytes of a small file, until they are packed


def ingest_files(
    blobs: BlobStore,
    files: dict[str, Path],
    writer: PackWriter,
    lease: Lease,
    *,
    xxh128: frozenset[str] = frozenset(),
    sizes: Mapping[str, int] | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> dict[str, Ingested]:
    """Read, hash and store every file (``xxh128``: the paths that also need that digest;
    ``sizes``: their sizes as listed, for batching and progress).

    Blobs already in the store are not written again; new small ones go to ``writer`` (the
    caller makes them durable with :meth:`PackWriter.finish` and commits ``writer.entries``).
    """
    out: dict[str, Ingested] = {}
    if not files:
        return out
    items = list(files.items())
    sizes = sizes or {}
    total_bytes = sum(sizes.values()) if sizes else None
    stop = threading.Event()
    workers = _workers(len(items), total_bytes)
    done_bytes = 0

    def stopped() -> bool:
        return stop.is_set() or bool(cancel and cancel())

    def read_batch(batch: list[tuple[str, Path]]) -> list[_Read]:
        return [_read(blobs, rel, local, rel in xxh128, lease, stopped) for rel, local in batch]

    def store(reads: list[_Read]) -> None:
        nonlocal done_bytes
        done_bytes = _store(
            blobs, writer, reads, out, done_bytes, total_bytes, len(items), progress, cancel
        )

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest")
    pending: list[Future[list[_Read]]] = []
    try:
        for batch in _batches(items, sizes):
            pending.append(pool.submit(read_batch, batch))
            if len(pending) >= workers * AHEAD:
                store(pending.pop(0).result())
        while pending:
            store(pending.pop(0).result())
    except BaseException:
        stop.set()
        for fut in pending:
            fut.cancel()
        raise
    finally:
        pool.shutdown(wait=True)
    return out


def _workers(files: int, total_bytes: int | None) -> int:
    """Threads to read with: one for small files (each costs a few system calls that hand the
    GIL over, and more threads only queue for it: measured no faster with two, 20% slower
    re-reading known files), several where hashing large buffers dominates (hashlib runs them
    without the GIL)."""
    if total_bytes is None or total_bytes < LARGE_AVERAGE * files:
        return 1
    return min(4, os.cpu_count() or 1)


def _batches(
    items: list[tuple[str, Path]], sizes: Mapping[str, int]
) -> Iterator[list[tuple[str, Path]]]:
    batch: list[tuple[str, Path]] = []
    held = 0
    for item in items:
        batch.append(item)
        held += min(sizes.get(item[0], 0), PACK_MAX_BLOB)  # large files are not held
        if len(batch) >= BATCH_FILES or held >= BATCH_BYTES:
            yield batch
            batch, held = [], 0
    if batch:
        yield batch


def _store(
    blobs: BlobStore,
    writer: PackWriter,
    reads: list[_Read],
    out: dict[str, Ingested],
    done_bytes: int,
    total_bytes: int | None,
    total: int,
    progress: ProgressFn | None,
    cancel: CancelFn | None,
) -> int:
    new = blobs.missing(r.facts.sha256 for r in reads if r.data is not None)
    for r in reads:
        if r.data is not None and r.facts.sha256 in new:
            writer.append(r.facts.sha256, r.data)
        out[r.path] = r.facts
        done_bytes += r.facts.size
        if progress:  # per file: a kill or cancel at any file must leave the cache as it was
            progress(Progress("files", len(out), total, done_bytes, total_bytes, r.path))
        check_cancel(cancel)
    return done_bytes


def _read(
    blobs: BlobStore, rel: str, local: Path, want_xxh: bool, lease: Lease, stop: CancelFn
) -> _Read:
    check_cancel(stop)
    try:
        with open(local, "rb", buffering=0) as f:
            size = os.fstat(f.fileno()).st_size
            if size <= PACK_MAX_BLOB:
                data = f.read()
                if len(data) <= PACK_MAX_BLOB:
                    return _Read(rel, _facts(rel, data, want_xxh), data)
                rest = data  # grew while we looked: hash it as a large file
            else:
                rest = b""
            return _Read(rel, _copy_large(blobs, f, rest, want_xxh, lease, stop), None)
    except OSError as e:
        if e.errno in DISK_FULL:
            raise
        raise unreadable(local, e) from e


def _facts(rel: str, data: bytes, want_xxh: bool) -> Ingested:
    sha = hashlib.sha256(data).hexdigest()
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    xxh = _xxh128(data) if want_xxh else None
    image: ImageCheck | None = None
    if os.path.splitext(rel)[1].lower() in IMAGE_SUFFIXES:
        try:
            image = image_header(data, name=rel) or check_image(data, name=rel, decode=True)
        except FormatError as e:  # LimitError is one too
            image = e
    return Ingested(sha, len(data), md5, xxh, image)


def _xxh128(data: bytes) -> str:
    import xxhash

    return base64.b64encode(xxhash.xxh128(data).digest()).decode()


def _copy_large(
    blobs: BlobStore, f: BinaryIO, head: bytes, want_xxh: bool, lease: Lease, stop: CancelFn
) -> Ingested:
    """Hash a large file, then copy it into the store unless its blob is there already.

    md5 (the slowest of the digests, about 700 MB/s) runs in a thread of its own beside sha256."""
    import xxhash

    before = os.fstat(f.fileno())
    sha, md5 = hashlib.sha256(), hashlib.md5()
    xxh = xxhash.xxh128() if want_xxh else None
    size = 0
    chunk = head
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="md5") as side:
        pending: list[Future[None]] = []
        while True:
            if not chunk:
                chunk = f.read(CHUNK)
                if not chunk:
                    break
            check_cancel(stop)
            pending.append(side.submit(md5.update, chunk))  # in order: one thread
            sha.update(chunk)
            if xxh is not None:
                xxh.update(chunk)
            size += len(chunk)
            chunk = b""
            if len(pending) > 2:
                pending.pop(0).result()
        for fut in pending:
            fut.result()
    if size != before.st_size:
        raise OSError(errno.EIO, "the file changed while it was imported")
    digest = sha.hexdigest()
    lease.add(digest)
    dest = blobs.path(digest)
    if not dest.is_file():
        _place_copy(blobs, f.fileno(), size, dest)
    return Ingested(
        digest,
        size,
        base64.b64encode(md5.digest()).decode(),
        base64.b64encode(xxh.digest()).decode() if xxh is not None else None,
    )


def _place_copy(blobs: BlobStore, src: int, size: int, dest: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=blobs.tmp_dir, prefix="blob-")
    try:
        _copy_range(src, fd, size)
        os.fsync(fd)
        os.close(fd)
        fd = -1
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
    finally:
        if fd >= 0:
            os.close(fd)
        Path(tmp).unlink(missing_ok=True)


def _copy_range(src: int, dst: int, size: int) -> None:
    """Copy ``size`` bytes in the kernel: a reflink or a server-side copy where the file system
    offers one, else plain reads and writes."""
    offset = 0
    try:
        while offset < size:
            n = os.copy_file_range(src, dst, size - offset, offset, offset)
            if n == 0:
                break
            offset += n
    except OSError as e:
        if e.errno not in _NO_COPY_RANGE:
            raise
    while offset < size:
        chunk = os.pread(src, min(CHUNK, size - offset), offset)
        if not chunk:
            break
        os.pwrite(dst, chunk, offset)
        offset += len(chunk)
    if offset != size:
        raise OSError(errno.EIO, "the file changed while it was imported")
