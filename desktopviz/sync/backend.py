"""Where a store lives: the few operations the sync code needs of a folder, an HTTP server or an
object store. Paths are store-relative POSIX paths (``blobs/sha256/ab/<digest>``,
``manifests/<digest>.json``, ``journal/000000000042.json``, ``store.json``); a backend refuses a
path that is absolute, empty, or has a ``..`` part or a backslash (:func:`check_path`).

Public API: :class:`Backend` (the protocol), :class:`Conflict`, :class:`AuthError`,
:func:`check_path`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import BinaryIO, Protocol

from desktopviz.errors import DesktopvizError


class Conflict(DesktopvizError):
    """``create`` found the path already there (another writer was first)."""


class AuthError(DesktopvizError):
    """The store refused the token (or wants one): ``authentication failed for <source>``."""


def check_path(path: str) -> str:
    """``path`` if it is a safe store-relative path, else a :class:`DesktopvizError`."""
    p = PurePosixPath(path)
    if (
        not path
        or "\\" in path
        or "\x00" in path
        or p.is_absolute()
        or any(part in ("..", ".", "") for part in path.split("/"))
    ):
        raise DesktopvizError(f"refused store path {path!r}: not inside the store")
    return path


class Backend(Protocol):
    """A store's storage. Implementations: ``FolderBackend`` (desktopviz.sync.folder),
    ``HttpBackend`` (desktopviz.sync.http), ``S3Backend`` (desktopviz.sync.s3)."""

    url: str
    """What the user named it by (a folder path, ``http://host:8765``, ``s3://bucket/prefix``)."""

    def read(self, path: str) -> bytes | None:
        """The whole file, or None when it is not there."""

    def open(self, path: str, offset: int = 0) -> BinaryIO:
        """A stream of the file from ``offset`` (a Range request over HTTP); raises
        :class:`DesktopvizError` naming the path when it is not there."""

    def exists(self, path: str) -> bool:
        """Whether the file is there."""

    def missing_blobs(self, digests: list[str]) -> set[str]:
        """Which of these sha256 digests the store does not hold (one round trip where the
        backend allows it)."""

    def put_blob(self, digest: str, stream: BinaryIO, size: int) -> None:
        """Store a blob under its sha256 (verified before it is kept; a blob already there is
        left as it is). Raises :class:`DesktopvizError` when the bytes do not match."""

    def put(self, path: str, data: bytes) -> None:
        """Write an immutable, content-addressed file (a manifest) whole and atomically; a file
        already there with the same name is left as it is."""

    def create(self, path: str, data: bytes) -> None:
        """Create ``path`` only if it does not exist yet, atomically (the journal's compare and
        set); raises :class:`Conflict` when it exists."""

    def list(self, prefix: str, after: str | None = None) -> Iterator[str]:
        """Paths under ``prefix`` in name order, only those sorting after ``after``."""

    def close(self) -> None:
        """Let go of connections."""
