"""``dv.Artifact``: files and objects (tables, images, classes) gathered into a version."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

from desktopviz.errors import DesktopvizError, NotFoundError
from desktopviz.formats.cells import NDARRAY, table_rows
from desktopviz.formats.manifest import ManifestEntry, manifest_json, md5_b64
from desktopviz.formats.media import is_media_cell
from desktopviz.importing.commit import StagedArtifact, StagedFile
from desktopviz.model import Version
from desktopviz.sdk.media import Classes, Image, MediaFile, StoredFile
from desktopviz.sdk.table import JoinedTable, PartitionedTable, Table
from desktopviz.store.cache import Cache
from desktopviz.store.paths import safe_join, safe_relpath, walk_files

REF_SCHEME = "desktopviz-artifact"
OBJECT_SUFFIXES = {
    Table: ".table.json",
    JoinedTable: ".joined-table.json",
    PartitionedTable: ".partitioned-table.json",
    Classes: ".classes.json",
    Image: ".image-file.json",
}


class ArtifactWriter:
    """The staging folder of an artifact being built."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="dv-artifact-"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.dir, True)
        self.files: dict[str, StagedFile] = {}

    def add_bytes(self, rel: str, data: bytes) -> str:
        """Write ``data`` at ``rel`` (once) and return ``rel``."""
        rel = safe_relpath(rel)
        target = self.dir / rel
        if rel not in self.files:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            self.files[rel] = StagedFile(target)
        return rel

    def add_json(self, rel: str, obj: Any) -> str:
        """Write a JSON object (sorted keys, as W&B does)."""
        return self.add_bytes(rel, json.dumps(obj, sort_keys=True, allow_nan=True).encode())

    def add_local(self, rel: str, src: Path) -> str:
        """Add a local file under ``rel`` (read when the artifact is logged)."""
        rel = safe_relpath(rel)
        if not src.is_file():
            raise DesktopvizError("no such file", file=src)
        self.files[rel] = StagedFile(src)
        return rel

    def add_stored(self, stored: StoredFile) -> str:
        """Refer to a file of another version (no bytes copied); returns its path here."""
        existing = self.files.get(stored.path)
        if existing is not None and existing.sha256 not in (None, stored.sha256):
            raise DesktopvizError(f"two different files would both be {stored.path!r}")
        self.files[stored.path] = StagedFile(
            None,
            stored.wandb_digest,
            f"{REF_SCHEME}://{stored.version_digest}/{stored.path}",
            stored.size,
            stored.sha256,
        )
        return stored.path

    def add_classes(self, classes: Classes) -> dict[str, Any]:
        """Write a classes file under ``media/classes`` and return the image cell's pointer to it."""
        data = json.dumps(classes.to_json(), sort_keys=True).encode()
        path = self.add_bytes(
            f"media/classes/{hashlib.md5(data).hexdigest()}_cls.classes.json", data
        )
        return {"type": "classes-file", "path": path, "digest": md5_b64(data)}


