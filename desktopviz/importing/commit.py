"""Commit a staged artifact: blobs first, then Parquet tables, then the one index transaction."""

from __future__ import annotations

import hashlib
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from desktopviz.errors import DesktopvizError, FormatError
from desktopviz.formats.manifest import artifact_digest, file_digest, parse_reference
from desktopviz.formats.materialize import materialize, table_kind
from desktopviz.progress import CancelFn, Progress, ProgressFn, check_cancel
from desktopviz.query.fingerprint import build_fingerprint, fingerprint_path
from desktopviz.store.blobs import DISK_FULL, BlobInfo, unreadable
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
    with cache.lease() as lease:
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
    sizes = {p: _size(f.local) for p, f in paths.items() if f.local is not None}
    unhashed = {p: f.local for p, f in paths.items() if f.local is not None and not f.wandb_digest}
    digests = _hash_files(unhashed, "md5", sizes, progress, cancel)
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
    digest = artifact_digest(digests)
    if any(v.digest == digest for v in cache.versions(staged.project, staged.name)):
        # "unchanged" only once the files were checked against the digests their manifest gives
        given = {p: f.local for p, f in paths.items() if f.local is not None and f.wandb_digest}
        actual = _hash_files(given, staged.digest_algorithm, sizes, progress, cancel)
        for path, value in actual.items():
            if value != digests[path]:
                raise FormatError(
                    f"file does not match its manifest digest ({staged.digest_algorithm} "
                    f"{value} != {digests[path]})",
                    file=paths[path].local,
                )
        files = [NewFile(p, f.size or 0, None, digests[p], f.ref) for p, f in paths.items()]
        return cache.add_version(NewVersion(staged, digest, files))

    refs = {p: _resolve_ref(cache, p, f.ref, digests[p]) for p, f in paths.items() if f.ref}
    blobs: dict[str, BlobInfo] = {}
    failed = threading.Event()

    def stop_copying() -> bool:
        return failed.is_set() or bool(cancel and cancel())

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="blobs") as pool:
        copying = pool.submit(
            _put_blobs, cache, paths, digests, staged.digest_algorithm, blobs, lease, stop_copying
        )
        try:
            linked = _linked_versions(cache, paths, digests)
            sources = _referenced_files(cache, {*(v for v, _ in refs.values()), *linked})
            sources.update(
                (
                    p,
                    f.local
                    if f.local is not None
                    else (cache.blobs.path(f.sha256) if f.sha256 else None),
                )
                for p, f in paths.items()
            )
            tables = _materialize_tables(
                cache, sources, sorted(paths), digest, lease, progress, cancel
            )
        except BaseException:
            failed.set()
            _stop(copying)
            raise
        copying.result()
    new_files = []
    for path, f in paths.items():
        info = blobs.get(path)
        sha, size = (info.sha256, info.size) if info else (f.sha256, f.size or 0)
        ref_version_id, ref_path = refs.get(path, (None, None))
        new_files.append(NewFile(path, size, sha, digests[path], f.ref, ref_version_id, ref_path))
    check_cancel(cancel)
    new = NewVersion(staged, digest, new_files, tables)
    try:
        return cache.add_version(new)
    except MissingBlobError:
        # a gc that read the leases just before this import reused an orphan blob removed it:
        # put the bytes back once (they are still at hand) and commit again
        for path, f in paths.items():
            info = blobs.get(path)
            if f.local is not None and info is not None and not cache.blobs.has(info.sha256):
                cache.blobs.put_file(f.local, cancel, lease)
        return cache.add_version(new)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
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


def _put_blobs(
    cache: Cache,
    paths: dict[str, StagedFile],
    digests: dict[str, str],
    algorithm: str,
    out: dict[str, BlobInfo],
    lease: Lease,
    cancel: CancelFn | None,
) -> None:
    for path, f in paths.items():
        if f.local is None:
            continue
        info = cache.blobs.put_file(f.local, cancel, lease)
        if algorithm == "xxh128" and f.wandb_digest is not None:
            if file_digest(f.local, "xxh128") != digests[path]:
                raise FormatError("file does not match its manifest digest (xxh128)", file=f.local)
        elif digests[path] != info.md5_b64:
            raise FormatError(
                f"file does not match its manifest digest (md5 {info.md5_b64} != {digests[path]})",
                file=f.local,
            )
        out[path] = info


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


def _stop(future: Future[None]) -> None:
    future.cancel()
    try:
        future.result()
    except BaseException:  # the error that stopped the tables is the one to report
        pass


def _referenced_files(cache: Cache, versions: set[int | None]) -> dict[str, Path | None]:
    """Files of the versions this artifact refers to (and those they refer to): a referenced
    table finds its media there."""
    out: dict[str, Path | None] = {}
    chosen = [cache.version_by_id(v) for v in sorted(v for v in versions if v is not None)]
    for version in cache.with_referred(chosen):
        for f in cache.files(version):
            if f.sha256 is not None:
                out.setdefault(f.path, cache.blobs.path(f.sha256))
    return out


def _materialize_tables(
    cache: Cache,
    sources: dict[str, Path | None],
    listing: list[str],
    digest: str,
    lease: Lease,
    progress: ProgressFn | None,
    cancel: CancelFn | None,
) -> list[NewTable]:
    def local(rel: str) -> Path:
        if rel not in sources:
            raise FormatError(f"{rel!r} is not a file of the artifact")
        src = sources[rel]
        if src is None:
            raise FormatError(f"{rel!r} is a reference whose bytes are not here")
        return src

    out = []
    for path in (p for p in listing if table_kind(p)):
        check_cancel(cancel)
        key = hashlib.sha256(f"{MATERIALIZER_VERSION}\n{digest}\n{path}".encode()).hexdigest()
        rel = f"derived/tables/{key[:2]}/{key}.parquet"
        lease.add(rel, fingerprint_path(cache, cache.root / rel).relative_to(cache.root).as_posix())
        try:
            m = materialize(
                local,
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
