"""Commit a staged artifact: blobs first, then Parquet tables, then the one index transaction."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from desktopviz.errors import DesktopvizError, FormatError
from desktopviz.formats.manifest import artifact_digest, file_digest, parse_reference
from desktopviz.formats.materialize import ArtifactFiles, materialize, table_kind
from desktopviz.gc_pause import paused_gc
from desktopviz.importing.ingest import Ingested, ingest_files
from desktopviz.progress import CancelFn, Progress, ProgressFn, check_cancel
from desktopviz.query.fingerprint import build_fingerprint, fingerprint_path
from desktopviz.store.blobs import DISK_FULL, unreadable
from desktopviz.store.cache import (
    Cache,
    CommitResult,
    MissingBlobError,
    NewFile,
    NewTable,
    NewVersion,
    VersionHeader,
)
from desktopviz.store.leases import Lease
from desktopviz.store.paths import safe_relpath
from desktopviz.store.verify import table_digest

MATERIALIZER_VERSION = "1"


@dataclass(frozen=True)
class StagedFile:
    """A file of an artifact being imported: local bytes and/or a reference URI."""

    local: Path | None
    wandb_digest: str | None = None
    ref: str | None = None
    size: int | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class StagedArtifact(VersionHeader):
    """An artifact version ready to commit: its header and its files."""

    files: dict[str, StagedFile] = field(default_factory=dict)
    digest_algorithm: str = "md5"


def commit_artifact(
    cache: Cache,
    staged: StagedArtifact,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> CommitResult:
    """Store the staged artifact as a version (or find the identical existing one).

    Digests first (cheap: the manifest's, or one md5 pass), so unchanged content costs no copy;
    then the blobs are copied in a background thread while tables are materialised from the
    source files; the index transaction comes last. Everything written is leased until then, so a
    concurrent ``gc`` spares it, and a failed or cancelled import removes what it wrote.
    """
    _check_name(staged.name)
    paths = {safe_relpath(p): f for p, f in sorted(staged.files.items())}
    with paused_gc(), cache.lease() as lease:
        try:
            return _commit(cache, staged, paths, lease, progress, cancel)
        except BaseException as e:
            try:
                cache.discard(lease)
            except Exception:  # noqa: BLE001 - the import's own error is the one to report
                pass  # gc removes the rest later
            if isinstance(e, OSError) and e.errno in DISK_FULL:
                raise DesktopvizError(
                    f"disk full while writing {e.filename or 'to the cache'}; nothing was added",
                    file=cache.root,
                ) from e
            raise


def _commit(
    cache: Cache,
    staged: StagedArtifact,
    paths: dict[str, StagedFile],
    lease: Lease,
    progress: ProgressFn | None,
    cancel: CancelFn | None,
) -> CommitResult:
    local = {p: f.local for p, f in paths.items() if f.local is not None}
    sizes = {p: _size(path) for p, path in local.items()}
    digests: dict[str, str] = {}
    for path, f in paths.items():
        if f.local is None:
            if f.sha256 is not None:
                lease.add(f.sha256)
                if not cache.blobs.has(f.sha256):
                    raise DesktopvizError(
                        f"referenced file {path!r} has no bytes in the cache", file=f.ref
                    )
            digests[path] = f.wandb_digest or ""
        elif f.wandb_digest:
            digests[path] = f.wandb_digest
    if len(digests) == len(paths):  # every digest given by the manifest
        digest = artifact_digest(digests)
        if _exists(cache, staged, digest):
            return _unchanged(cache, staged, paths, digests, digest, sizes, progress, cancel)

    writer = cache.blobs.pack_writer(lease)
    try:
        read = ingest_files(
            cache.blobs,
            local,
            writer,
            lease,
            xxh128=frozenset(p for p in digests if staged.digest_algorithm == "xxh128"),
            sizes=sizes,
            progress=progress,
            cancel=cancel,
        )
        for path, f in paths.items():
            if f.local is not None:
                digests[path] = _checked_digest(f, read[path], staged.digest_algorithm)
        digest = artifact_digest(digests)
        refs = {p: _resolve_ref(cache, p, f.ref, digests[p]) for p, f in paths.items() if f.ref}
        tables: list[NewTable] = []
        if not _exists(cache, staged, digest):
            linked = _linked_versions(cache, paths, digests)
            sources = _referenced_files(cache, {*(v for v, _ in refs.values()), *linked})
            sources.update(
                (
                    p,
                    f.local
                    if f.local is not None
                    else (cache.blobs.local_path(f.sha256) if f.sha256 else None),
                )
                for p, f in paths.items()
            )
            images = {p: r.image for p, r in read.items() if r.image is not None}
            files = ArtifactFiles(sources, images.get)
            tables = _materialize_tables(
                cache, files, sorted(paths), digest, lease, progress, cancel
            )
        packed = writer.finish()  # every new blob durable before the index names it
    except BaseException:
        writer.abandon()
        raise
    new_files = []
    for path, f in paths.items():
        info = read.get(path)
        sha, size = (info.sha256, info.size) if info else (f.sha256, f.size or 0)
        ref_version_id, ref_path = refs.get(path, (None, None))
        new_files.append(NewFile(path, size, sha, digests[path], f.ref, ref_version_id, ref_path))
    check_cancel(cancel)
    new = NewVersion(staged, digest, new_files, tables, packed)
    try:
        return cache.add_version(new)
    except MissingBlobError:
        # a gc that read the leases just before this import reused an orphan blob removed it:
        # put the bytes back once (they are still at hand) and commit again
        for path, f in paths.items():
            info = read.get(path)
            if f.local is not None and info is not None and not cache.blobs.has(info.sha256):
                cache.blobs.put_file(f.local, cancel, lease)
        return cache.add_version(new)


def _exists(cache: Cache, staged: StagedArtifact, digest: str) -> bool:
    return any(v.digest == digest for v in cache.versions(staged.project, staged.name))


def _unchanged(
    cache: Cache,
    staged: StagedArtifact,
    paths: dict[str, StagedFile],
    digests: dict[str, str],
    digest: str,
    sizes: dict[str, int],
    progress: ProgressFn | None,
    cancel: CancelFn | None,
) -> CommitResult:
    """The version with these digests exists: check the files against their manifest digests
    (no copy) before calling it unchanged."""
    given = {p: f.local for p, f in paths.items() if f.local is not None}
    actual = _hash_files(given, staged.digest_algorithm, sizes, progress, cancel)
    for path, value in actual.items():
        if value != digests[path]:
            raise _mismatch(paths[path], staged.digest_algorithm, value, digests[path])
    files = [NewFile(p, f.size or 0, None, digests[p], f.ref) for p, f in paths.items()]
    return cache.add_version(NewVersion(staged, digest, files))


def _checked_digest(f: StagedFile, read: Ingested, algorithm: str) -> str:
    """The file's W&B digest, checked against its manifest's when there is one."""
    if not f.wandb_digest:
        return read.md5_b64
    actual = read.xxh128 if algorithm == "xxh128" else read.md5_b64
    if actual != f.wandb_digest:
        raise _mismatch(f, algorithm, actual, f.wandb_digest)
    return f.wandb_digest


def _mismatch(f: StagedFile, algorithm: str, actual: str | None, expected: str) -> FormatError:
    return FormatError(
        f"file does not match its manifest digest ({algorithm} {actual} != {expected})",
        file=f.local,
    )


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError as e:
        raise unreadable(path, e) from e


def _hash_files(
    files: dict[str, Path],
    algorithm: str,
    sizes: dict[str, int],
    progress: ProgressFn | None,
    cancel: CancelFn | None,
) -> dict[str, str]:
    """The W&B digests of local files, hashed in parallel (hashlib releases the GIL), a batch of
    files per task so that thousands of small images do not cost a task each."""
    out: dict[str, str] = {}
    if not files:
        return out
    items = list(files.items())
    workers = min(4, os.cpu_count() or 1)
    per_task = max(1, min(256, len(items) // (workers * 8)))
    batches = [items[i : i + per_task] for i in range(0, len(items), per_task)]

    def hash_batch(batch: list[tuple[str, Path]]) -> list[tuple[str, str]]:
        return [(p, _digest_of(local, algorithm)) for p, local in batch]

    total_bytes = sum(sizes.values())
    done_bytes = 0
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hash") as pool:
        futures = [pool.submit(hash_batch, b) for b in batches]
        try:
            for fut in as_completed(futures):
                check_cancel(cancel)
                for path, digest in fut.result():
                    out[path] = digest
                    done_bytes += sizes[path]
                    if progress:
                        progress(
                            Progress("files", len(out), len(items), done_bytes, total_bytes, path)
                        )
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
    return out


def _digest_of(local: Path, algorithm: str) -> str:
    try:
        return file_digest(local, algorithm)
    except OSError as e:
        raise unreadable(local, e) from e


def _linked_versions(
    cache: Cache, paths: dict[str, StagedFile], digests: dict[str, str]
) -> set[int]:
    """Versions holding a table this artifact carries a copy of without a reference.

    A W&B download folder without its manifest holds the tables a JoinedTable takes from another
    artifact (``t1_<id>.table.json``) but not their media: those are found in that version.
    """
    out = set()
    for path, f in paths.items():
        if f.ref is None and f.local is not None and table_kind(path) == "table":
            found = cache.find_file_by_digest(path, digests[path])
            if found is not None:
                out.add(found[0].id)
    return out


def _referenced_files(cache: Cache, versions: set[int | None]) -> dict[str, Path | None]:
    """Files of the versions this artifact refers to (and those they refer to): a referenced
    table finds its media there."""
    out: dict[str, Path | None] = {}
    chosen = [cache.version_by_id(v) for v in sorted(v for v in versions if v is not None)]
    for version in cache.with_referred(chosen):
        for f in cache.files(version):
            if f.sha256 is not None:
                out.setdefault(f.path, cache.blobs.local_path(f.sha256))
    return out


def _materialize_tables(
    cache: Cache,
    files: ArtifactFiles,
    listing: list[str],
    digest: str,
    lease: Lease,
    progress: ProgressFn | None,
    cancel: CancelFn | None,
) -> list[NewTable]:
    out = []
    for path in (p for p in listing if table_kind(p)):
        check_cancel(cancel)
        key = hashlib.sha256(f"{MATERIALIZER_VERSION}\n{digest}\n{path}".encode()).hexdigest()
        rel = f"derived/tables/{key[:2]}/{key}.parquet"
        lease.add(rel, fingerprint_path(cache, cache.root / rel).relative_to(cache.root).as_posix())
        try:
            m = materialize(
                files,
                path,
                cache.root / rel,
                cache.tmp_dir,
                progress=progress,
                cancel=cancel,
                listing=listing,
            )
        except FormatError as e:
            raise e.located(file=path) from e
        check_cancel(cancel)
        build_fingerprint(cache, cache.root / rel)  # what comparisons read (a derived file)
        digest_of_table = table_digest(cache.root / rel)
        out.append(NewTable(path, m.kind, rel, m.schema_json(), m.num_rows, digest_of_table))
    return out


def _resolve_ref(
    cache: Cache, path: str, uri: str, digest: str | None
) -> tuple[int | None, str | None]:
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
