"""Content-addressed blob store: immutable files under ``blobs/sha256/ab/<digest>``."""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from desktopviz.errors import DesktopvizError
from desktopviz.progress import CancelFn, check_cancel
from desktopviz.store.leases import Lease

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


def fsync_dir(path: Path) -> None:
    """Flush a directory entry so a rename inside it survives a crash."""
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
    """Immutable files named by the sha256 of their bytes."""

    def __init__(self, root: Path, tmp_dir: Path) -> None:
        self.root = root
        self.tmp_dir = tmp_dir
        root.mkdir(parents=True, exist_ok=True)
        tmp_dir.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        """Where the blob with this digest lives (whether or not it exists)."""
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        """True when the blob is present."""
        return self.path(sha256).is_file()

    def put_file(
        self, src: Path, cancel: CancelFn | None = None, lease: Lease | None = None
    ) -> BlobInfo:
        """Copy ``src`` into the store (hashing as it goes) and return its digests.

        The digest is added to ``lease`` before the blob is placed or reused, so ``gc`` spares it.
        """
        sha, md5 = hashlib.sha256(), hashlib.md5()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.tmp_dir, prefix="blob-")
        try:
            with os.fdopen(fd, "wb") as out, open(src, "rb") as f:
                while chunk := f.read(CHUNK):
                    check_cancel(cancel)
                    sha.update(chunk)
                    md5.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            digest = sha.hexdigest()
            if lease is not None:
                lease.add(digest)
            placed = self._place(Path(tmp), digest)
            return BlobInfo(digest, size, base64.b64encode(md5.digest()).decode(), placed)
        except OSError as e:
            if e.errno in DISK_FULL:
                raise  # the caller knows what was being written and cleans up
            raise unreadable(src, e) from e
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
        digest = hashlib.sha256()
        try:
            with open(self.path(sha256), "rb") as f, open(dest, "wb") as out:
                while chunk := f.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
        except FileNotFoundError as e:
            if e.filename == str(self.path(sha256)):
                raise DesktopvizError(
                    f"missing file in the cache: {where} (blob {sha256}); run `desktopviz verify`"
                ) from e
            raise
        if digest.hexdigest() != sha256:
            dest.unlink(missing_ok=True)
            raise DesktopvizError(
                f"damaged file in the cache: {where} (blob {sha256}) does not match its digest; "
                "run `desktopviz verify`"
            )

    def _place(self, tmp: Path, sha256: str) -> bool:
        dest = self.path(sha256)
        if dest.is_file():
            return False
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
        return True

    def all_digests(self) -> set[str]:
        """Every digest present in the store."""
        return {p.name for p in self.root.glob("??/*") if p.is_file()}

    def remove(self, sha256: str) -> int:
        """Delete a blob; return the bytes freed."""
        p = self.path(sha256)
        try:
            size = p.stat().st_size
            p.unlink()
            return size
        except FileNotFoundError:
            return 0
