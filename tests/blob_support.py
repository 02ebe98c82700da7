"""Damage stored blobs the way a failing disk does, wherever they live (a file of their own or a
pack), for tests of what the app says about damaged caches."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from desktopviz.store.cache import Cache


def blob_bytes(cache: Cache, sha256: str) -> bytes:
    """The stored bytes of a blob."""
    return cache.blobs.read(sha256)


def damage_blob(cache: Cache, sha256: str, change: Callable[[bytes], bytes]) -> None:
    """Replace a blob's stored bytes by ``change(bytes)`` in place (a packed blob keeps its
    length: shorter bytes overwrite its start, the rest stays)."""
    old = cache.blobs.read(sha256)
    new = change(old)
    packed = cache.blobs.locate(sha256)
    if packed is None:
        path = cache.blobs.path(sha256)
        path.chmod(0o644)
        path.write_bytes(new)
        return
    new = (new + old[len(new) :])[: packed.size]
    with open(cache.blobs.packs_dir / packed.pack, "r+b") as f:
        f.seek(packed.offset)
        f.write(new)


def lose_blob(cache: Cache, sha256: str) -> Path:
    """Delete the file that holds a blob (for a packed blob, its whole pack); return it."""
    packed = cache.blobs.locate(sha256)
    path = cache.blobs.path(sha256) if packed is None else cache.blobs.packs_dir / packed.pack
    path.unlink()
    return path
