"""Paths that never leave their root: no ``..``, no absolute paths, no escaping symlinks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

from desktopviz.errors import DesktopvizError, UnsafePathError


def safe_relpath(rel: str, *, file: str | os.PathLike[str] | None = None) -> str:
    """Normalise an artifact-relative path to POSIX form, refusing anything that leaves the root."""
    if not isinstance(rel, str) or not rel:
        raise UnsafePathError("empty path", file=file)
    if "\x00" in rel:
        raise UnsafePathError(f"path {rel!r} contains a NUL byte", file=file)
    norm = rel.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        raise UnsafePathError(f"absolute path {rel!r} is not allowed", file=file)
    parts = norm.split("/")
    if "" in parts or "." in parts:
        parts = [p for p in parts if p not in ("", ".")]
    if ".." in parts:
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
    """Yield ``(relative posix path, path)`` for every regular file under ``root``.

    Symlinks are followed while they stay inside ``root``; one (to a file or a folder) that leads
    out of ``root`` raises :class:`UnsafePathError`. A symlink to a folder on the way down to it,
    or above one (a loop, such as ``a/loop -> ..``), is skipped: nothing is lost, since every
    folder inside ``root`` is walked through its own path. A folder that cannot be read raises
    :class:`DesktopvizError` with the system's reason (its files are never silently left out).
    Broken symlinks, FIFOs, sockets and devices are skipped.
    """
    root_real = Path(os.path.realpath(root))
    yield from _walk(Path(root), Path(root), root_real, frozenset({root_real}))


def _walk(
    root: Path, folder: Path, root_real: Path, entered: frozenset[Path]
) -> Iterator[tuple[str, Path]]:
    """Files under ``folder`` named relative to ``root`` (the entry types come from the folder
    listing, so a plain file costs no system call of its own).

    ``entered``: the real folders on the way down (the root, each followed link's target and the
    folder it was followed from).
    """
    prefix = _rel(root, folder) if folder != root else ""
    yield from _walk_listing(root, folder, prefix, root_real, entered)


def _walk_listing(
    root: Path, here: Path, prefix: str, root_real: Path, entered: frozenset[Path]
) -> Iterator[tuple[str, Path]]:
    try:
        with os.scandir(here) as it:
            entries = sorted(it, key=lambda e: e.name)
        subdirs, links, files = [], [], []
        for e in entries:
            if e.is_symlink():
                (links if _points_to(e, "dir") else files).append(e)
            elif e.is_dir(follow_symlinks=False):
                subdirs.append(e)
            elif e.is_file(follow_symlinks=False):
                files.append(e)
    except OSError as e:
        raise _folder_error(e, e.filename or here) from e
    if links:
        here_real = Path(os.path.realpath(here))
        for e in links:
            p = here / e.name
            real = _check_inside(root_real, p)
            way = entered | {here_real}
            if any(real == d or real in d.parents for d in way):
                continue  # a loop: back to (or above) a folder on the way here
            yield from _walk_listing(root, p, f"{prefix}{e.name}/", root_real, way | {real})
    for e in files:
        p = here / e.name
        if e.is_symlink():
            _check_inside(root_real, p)
            if not _points_to(e, "file"):
                continue  # broken, or a FIFO, socket or device behind the link
        yield f"{prefix}{e.name}", p
    for e in subdirs:
        yield from _walk_listing(root, here / e.name, f"{prefix}{e.name}/", root_real, entered)


def _points_to(entry: os.DirEntry[str], kind: str) -> bool:
    """Whether a symlink leads to a folder (``dir``) or a regular file; a broken link or a loop
    leads to neither."""
    try:
        return entry.is_dir() if kind == "dir" else entry.is_file()
    except OSError:
        return False


def _folder_error(e: OSError, folder: str | os.PathLike[str]) -> DesktopvizError:
    return DesktopvizError(f"cannot read folder: {e.strerror or e}", file=folder)


def _raise_folder_error(e: OSError) -> NoReturn:
    raise _folder_error(e, e.filename) from e


def _rel(root: Path, p: Path) -> str:
    return p.relative_to(root).as_posix()


def _check_inside(root_real: Path, p: Path) -> Path:
    real = Path(os.path.realpath(p))
    if real != root_real and root_real not in real.parents:
        raise UnsafePathError(f"symlink leads out of the folder to {str(real)!r}", file=p)
    return real
