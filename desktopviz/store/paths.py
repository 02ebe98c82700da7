"""Paths that never leave their root: no ``..``, no absolute paths, no escaping symlinks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
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
    """Files under ``folder`` named relative to ``root``.

    ``entered``: the real folders on the way down (the root, each followed link's target and the
    folder it was followed from).
    """
    for dirpath, dirnames, filenames in os.walk(folder, onerror=_raise_folder_error):
        dirnames.sort()
        here = Path(dirpath)
        here_real = Path(os.path.realpath(here))
        try:
            links = {name for name in dirnames if (here / name).is_symlink()}
            files = [here / n for n in sorted(filenames)]
            file_links = {p for p in files if p.is_symlink()}
            regular = {p for p in files if p.is_file()}
        except OSError as e:  # a folder that can be listed but not searched
            raise _folder_error(e, here) from e
        for name in [n for n in dirnames if n in links]:
            dirnames.remove(name)
            p = here / name
            real = _check_inside(root_real, p)
            way = entered | {here_real}
            if any(real == d or real in d.parents for d in way):
                continue  # a loop: back to (or above) a folder on the way here
            yield from _walk(root, p, root_real, way | {real})
        for p in files:
            if p in file_links:
                _check_inside(root_real, p)
            if p in regular:
                yield _rel(root, p), p


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