class Artifact:
    """An artifact version being built (``add``, ``add_file``...) or read back (``get``)."""

    def __init__(
        self,
        name: str,
        type: str,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.type = type
        self.description = description
        self.metadata = dict(metadata or {})
        self._writer: ArtifactWriter | None = ArtifactWriter()
        self._objects: dict[str, Any] = {}
        self._cache: Cache | None = None
        self._version: Version | None = None

    # -- building ---------------------------------------------------------------------------
    def _staging(self) -> ArtifactWriter:
        if self._writer is None:
            raise DesktopvizError(f"artifact {self.name!r} is logged already and cannot change")
        return self._writer

    def add(self, obj: Any, name: str) -> str:
        """Add a Table, JoinedTable, PartitionedTable, Classes or Image under ``name``."""
        w = self._staging()
        suffix = OBJECT_SUFFIXES.get(type(obj))
        if suffix is None:
            raise DesktopvizError(
                f"cannot add a {type(obj).__name__}; add a Table, Image, Classes or JoinedTable"
            )
        path = name if name.endswith(suffix) else f"{name}{suffix}"
        if isinstance(obj, Table):
            w.add_json(path, obj.to_json(w))
        elif isinstance(obj, JoinedTable):
            sides = []
            for i, t in enumerate((obj.table1, obj.table2), 1):
                if isinstance(t, Table):
                    known = next((p for p, o in self._objects.items() if o is t), None)
                    stored = t.unchanged_source()
                    if known is None and stored is not None:  # a table read from another artifact
                        known = w.add_stored(stored)
                    sides.append(known or self.add(t, f"{name}_table{i}"))
                else:
                    sides.append(safe_relpath(t))
            w.add_json(
                path,
                {
                    "_type": "joined-table",
                    "join_key": obj.join_key,
                    "table1": sides[0],
                    "table2": sides[1],
                },
            )
        elif isinstance(obj, PartitionedTable):
            w.add_json(path, {"_type": "partitioned-table", "parts_path": obj.parts_path})
        elif isinstance(obj, Classes):
            w.add_json(path, obj.to_json())
        else:
            w.add_json(path, obj.to_cell(w))
        self._objects[path] = obj
        return path

    def add_file(self, local_path: str | Path, name: str | None = None) -> str:
        """Add a local file (under ``name``, default its file name)."""
        local = Path(local_path)
        return self._staging().add_local(name or local.name, local)

    def add_dir(self, local_path: str | Path, name: str | None = None) -> list[str]:
        """Add every file of a folder (under the prefix ``name``)."""
        root = Path(local_path)
        if not root.is_dir():
            raise DesktopvizError("no such folder", file=root)
        prefix = f"{safe_relpath(name)}/" if name else ""
        return [self._staging().add_local(prefix + rel, p) for rel, p in walk_files(root)]

    def add_reference(self, uri: str, name: str | None = None) -> str:
        """Record a reference (``file://``, ``s3://``, ``wandb-artifact://``...) without its bytes."""
        if "://" not in uri:
            raise DesktopvizError(f"reference {uri!r} is not a URI (scheme://...)")
        rel = safe_relpath(name or uri.rstrip("/").rsplit("/", 1)[-1])
        local = None
        if uri.startswith("file://"):
            local = Path(uri[len("file://") :])
            if not local.is_file():
                raise DesktopvizError("referenced file does not exist", file=local)
        self._staging().files[rel] = StagedFile(local, None, uri)
        return rel

    def staged(
        self, project: str, aliases: tuple[str, ...] = (), produced_by: str | None = None
    ) -> StagedArtifact:
        """What :func:`desktopviz.importing.commit_artifact` needs to store this artifact."""
        return StagedArtifact(
            project,
            self.name,
            self.type,
            files=dict(self._staging().files),
            description=self.description,
            metadata=self.metadata,
            aliases=aliases,
            source="sdk",
            produced_by=produced_by,
        )

    def _bind(self, cache: Cache, version: Version) -> None:
        self._cache, self._version = cache, version
        self.description, self.metadata = version.description, dict(version.metadata)
        if self._writer is not None:
            self._writer = None

    # -- reading ----------------------------------------------------------------------------
    @property
    def version(self) -> str | None:
        """``v<N>`` once logged or used."""
        return self._version.tag if self._version else None

    @property
    def aliases(self) -> list[str]:
        """The version's aliases (fresh from the cache)."""
        if not self._version or not self._cache:
            return []
        return list(self._cache.version_by_id(self._version.id).aliases)

    @property
    def digest(self) -> str | None:
        """The W&B-style artifact digest."""
        return self._version.digest if self._version else None

    @property
    def qualified_name(self) -> str:
        """``project/name:v<N>``."""
        return self._version.ref if self._version else self.name

    def files(self) -> list[str]:
        """Paths of the artifact's files."""
        if self._cache and self._version:
            return [f.path for f in self._cache.files(self._version)]
        return sorted(self._staging().files)

    def get_path(self, name: str) -> Path:
        """The local file holding the bytes of entry ``name``."""
        if self._cache and self._version:
            return self._cache.file_path(self._version, name)
        f = self._staging().files.get(name)
        if f is None or f.local is None:
            raise NotFoundError(f"no file {name!r} in artifact {self.name!r}")
        return f.local

    def get(self, name: str) -> Any:
        """The object added under ``name`` (a Table, Image, Classes...), equal to what was added."""
        if self._cache is None or self._version is None:
            for suffix in ("", *OBJECT_SUFFIXES.values()):
                if name + suffix in self._objects:
                    return self._objects[name + suffix]
            raise NotFoundError(f"no object {name!r} in artifact {self.name!r}")
        return _read_object(self._cache, self._version, name)

    def download(self, root: str | Path | None = None) -> Path:
        """Lay the files out as ``wandb``'s ``artifact.download()`` does, with ``wandb_manifest.json``."""
        if not self._cache or not self._version:
            raise DesktopvizError("log or use the artifact before downloading it")
        return export_download_folder(
            self._cache, self._version, Path(root or f"./artifacts/{self.name}:{self.version}")
        )

    def __repr__(self) -> str:
        return f"Artifact({self.qualified_name!r}, type={self.type!r})"


def export_download_folder(cache: Cache, version: Version, root: Path) -> Path:
    """Write a version's files and ``wandb_manifest.json`` under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    entries = {}
    for f in cache.files(version):
        if f.sha256 is not None:
            target = safe_join(root, f.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            cache.blobs.copy_out(f.sha256, target, f"{version.ref}: {f.path}")
        ref = f.ref if f.ref and not f.ref.startswith(f"{REF_SCHEME}://") else None
        entries[f.path] = ManifestEntry(f.path, f.wandb_digest or "", 0 if ref else f.size, ref)
    (root / "wandb_manifest.json").write_text(
        json.dumps(manifest_json(entries), indent=2, sort_keys=True)
    )
    return root


def stored_file_resolver(cache: Cache, version: Version):  # noqa: ANN201
    """``resolve(path) -> StoredFile`` for the files of a version."""
    by_path = {f.path: f for f in cache.files(version)}

    def resolve(path: str) -> StoredFile:
        f = by_path.get(path)
        if f is None or f.sha256 is None:
            raise NotFoundError(f"{version.ref} has no stored file {path!r}")
        return StoredFile(
            cache.blobs.local_path(f.sha256), f.sha256, f.size, f.wandb_digest, version.digest, path
        )

    return resolve


def _read_object(cache: Cache, version: Version, name: str) -> Any:
    import pyarrow.parquet as pq

    resolve = stored_file_resolver(cache, version)
    paths = {f.path for f in cache.files(version)}
    candidates = [name] + [name + s for s in OBJECT_SUFFIXES.values()]
    path = next((p for p in candidates if p in paths), None)
    if path is None:
        raise NotFoundError(f"{version.ref} has no object {name!r}")
    if path.endswith((".table.json", ".partitioned-table.json")):
        info = cache.table_info(version, path)
        descs = json.loads(info.schema)["columns"]
        rows = table_rows(pq.read_table(cache.parquet_path(info)), descs)
        nd = [i for i, d in enumerate(descs) if d.get("kind") == NDARRAY]
        media = resolve
        for row in rows:
            for i, v in enumerate(row):
                if isinstance(v, dict) and v.get("_type") == "image-file":
                    row[i] = Image.from_cell(v, media)
                elif is_media_cell(v):
                    row[i] = MediaFile.from_cell(v, media)
            for i in nd:
                if row[i] is not None:
                    import numpy as np

                    row[i] = np.asarray(row[i])
        log_mode = json.loads(info.schema).get("wandb", {}).get("log_mode")
        table = Table(columns=[d["name"] for d in descs], data=rows, log_mode=log_mode)
        if path.endswith(".table.json"):
            table._source = (resolve(path), table.fingerprint())
        return table
    obj = json.loads(resolve(path).local.read_text())
    if path.endswith(".joined-table.json"):
        return JoinedTable(
            _read_object(cache, version, obj["table1"]),
            _read_object(cache, version, obj["table2"]),
            obj["join_key"],
        )
    if path.endswith(".classes.json"):
        return Classes(obj.get("class_set") or [])
    if path.endswith(".image-file.json"):
        return Image.from_cell(obj, resolve)
    return obj
