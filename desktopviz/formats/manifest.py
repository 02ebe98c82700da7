"""W&B artifact manifests (``wandb_manifest.json``), digests and reference URIs."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from desktopviz.errors import FormatError
from desktopviz.formats.jsonio import load_json_file
from desktopviz.store.paths import safe_relpath

MANIFEST_NAME = "wandb_manifest.json"
MANIFEST_PREFIX = b"wandb-artifact-manifest-v1\n"


@dataclass(frozen=True)
class ManifestEntry:
    """One ``contents`` entry: the file's digest (base64), size, and reference if any."""

    path: str
    digest: str
    size: int = 0
    ref: str | None = None
    birth_artifact_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def algorithm(self) -> str:
        """``md5`` unless ``extra.alg`` says ``XXH128``."""
        return "xxh128" if str(self.extra.get("alg", "")).upper() == "XXH128" else "md5"


@dataclass(frozen=True)
class Reference:
    """A parsed reference URI."""

    scheme: str
    path: str
    artifact_id: str | None = None
    client_id: str | None = None

    @property
    def is_artifact(self) -> bool:
        """True for references to another W&B artifact's file."""
        return self.scheme in ("wandb-artifact", "wandb-client-artifact")


def read_manifest(path: Path) -> dict[str, ManifestEntry]:
    """Read a ``wandb_manifest.json``; every path is checked to stay inside the artifact."""
    obj = load_json_file(path)
    return manifest_entries(obj, file=path)


def manifest_entries(obj: Any, *, file: Path | str | None = None) -> dict[str, ManifestEntry]:
    """Entries of a manifest object (the JSON form or the offline-run record form)."""
    if not isinstance(obj, dict) or "contents" not in obj:
        raise FormatError("not a W&B manifest: no 'contents'", file=file)
    contents = obj["contents"]
    items: Iterable[tuple[str, Any]]
    if isinstance(contents, dict):
        items = contents.items()
    elif isinstance(contents, list):
        for i, c in enumerate(contents):
            if not isinstance(c, dict):
                raise FormatError(f"manifest 'contents' item {i} is not an object", file=file)
        items = ((c.get("path"), c) for c in contents)
    else:
        raise FormatError("manifest 'contents' is neither an object nor a list", file=file)
    out: dict[str, ManifestEntry] = {}
    for raw_path, entry in items:
        if not isinstance(raw_path, str):
            raise FormatError(f"manifest entry path {raw_path!r} is not a string", file=file)
        if not isinstance(entry, dict):
            raise FormatError(f"manifest entry {raw_path!r} is not an object", file=file)
        rel = safe_relpath(raw_path, file=file)
        out[rel] = ManifestEntry(
            path=rel,
            digest=_field(entry, "digest", str, rel, file, required=True),
            size=_size(entry, rel, file, record_form=isinstance(contents, list)),
            ref=_field(entry, "ref", str, rel, file) or None,
            birth_artifact_id=_field(entry, "birthArtifactID", str, rel, file)
            or _field(entry, "birth_artifact_id", str, rel, file)
            or None,
            extra=_extra(entry, rel, file),
        )
    return out


def _field(
    entry: dict[str, Any], key: str, kind: type, rel: str, file: Any, *, required: bool = False
) -> Any:
    """``entry[key]`` if it has the right type (absent or null: None, unless required)."""
    value = entry.get(key)
    if value is None or (required and value == ""):
        if required:
            raise FormatError(f"manifest entry {rel!r} has no {key!r}", file=file)
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise FormatError(
            f"manifest entry {rel!r}: {key!r} is {json.dumps(value)[:40]}, not a "
            + ("whole number" if kind is int else "string"),
            file=file,
        )
    return value


def _size(entry: dict[str, Any], rel: str, file: Any, *, record_form: bool) -> int:
    """The entry's size: a whole number (in the offline-run record form, maybe as text)."""
    size = entry.get("size")
    if record_form and isinstance(size, str) and size.isdigit():
        return int(size)
    size = _field(entry, "size", int, rel, file)
    if size is not None and size < 0:
        raise FormatError(f"manifest entry {rel!r}: 'size' is negative ({size})", file=file)
    return size or 0


def _extra(entry: dict[str, Any], rel: str, file: Any) -> dict[str, Any]:
    extra = entry.get("extra") or {}
    if isinstance(extra, str):  # the offline-run record form keeps it as JSON text
        try:
            extra = json.loads(extra)
        except (json.JSONDecodeError, RecursionError):
            extra = None
    if not isinstance(extra, dict):
        raise FormatError(f"manifest entry {rel!r}: 'extra' is not an object", file=file)
    return extra


def md5_b64(data: bytes) -> str:
    """The W&B file digest: base64 of the md5 of the bytes."""
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def file_digest(path: Path, algorithm: str = "md5") -> str:
    """W&B digest of a file: base64 md5 (default) or base64 xxh128."""
    if algorithm == "xxh128":
        import xxhash

        h: Any = xxhash.xxh128()
    else:
        h = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return base64.b64encode(h.digest()).decode()


def artifact_digest(digests: dict[str, str]) -> str:
    """The W&B artifact digest (hex) of ``{path: file digest}``."""
    h = hashlib.md5(MANIFEST_PREFIX)
    for path in sorted(digests):
        h.update(f"{path}:{digests[path]}\n".encode())
    return h.hexdigest()


def parse_reference(uri: str) -> Reference:
    """Split ``wandb-artifact://<hex id>/<path>``, ``wandb-client-artifact://<id>/<path>`` or others."""
    parsed = urlparse(uri)
    scheme = parsed.scheme
    path = parsed.path.lstrip("/")
    if scheme == "wandb-artifact":
        try:
            artifact_id = base64.b64encode(bytes.fromhex(parsed.netloc)).decode()
        except ValueError:
            artifact_id = parsed.netloc
        return Reference(scheme, path, artifact_id=artifact_id)
    if scheme == "wandb-client-artifact":
        client = parsed.netloc
        if client.endswith(":latest"):
            client = client[: -len(":latest")]
        return Reference(scheme, path, client_id=client)
    return Reference(scheme, path)


def wandb_artifact_uri(artifact_id: str, path: str) -> str:
    """``wandb-artifact://`` URI for a file of the artifact with this (base64) id."""
    return f"wandb-artifact://{base64.b64decode(artifact_id).hex()}/{path}"


def manifest_json(entries: dict[str, ManifestEntry]) -> dict[str, Any]:
    """The ``wandb_manifest.json`` object for these entries (storage policy v1)."""
    contents: dict[str, Any] = {}
    for path in sorted(entries):
        e = entries[path]
        item: dict[str, Any] = {"digest": e.digest}
        if e.ref:
            item["ref"] = e.ref
        if e.birth_artifact_id:
            item["birthArtifactID"] = e.birth_artifact_id
        item["size"] = e.size
        if e.extra:
            item["extra"] = e.extra
        contents[path] = item
    return {
        "version": 1,
        "storagePolicy": "wandb-storage-policy-v1",
        "storagePolicyConfig": {"storageLayout": "V2"},
        "contents": contents,
    }
