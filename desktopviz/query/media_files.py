"""Where an export's media cells point: at the artifact's own paths (as stored), at the files in
the cache (absolute paths), or at copies written into a folder beside the export.

Public API: :data:`MEDIA_MODES`, :class:`MediaFiles`.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import pyarrow as pa

from desktopviz.errors import DesktopvizError
from desktopviz.model import Version
from desktopviz.store.cache import Cache
from desktopviz.store.paths import safe_relpath

MEDIA_MODES = ("cells", "paths", "copy")
"""``cells``: the W&B cells as stored (artifact-relative paths); ``paths``: the cache's local
files; ``copy``: copies in ``<export>_media/`` beside the export, referred to relatively."""


class MediaFiles:
    """Rewrites media cells for an export (``mode`` is one of :data:`MEDIA_MODES`).

    A file is found by the ``sha256`` its cell records (the cache is content-addressed), else
    by its path among the files of ``versions`` (the versions the rows come from: an image
    folder's cells record no digest); a cell whose bytes are not in the cache (a reference)
    keeps its path. In ``copy`` mode each file is checked against its digest as it is copied,
    and the files go into a hidden folder that :meth:`publish` renames into place, so a failed
    or cancelled export leaves no half folder."""

    def __init__(
        self, cache: Cache, mode: str, export_path: Path, versions: Sequence[Version] = ()
    ) -> None:
        if mode not in MEDIA_MODES:
            raise DesktopvizError(f"media must be {', '.join(MEDIA_MODES)}, not {mode!r}")
        self.cache, self.mode = cache, mode
        self.versions = list(versions)
        self._stored: dict[str, tuple[str, str]] | None = None  # path -> (sha256, version ref)
        self.base = Path(export_path).parent
        self.folder = self.base / f"{Path(export_path).stem}_media"
        self.partial = self.base / f".{self.folder.name}.part"
        self._copied: dict[str, str] = {}  # sha256 -> path relative to the export's folder
        self._taken: set[str] = set()
        self.files = 0
        """Media files copied so far."""

    def column(self, column: pa.ChunkedArray | pa.Array, kind: str) -> pa.ChunkedArray | pa.Array:
        """A media (or gallery) column with its cells' paths rewritten (Parquet exports)."""
        if self.mode == "cells" or kind not in ("media", "media_list"):
            return column
        values = column.to_pylist()
        if kind == "media":
            values = [self._record(v) for v in values]
        else:
            values = [None if v is None else [self._record(x) for x in v] for v in values]
        return pa.array(values, type=column.type)

    def cell(self, cell: Any) -> Any:
        """A W&B media cell (dict) with its image and mask paths rewritten."""
        if self.mode == "cells" or not isinstance(cell, dict):
            return cell
        out = dict(cell)
        out["path"] = self._target(cell.get("path"), cell.get("sha256"))
        masks = cell.get("masks")
        if isinstance(masks, dict):
            out["masks"] = {
                layer: (
                    {**m, "path": self._target(m.get("path"), m.get("sha256"))}
                    if isinstance(m, dict)
                    else m
                )
                for layer, m in masks.items()
            }
        return out

    def _record(self, record: dict[str, Any] | None) -> dict[str, Any] | None:
        """A media struct value (``path``, ``masks`` map, ``json``) rewritten like :meth:`cell`."""
        if record is None:
            return None
        cell = self.cell(json.loads(record["json"]))
        out = dict(record, json=json.dumps(cell, sort_keys=True), path=cell.get("path"))
        if record.get("masks"):
            out["masks"] = [
                (layer, {**m, "path": cell.get("masks", {}).get(layer, {}).get("path", m["path"])})
                for layer, m in record["masks"]
            ]
        return out

    def _stored_files(self) -> dict[str, tuple[str, str]]:
        """``path -> (sha256, version ref)`` of the stored files of ``versions`` (first wins)."""
        if self._stored is None:
            self._stored = {}
            for v in self.versions:
                for f in self.cache.files(v):
                    if f.sha256 is not None:
                        self._stored.setdefault(f.path, (f.sha256, v.ref))
        return self._stored

    def _target(self, path: Any, sha256: Any) -> Any:
        if not isinstance(path, str):
            return path
        stored = self._stored_files().get(path)
        if not isinstance(sha256, str):
            if stored is None:
                return path
            sha256 = stored[0]
        if not self.cache.blobs.has(sha256):
            return path
        if self.mode == "paths":
            return str(
                self.cache.blobs.local_path(sha256).absolute()
            )  # whatever the working folder of who reads the export
        known = self._copied.get(sha256)
        if known is not None:
            return known
        rel = PurePosixPath(safe_relpath(path))
        if str(rel) in self._taken:  # another file under the same name (the other side's)
            rel = rel.with_name(f"{rel.stem}-{sha256[:8]}{rel.suffix}")
        self._taken.add(str(rel))
        dest = self.partial / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        where = f"{stored[1]}: {path}" if stored and stored[0] == sha256 else path
        self.cache.blobs.copy_out(sha256, dest, where)
        self.files += 1
        self._copied[sha256] = f"{self.folder.name}/{rel}"
        return self._copied[sha256]

    def publish(self) -> None:
        """Move the copied files into ``<export>_media`` (replacing an earlier export's)."""
        if self.mode != "copy" or not self.partial.exists():
            return
        old = None
        if self.folder.exists():
            old = self.base / f".{self.folder.name}.old"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(self.folder, old)
        os.replace(self.partial, self.folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def discard(self) -> None:
        """Remove the copies of an export that did not finish."""
        shutil.rmtree(self.partial, ignore_errors=True)
