"""Leases: the blobs and derived files a live process is writing, which ``gc`` must spare.

A writer holds one lease file under ``leases/`` for the length of its job, locked for as long as
the process lives, and appends the name of each blob digest or derived path *before* it writes or
reuses that file. ``gc`` reads the leases of live processes inside its index write transaction and
deletes nothing they name; a lease whose lock can be taken belongs to a dead process and is
removed. Appending needs no lock, so leasing costs one small write per file.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # Windows: an open file cannot be deleted, which is how liveness shows there
    fcntl = None  # type: ignore[assignment]

SUFFIX = ".lease"


class Lease:
    """The names (blob digests, derived paths) one job is writing; spared by ``gc``."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{os.getpid()}-{secrets.token_hex(6)}{SUFFIX}"
        self._file: IO[str] | None = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115
        if fcntl is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.names: list[str] = []

    def add(self, *names: str) -> None:
        """Claim these names before their files are written or reused."""
        if self._file is None:
            raise RuntimeError("the lease is closed")
        self._file.write("".join(f"{n}\n" for n in names))
        self._file.flush()
        self.names.extend(names)

    def close(self) -> None:
        """Give the names back (``gc`` may delete what no version refers to)."""
        if self._file is not None:
            self._file.close()
            self._file = None
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def live_names(folder: Path, *, exclude: Iterable[Path] = ()) -> set[str]:
    """Every name leased by a live process (stale leases of dead processes are removed)."""
    skip = {Path(p) for p in exclude}
    names: set[str] = set()
    if not folder.is_dir():
        return names
    for path in folder.glob(f"*{SUFFIX}"):
        if path in skip:
            continue
        try:
            text = _read_if_live(path)
        except FileNotFoundError:
            continue
        if text is not None:
            names.update(line for line in text.splitlines() if line)
    return names


def _read_if_live(path: Path) -> str | None:
    if fcntl is None:
        try:
            path.unlink()  # fails while the owner still has it open
            return None
        except PermissionError:
            return path.read_text(encoding="utf-8")
    with open(path, encoding="utf-8") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return f.read()
        path.unlink(missing_ok=True)  # its process is gone
        return None
