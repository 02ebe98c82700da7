"""A store in a local folder or on a network share (:class:`FolderBackend`).

Every write goes through a temp file under the store's ``tmp/`` folder, is synced and then
renamed (or hard-linked, for the journal's create-if-absent) into place, so a reader never sees a
half-written file. No path leaves the root: each goes through :func:`check_path`, and a path
with a symlink anywhere inside the store is refused rather than followed.

Public API: :class:`FolderBackend`.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from desktopviz.errors import DesktopvizError, UnsafePathError
from desktopviz.store.packs import fsync_dir, place_file
from desktopviz.sync.backend import Conflict, check_path

CHUNK = 1 << 20
TMP = "tmp"
"""The store's staging folder (never part of the layout)."""
_HEX64 = re.compile(r"[0-9a-f]{64}")
_ADDRESSED = re.compile(r"(manifests|runs)/([0-9a-f]{64})\.json")
_NO_LINK = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV, errno.EMLINK})


def blob_path(digest: str) -> str:
    """The store path of a blob: ``blobs/sha256/<aa>/<digest>``."""
    if not _HEX64.fullmatch(digest):
        raise DesktopvizError(f"not a sha256 digest: {digest!r}")
    return f"blobs/sha256/{digest[:2]}/{digest}"


class FolderBackend:
    """The :class:`~desktopviz.sync.backend.Backend` of a folder (created on first write)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.url = str(root)

    # -- paths --------------------------------------------------------------------------
    def _local(self, path: str) -> Path:
        """The file of a store path, refusing one that a symlink would lead elsewhere."""
        check_path(path)
        target = self.root / path
        root_real = os.path.realpath(self.root)
        real = os.path.realpath(target)
        if real != os.path.join(root_real, *path.split("/")):
            raise UnsafePathError(
                f"refused store path {path!r}: a symlink inside the store", file=target
            )
        return target

    def _tmp(self) -> Path:
        folder = self.root / TMP
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{os.getpid()}-{secrets.token_hex(8)}.tmp"

    # -- reading ------------------------------------------------------------------------
    def read(self, path: str) -> bytes | None:
        """The whole file, or None when it is not there."""
        try:
            with self._open(path) as f:
                return f.read()
        except FileNotFoundError:
            return None

    def open(self, path: str, offset: int = 0) -> BinaryIO:
        """A stream of the file from ``offset``; an error naming the path when it is not there."""
        try:
            f = self._open(path)
        except FileNotFoundError as e:
            raise DesktopvizError(f"{path} is not in the store", file=self.url) from e
        if offset:
            f.seek(offset)
        return f

    def _open(self, path: str) -> BinaryIO:
        local = self._local(path)
        try:
            fd = os.open(local, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            raise
        except OSError as e:
            raise DesktopvizError(f"cannot read {path}: {e.strerror or e}", file=local) from e
        return os.fdopen(fd, "rb")

    def exists(self, path: str) -> bool:
        """Whether the file is there."""
        return self._local(path).is_file()

    def missing_blobs(self, digests: list[str]) -> set[str]:
        """Which of these sha256 digests the store does not hold."""
        return {d for d in digests if not self.exists(blob_path(d))}

    def list(self, prefix: str, after: str | None = None) -> Iterator[str]:
        """Files under ``prefix`` (a folder ``journal/`` or a name prefix), in name order, only
        those sorting after ``after``; symlinks are left out."""
        folder_part, _, _ = prefix.rpartition("/")
        base = self._local(folder_part) if folder_part else self.root
        names: list[str] = []
        for dirpath, dirnames, filenames in os.walk(base):
            rel_dir = Path(dirpath).relative_to(self.root).as_posix()
            dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
            if rel_dir == TMP or rel_dir.startswith(TMP + "/"):
                dirnames[:] = []
                continue
            for name in filenames:
                if os.path.islink(os.path.join(dirpath, name)):
                    continue
                rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                if rel.startswith(prefix) and (after is None or rel > after):
                    names.append(rel)
        yield from sorted(names)

    # -- writing ------------------------------------------------------------------------
    def put_blob(self, digest: str, stream: BinaryIO, size: int) -> None:
        """Store a blob: hashed while copied into a temp file, kept only when its sha256 is
        ``digest`` (else an error naming the digest); a blob already there is left as it is."""
        dest = self._local(blob_path(digest))
        if dest.is_file():
            return
        tmp = self._tmp()
        h = hashlib.sha256()
        written = 0
        try:
            with open(tmp, "xb") as out:
                while chunk := stream.read(CHUNK):
                    h.update(chunk)
                    out.write(chunk)
                    written += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            if h.hexdigest() != digest or written != size:
                raise DesktopvizError(
                    f"blob {digest}: the bytes received ({written} bytes, sha256 "
                    f"{h.hexdigest()}) do not match it; not stored",
                    file=self.url,
                )
            place_file(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)

    def put(self, path: str, data: bytes) -> None:
        """Write an immutable file whole and atomically (a manifest or run record is checked
        against the digest it is named by); a file already there is left as it is."""
        dest = self._local(path)
        named = _ADDRESSED.fullmatch(path)
        if named and hashlib.sha256(data).hexdigest() != named.group(2):
            raise DesktopvizError(f"{path}: the bytes do not match the digest it is named by")
        if dest.is_file():
            return
        tmp = self._write_tmp(data)
        try:
            place_file(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)

    def create(self, path: str, data: bytes) -> None:
        """Create ``path`` only if it does not exist, atomically: the bytes are written and
        synced under a temp name, then hard-linked to ``path`` (which fails when it exists).
        Where the file system has no hard links, ``O_CREAT|O_EXCL`` on ``path`` itself."""
        dest = self._local(path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._write_tmp(data)
        try:
            try:
                os.link(tmp, dest)
            except FileExistsError as e:
                raise Conflict(f"{path} exists already", file=self.url) from e
            except OSError as e:
                if e.errno not in _NO_LINK:
                    raise
                self._create_excl(dest, path, data)
            fsync_dir(dest.parent)
        finally:
            tmp.unlink(missing_ok=True)

    def _create_excl(self, dest: Path, path: str, data: bytes) -> None:
        try:
            fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError as e:
            raise Conflict(f"{path} exists already", file=self.url) from e
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())

    def _write_tmp(self, data: bytes) -> Path:
        tmp = self._tmp()
        with open(tmp, "xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        return tmp

    def close(self) -> None:
        """Nothing to let go of."""

    def __repr__(self) -> str:
        return f"FolderBackend({self.url!r})"
