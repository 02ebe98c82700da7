"""Commit a staged artifact: blobs first, then Parquet tables, then the one index transaction."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from desktopviz.errors import DesktopvizError, FormatError
from desktopviz.formats.manifest import artifact_digest, file_digest, parse_reference
from desktopviz.formats.materialize import materialize, table_kind
from desktopviz.progress import CancelFn, Progress, ProgressFn, check_cancel
from desktopviz.store.cache import Cache, CommitResult, NewFile, NewTable, NewVersion
from desktopviz.store.paths import safe_relpath

MATERIALIZER_VERSION = "1"


@dataclass(frozen=True)
class StagedFile:
    """A file of an artifact being imported: local bytes and/or a reference URI."""

    local: Path | None
    wandb_digest: str | None = None
    ref: str | None = None
    size: int | None = None
    sha256: str | None = None


@dataclass
class StagedArtifact:
    """An artifact version ready to commit."""

    project: str
    name: str
    type: str
    files: dict[str, StagedFile]
    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    source: str | None = None
    wandb_id: str | None = None
    client_id: str | None = None
    sequence_client_id: str | None = None
    produced_by: str | None = None
    digest_algorithm: str = "md5"


def commit_artifact(
    cache: Cache,
    staged: StagedArtifact,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> CommitResult:
    """Store the staged artifact as a version (or find the identical existing one)."""
    _check_name(staged.name)
    paths = {safe_relpath(p): f for p, f in staged.files.items()}
    total_bytes = sum(f.local.stat().st_size for f in paths.values() if f.local is not None)
    done_bytes = 0
    new_files: list[NewFile] = []
    for i, (path, f) in enumerate(sorted(paths.items())):
        check_cancel(cancel)
        sha, size, digest = f.sha256, f.size or 0, f.wandb_digest
        if f.local is not None:
            info = cache.blobs.put_file(f.local, cancel)
            sha, size = info.sha256, info.size
            if staged.digest_algorithm == "xxh128" and digest is not None:
                if file_digest(f.local, "xxh128") != digest:
                    raise FormatError("file does not match its manifest digest (xxh128)", file=f.local)
            else:
                if digest is not None and digest != info.md5_b64:
                    raise FormatError(
                        f"file does not match its manifest digest (md5 {info.md5_b64} != {digest})",
                        file=f.local,
                    )
                digest = info.md5_b64
            done_bytes += size
        elif sha is not None and not cache.blobs.has(sha):
            raise DesktopvizError(f"referenced file {path!r} has no bytes in the cache", file=f.ref)
        ref_version_id = ref_path = None
        if f.ref:
            ref_version_id, ref_path = _resolve_ref(cache, path, f.ref, digest)
        new_files.append(
            NewFile(path, size, sha, digest, f.ref, ref_version_id, ref_path)
        )
        if progress:
            progress(Progress("files", i + 1, len(paths), done_bytes, total_bytes, path))
    digest = artifact_digest({nf.path: nf.wandb_digest or "" for nf in new_files})

    existing = [v for v in cache.versions(staged.project, staged.name) if v.digest == digest]
    tables: list[NewTable] = []
    if not existing:
        tables = _materialize_tables(cache, new_files, digest, progress, cancel)
    check_cancel(cancel)
    return cache.add_version(
        NewVersion(
            project=staged.project, name=staged.name, type=staged.type, digest=digest,
            files=new_files, tables=tables, description=staged.description,
            metadata=staged.metadata, aliases=staged.aliases, source=staged.source,
            wandb_id=staged.wandb_id, client_id=staged.client_id,
            sequence_client_id=staged.sequence_client_id, produced_by=staged.produced_by,
        )
    )


def _materialize_tables(
    cache: Cache, files: list[NewFile], digest: str, progress: ProgressFn | None, cancel: CancelFn | None
) -> list[NewTable]:
    by_path = {f.path: f for f in files}
    listing = sorted(by_path)

    def local(rel: str) -> Path:
        f = by_path.get(rel)
        if f is None:
            raise FormatError(f"{rel!r} is not a file of the artifact")
        if f.sha256 is None:
            raise FormatError(f"{rel!r} is a reference to {f.ref} whose bytes are not here")
        return cache.blobs.path(f.sha256)

    table_paths = [p for p in listing if table_kind(p)]
    # parts of a partitioned table and the sides of a joined table are tables in their own right too
    out = []
    for path in table_paths:
        check_cancel(cancel)
        key = hashlib.sha256(f"{MATERIALIZER_VERSION}\n{digest}\n{path}".encode()).hexdigest()
        rel = f"derived/tables/{key[:2]}/{key}.parquet"
        dest = cache.root / rel
        try:
            m = materialize(local, path, dest, cache.tmp_dir, progress=progress, cancel=cancel, listing=listing)
        except FormatError as e:
            raise e.located(file=path) from e
        out.append(NewTable(path, m.kind, rel, m.schema_json(), m.num_rows))
    return out


def _resolve_ref(cache: Cache, path: str, uri: str, digest: str | None) -> tuple[int | None, str | None]:
    ref = parse_reference(uri)
    target = None
    if ref.scheme == "desktopviz-artifact":
        target = cache.find_version_by_digest(urlparse(uri).netloc)
    elif ref.artifact_id:
        target = cache.find_version_by_wandb_id(ref.artifact_id)
    elif ref.client_id:
        target = cache.find_version_by_client_id(ref.client_id)
    if target is not None:
        return target.id, ref.path
    if ref.is_artifact and digest:
        found = cache.find_file_by_digest(ref.path, digest)
        if found:
            return found[0].id, found[1]
    return None, None


def _check_name(name: str) -> None:
    if not name or any(c in name for c in "/:\n\t") or name.strip() != name:
        raise DesktopvizError(f"bad artifact name {name!r}: no '/', ':' or surrounding spaces")


def describe(result: CommitResult) -> dict[str, Any]:
    """A JSON-able summary of a commit, for the CLI."""
    v = result.version
    return {"ref": v.ref, "created": result.created, "files": v.file_count, "size": v.size,
            "aliases": list(v.aliases), "digest": v.digest}


