"""Content-addressed blob store: immutable files under ``blobs/sha256/ab/<digest>``."""

from __future__ import annotations

import base64
import errno
import hashlib
import io
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from desktopviz.errors import DesktopvizError
from desktopviz.progress import CancelFn, check_cancel
from desktopviz.store.leases import Lease
from desktopviz.store.packs import (
    PACKS_DIR,
    PackedBlob,
    PackWriter,
    fsync_dir,
    pack_lease_name,
    read_packed,
)

__all__ = ["DISK_FULL", "BlobInfo", "BlobStore", "atomic_write_bytes", "fsync_dir", "unreadable"]
_IN_CHUNK = 500

CHUNK = 1 << 20
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
"""``errno`` values of a write that found no room."""


@dataclass(frozen=True)
class BlobInfo:
    """What the store knows of a blob: its sha256 (hex), size and W&B md5 digest (base64)."""

    sha256: str
    size: int
    md5_b64: str
    placed: bool = False
    """True when this call put the blob in the store (it was not there before)."""


def unreadable(path: Path, e: OSError) -> DesktopvizError:
    """One line for a file the system would not let us read."""
    return DesktopvizError(f"cannot read file: {e.strerror or e}", file=path)


def atomic_write_bytes(path: Path, data: bytes, tmp_dir: Path) -> None:
    """Write ``data`` to ``path`` via a temp file, fsync and rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=tmp_dir, prefix="w-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


class BlobStore:
    """Immutable blobs named by the sha256 of their bytes: small ones in pack files (located by
    the index's ``packed`` table), larger ones as files of their own under ``ab/<digest>``."""

    def __init__(
        self,
        root: Path,
        tmp_dir: Path,
        index: sqlite3.Connection | None = None,
        index_path: Path | None = None,
    ) -> None:
        self.root = root
        self.tmp_dir = tmp_dir
        self.index = index
        self.index_path = index_path
        self._owner = threading.get_ident()
        self._readers = threading.local()
        self.packs_dir = root.parent / PACKS_DIR
        self.extracted_dir = root.parent / "extracted"
        root.mkdir(parents=True, exist_ok=True)
        tmp_dir.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        """Where the blob's own file lives (whether or not it exists; packed blobs have none:
        use :meth:`local_path` for a file to hand to other programs)."""
        return self.root / sha256[:2] / sha256

    def locate(self, sha256: str) -> PackedBlob | None:
        """Where a packed blob lies, or None."""
        index = self._index()
        if index is None:
            return None
        row = index.execute(
            "SELECT pack, offset, size FROM packed WHERE sha256 = ?", (sha256,)
        ).fetchone()
        return PackedBlob(sha256, *row) if row else None

    def _index(self) -> sqlite3.Connection | None:
        """The index connection for this thread: the owner's own, or a read-only one per other
        thread (workers that decode thumbnails never share the window's connection)."""
        if self.index is None or self.index_path is None or threading.get_ident() == self._owner:
            return self.index
        conn = getattr(self._readers, "conn", None)
        if conn is None:
            conn = sqlite3.connect(f"{self.index_path.resolve().as_uri()}?mode=ro", uri=True)
            self._readers.conn = conn
        return conn

    def has(self, sha256: str) -> bool:
        """True when the blob is present."""
        return self.locate(sha256) is not None or self.path(sha256).is_file()

    def missing(self, digests: Iterable[str]) -> set[str]:
        """The digests among ``digests`` that the store does not hold (one query per 500)."""
        wanted = set(digests)
        rest = wanted - self._packed_among(wanted)
        if not rest:
            return rest
        try:
            shards = set(os.listdir(self.root))
        except FileNotFoundError:
            return rest
        return {d for d in rest if d[:2] not in shards or not self.path(d).is_file()}

    def _packed_among(self, digests: set[str]) -> set[str]:
        if self.index is None or not digests:
            return set()
        found: set[str] = set()
        items = list(digests)
        for i in range(0, len(items), _IN_CHUNK):
            chunk = items[i : i + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            # one row (one step): a row per digest would hand the GIL back and forth per row
            (listed,) = self.index.execute(
                f"SELECT group_concat(sha256) FROM packed WHERE sha256 IN ({marks})", chunk
            ).fetchone()
            found.update(listed.split(",") if listed else ())
        return found

    def size(self, sha256: str) -> int | None:
        """The blob's size in bytes, or None when it is absent."""
        packed = self.locate(sha256)
        if packed is not None:
            return packed.size
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            return None

    def read(self, sha256: str) -> bytes:
        """The blob's bytes as stored (FileNotFoundError when absent; not checked: see
        :meth:`copy_out` and ``desktopviz verify``)."""
        packed = self.locate(sha256)
        if packed is None:
            return self.path(sha256).read_bytes()
        data = read_packed(self.packs_dir, packed.pack, packed.offset, packed.size)
        if len(data) != packed.size:
            raise OSError(errno.EIO, "pack file is cut short", str(self.packs_dir / packed.pack))
        return data

    def open(self, sha256: str) -> BinaryIO:
        """The blob's bytes as a binary file object (FileNotFoundError when absent)."""
        if self.locate(sha256) is None:
            return open(self.path(sha256), "rb")  # noqa: SIM115 - the caller closes it
        return io.BytesIO(self.read(sha256))

    def local_path(self, sha256: str) -> Path:
        """A file holding the blob, for readers that need a path (a packed blob is copied out
        under ``extracted/`` and reused while it is newer than its pack; an absent blob gives its
        would-be path, which does not exist)."""
        packed = self.locate(sha256)
        if packed is None:
            return self.path(sha256)
        dest = self.extracted_dir / sha256[:2] / sha256
        try:
            copy = dest.stat()
            # packs never change once written: a newer pack was rewritten behind our back
            if copy.st_size == packed.size and copy.st_mtime_ns >= self._pack_mtime(packed.pack):
                return dest
        except FileNotFoundError:
            pass
        atomic_write_bytes(dest, self.read(sha256), self.tmp_dir)
        return dest

    def _pack_mtime(self, pack: str) -> int:
        try:
            return (self.packs_dir / pack).stat().st_mtime_ns
        except FileNotFoundError:
            return 0

    def pack_writer(self, lease: Lease | None = None) -> PackWriter:
        """A writer of new packs (leased as it creates them)."""
        return PackWriter(self.packs_dir, lease)

    def put_file(
        self, src: Path, cancel: CancelFn | None = None, lease: Lease | None = None
    ) -> BlobInfo:
        """Copy ``src`` into the store (hashing as it goes) and return its digests.

        The digest is added to ``lease`` before the blob is placed or reused, so ``gc`` spares it.
        """
        try:
            with open(src, "rb") as f:
                return self.put_stream(f, cancel=cancel, lease=lease)
        except OSError as e:
            if e.errno in DISK_FULL:
                raise  # the caller knows what was being written and cleans up
            raise unreadable(src, e) from e

    def put_stream(
        self,
        stream: BinaryIO,
        *,
        expect: str | None = None,
        cancel: CancelFn | None = None,
        lease: Lease | None = None,
        md5: bool = True,
        where: str | None = None,
    ) -> BlobInfo:
        """Copy a stream into the store through a synced temp file, hashing as it goes (the
        digest leased before the blob is placed or reused). ``expect``: the sha256 the bytes
        must have, else nothing is kept and the error names ``where`` and the digest; ``md5``:
        also compute the W&B digest (else ``md5_b64`` is empty)."""
        sha, md5_hash = hashlib.sha256(), hashlib.md5() if md5 else None
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.tmp_dir, prefix="blob-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    check_cancel(cancel)
                    sha.update(chunk)
                    if md5_hash is not None:
                        md5_hash.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            digest = sha.hexdigest()
            if expect is not None and digest != expect:
                raise DesktopvizError(
                    f"{where or 'blob'}: the bytes do not match their digest (sha256 {digest}, "
                    f"expected {expect}); not kept"
                )
            if lease is not None:
                lease.add(digest)
            placed = self._place(Path(tmp), digest)
            md5_b64 = base64.b64encode(md5_hash.digest()).decode() if md5_hash else ""
            return BlobInfo(digest, size, md5_b64, placed)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def put_bytes(self, data: bytes, lease: Lease | None = None) -> BlobInfo:
        """Store ``data`` and return its digests (leased first, as in :meth:`put_file`)."""
        digest = hashlib.sha256(data).hexdigest()
        if lease is not None:
            lease.add(digest)
        placed = not self.has(digest)
        if placed:
            atomic_write_bytes(self.path(digest), data, self.tmp_dir)
        md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
        return BlobInfo(digest, len(data), md5, placed)

    def copy_out(self, sha256: str, dest: Path, where: str) -> None:
        """Copy a blob to ``dest``, checking its bytes against its digest on the way.

        A damaged blob raises an error naming ``where`` (its version and path) and leaves no
        ``dest``."""
        try:
            source = self.open(sha256)
        except FileNotFoundError as e:
            raise DesktopvizError(
                f"missing file in the cache: {where} (blob {sha256}); run `desktopviz verify`"
            ) from e
        digest = hashlib.sha256()
        with source as f, open(dest, "wb") as out:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            dest.unlink(missing_ok=True)
            raise DesktopvizError(
                f"damaged file in the cache: {where} (blob {sha256}) does not match its digest; "
                "run `desktopviz verify`"
            )

    def _place(self, tmp: Path, sha256: str) -> bool:
        dest = self.path(sha256)
        if dest.is_file() or self.locate(sha256) is not None:
            return False
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
        return True

    def all_digests(self) -> set[str]:
        """Every digest present in the store."""
        loose = {p.name for p in self.root.glob("??/*") if p.is_file()}
        if self.index is None:
            return loose
        return loose | {r[0] for r in self.index.execute("SELECT sha256 FROM packed")}

    def remove(self, sha256: str) -> int:
        """Delete a blob (a packed one leaves the index, inside the caller's write transaction;
        its pack shrinks at :meth:`compact`); return the bytes freed."""
        packed = self.locate(sha256)
        if packed is not None:
            self.index.execute("DELETE FROM packed WHERE sha256 = ?", (sha256,))  # type: ignore[union-attr]
            (self.extracted_dir / sha256[:2] / sha256).unlink(missing_ok=True)
            return packed.size
        p = self.path(sha256)
        try:
            size = p.stat().st_size
            p.unlink()
            return size
        except FileNotFoundError:
            return 0

    def drop_unnamed_packs(self, lease_names: Iterable[str]) -> int:
        """Delete the packs named in a failed job's lease that no index row uses; bytes freed."""
        freed = 0
        prefix = pack_lease_name("")
        for name in lease_names:
            if not name.startswith(prefix):
                continue
            pack = name[len(prefix) :]
            used = (
                self.index is not None
                and self.index.execute(
                    "SELECT 1 FROM packed WHERE pack = ? LIMIT 1", (pack,)
                ).fetchone()
            )
            if not used:
                path = self.packs_dir / pack
                try:
                    freed += path.stat().st_size
                    path.unlink()
                except FileNotFoundError:
                    continue
        return freed

    def compact(self, keep: set[str]) -> tuple[list[Path], int]:
        """Inside a write transaction: rewrite the packs that are mostly dead bytes into a new
        pack, and list the pack files no row names (nor a lease in ``keep``). Returns those files,
        to delete once the transaction has committed, and the bytes they free."""
        if self.index is None or not self.packs_dir.is_dir():
            return [], 0
        live = {
            pack: (count, size)
            for pack, count, size in self.index.execute(
                "SELECT pack, COUNT(*), SUM(size) FROM packed GROUP BY pack"
            )
        }
        doomed: list[Path] = []
        sparse: list[str] = []
        for path in self.packs_dir.glob("*.pack"):
            if pack_lease_name(path.name) in keep:
                continue
            count, size = live.get(path.name, (0, 0))
            if not count:
                doomed.append(path)
            elif size * 2 < path.stat().st_size:
                sparse.append(path.name)
        if sparse:
            writer = self.pack_writer()
            moved: list[tuple[str, str, int]] = []
            for pack in sparse:
                rows = self.index.execute(
                    "SELECT sha256, offset, size FROM packed WHERE pack = ?", (pack,)
                ).fetchall()
                for sha, offset, size in rows:
                    data = read_packed(self.packs_dir, pack, offset, size)
                    entry = writer.append(sha, data)
                    moved.append((entry.pack, entry.offset, sha))
                doomed.append(self.packs_dir / pack)
            writer.finish()
            self.index.executemany("UPDATE packed SET pack = ?, offset = ? WHERE sha256 = ?", moved)
        freed = sum(p.stat().st_size for p in doomed)
        if sparse:
            freed -= sum((self.packs_dir / n).stat().st_size for n in writer.names)
        return doomed, max(freed, 0)
