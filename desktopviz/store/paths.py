"""Paths that never leave their root: no ``..``, no absolute paths, no escaping symlinks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from desktopviz.errors import UnsafePathError


def safe_relpath(rel: str, *, file: str | os.PathLike[str] | None = None) -> str:
    """Normalise an artifact-relative path to POSIX form, refusing anything that leaves the root."""
    if not isinstance(rel, str) or not rel:
        raise UnsafePathError("empty path", file=file)
    if "\x00" in rel:
        raise UnsafePathError(f"path {rel!r} contains a NUL byte", file=file)
    norm = rel.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        raise UnsafePathError(f"absolute path {rel!r} is not allowed", file=file)
    parts = [p for p in PurePosixPath(norm).parts if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise UnsafePathError(f"path {rel!r} leads out of its folder ('..')", file=file)
    if not parts:
        raise UnsafePathError(f"path {rel!r} names no file", file=file)
    return "/".join(parts)


def safe_join(root: Path, rel: str, *, file: str | os.PathLike[str] | None = None) -> Path:
    """``root / rel`` after checking that neither the path nor a symlink on it leaves ``root``."""
    rel = safe_relpath(rel, file=file)
    root_real = Path(os.path.realpath(root))
    target = root / rel
    real = Path(os.path.realpath(target))
    if real != root_real and root_real not in real.parents:
        raise UnsafePathError(
            f"path {rel!r} is a symlink leading out of {str(root)!r}", file=file or target
        )
    return target


def walk_files(root: Path) -> Iterator[tuple[str, Path]]:
    """Yield ``(relative posix path, path)`` for every file under ``root``, sorted.

    A symlink (to a file or folder) that leads out of ``root`` raises :class:`UnsafePathError`.
    """
    root_real = Path(os.path.realpath(root))
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        here = Path(dirpath)
        for name in list(dirnames):
            p = here / name
            if p.is_symlink():
                _check_inside(root_real, p)
                dirnames.remove(name)
                yield from ((f"{_rel(root, p)}/{r}", q) for r, q in walk_files(p))
        for name in sorted(filenames):
            p = here / name
            if p.is_symlink():
                _check_inside(root_real, p)
            if p.is_file():
                yield _rel(root, p), p


def _rel(root: Path, p: Path) -> str:
    return p.relative_to(root).as_posix()


def _check_inside(root_real: Path, p: Path) -> None:
    real = Path(os.path.realpath(p))
    if real != root_real and root_real not in real.parents:
        raise UnsafePathError(f"symlink leads out of the folder to {str(real)!r}", file=p)
