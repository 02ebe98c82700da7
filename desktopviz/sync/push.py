"""``desktopviz push``: publish cached versions to a store.

Order, so that a reader never sees a version whose bytes are not all there: the blobs the store
lacks (asked in batches), then the run records and their journal entries, then per version its
manifest and its ``version`` entry, then its alias entries. A version already in the store is not
entered again unless the cache knows runs of it that the store's manifest does not name.

Public API: :func:`push`, :class:`PushReport`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import BinaryIO

from desktopviz.errors import DesktopvizError
from desktopviz.model import Version
from desktopviz.progress import (
    CancelFn,
    Progress,
    ProgressFn,
    check_cancel,
    never_cancel,
    no_progress,
)
from desktopviz.store.cache import Cache, now_iso
from desktopviz.sync.backend import Backend
from desktopviz.sync.store import (
    JournalState,
    append_entry,
    digest_of,
    encode,
    init_store,
    manifest_of,
    read_manifest,
    run_record,
)

MISSING_BATCH = 1000
"""Digests asked about per ``missing_blobs`` round trip."""


@dataclass(frozen=True)
class PushReport:
    """What a push did: versions entered (new in the store or with new lineage) and those the
    store had already, blobs and bytes sent, run records and alias entries, journal numbers."""

    versions: int = 0
    unchanged: int = 0
    blobs: int = 0
    bytes: int = 0
    runs: int = 0
    aliases: int = 0
    skipped: list[str] = field(default_factory=list)
    """Versions left out: catalog-only ones (not downloaded here)."""
    entries: list[int] = field(default_factory=list)


def push(
    cache: Cache,
    backend: Backend,
    refs: list[str] | None = None,
    *,
    progress: ProgressFn = no_progress,
    cancel: CancelFn = never_cancel,
    parallel: int = 4,
) -> PushReport:
    """Publish the versions ``refs`` names (default: every downloaded version), the versions
    their files refer to, their runs (with history), lineage and aliases, to ``backend`` (made
    a store when empty). Only the blobs the store lacks are sent."""
    init_store(backend)
    versions, skipped = _chosen(cache, refs)
    state = JournalState.read(backend)
    manifests = {v.id: manifest_of(cache, v) for v in versions}
    todo = [v for v in versions if _needs_entry(backend, state, v, manifests[v.id])]
    todo_ids = {v.id for v in todo}
    sent, sent_bytes = _send_blobs(cache, backend, todo, manifests, progress, cancel, parallel)
    last = state.last
    entries: list[int] = []

    def append(entry: dict) -> None:
        nonlocal last
        check_cancel(cancel)
        last = append_entry(backend, entry, after=last)
        entries.append(last)
        state.apply({**entry, "n": last})

    runs = 0
    for run_id in _runs_of(todo, manifests):
        record = run_record(cache, run_id)
        data = encode(record)
        sha = digest_of(data)
        if state.runs.get((record["project"], run_id)) != sha:
            backend.put(f"runs/{sha}.json", data)
            append({"type": "run", "project": record["project"], "run": run_id, "record": sha})
            runs += 1
    aliases = 0
    for i, v in enumerate(versions):
        progress(Progress("push", i, len(versions), message=v.ref))
        if v.id in todo_ids:
            data = encode(manifests[v.id])
            sha = digest_of(data)
            backend.put(f"manifests/{sha}.json", data)
            append(
                {
                    "type": "version",
                    "project": v.project,
                    "name": v.name,
                    "artifact_type": v.type,
                    "manifest": sha,
                    "digest": v.digest,
                    "at": now_iso(),
                }
            )
        for alias in v.aliases:
            key = (v.project, v.name, alias)
            if alias != "latest" and state.aliases.get(key) != v.digest:
                append(
                    {
                        "type": "alias",
                        "project": v.project,
                        "name": v.name,
                        "alias": alias,
                        "digest": v.digest,
                    }
                )
                aliases += 1
    progress(Progress("push", len(versions), len(versions), sent_bytes, sent_bytes))
    return PushReport(
        len(todo), len(versions) - len(todo), sent, sent_bytes, runs, aliases, skipped, entries
    )


def _chosen(cache: Cache, refs: list[str] | None) -> tuple[list[Version], list[str]]:
    """The versions to push, each after the versions its files refer to; and the catalog-only
    ones left out."""
    named = [cache.resolve(r) for r in refs] if refs else cache.versions()
    if refs:
        for v in named:
            if not v.downloaded:
                raise DesktopvizError(
                    f"{v.ref} is not downloaded here: run desktopviz pull {v.ref} first"
                )
    out: list[Version] = []
    seen: set[int] = set()
    skipped: list[str] = []

    def visit(v: Version) -> None:
        if v.id in seen:
            return
        seen.add(v.id)
        for target in cache.with_referred([v])[1:]:
            visit(target)
        if v.downloaded:
            out.append(v)
        else:
            skipped.append(v.ref)

    for v in named:
        visit(v)
    return out, skipped


def _needs_entry(backend: Backend, state: JournalState, v: Version, manifest: dict) -> bool:
    """Whether ``v`` needs a ``version`` entry: the store lacks it, or its manifest there does
    not name every run the cache knows of it."""
    known = state.manifests.get((v.project, v.name, v.digest))
    if known is None:
        return True
    there = read_manifest(backend, known)
    ours = {manifest["produced_by"], *manifest["used_by"]} - {None}
    return not ours <= {there.get("produced_by"), *there.get("used_by", ())}


def _runs_of(versions: list[Version], manifests: dict[int, dict]) -> list[str]:
    out: dict[str, None] = {}
    for v in versions:
        m = manifests[v.id]
        for run_id in (m["produced_by"], *m["used_by"]):
            if run_id:
                out[run_id] = None
    return list(out)


def _send_blobs(
    cache: Cache,
    backend: Backend,
    versions: list[Version],
    manifests: dict[int, dict],
    progress: ProgressFn,
    cancel: CancelFn,
    parallel: int,
) -> tuple[int, int]:
    """Upload the blobs of ``versions`` the store lacks (files' bytes and tables' Parquet
    files); return how many and their bytes."""
    openers: dict[str, tuple[int, Callable[[], BinaryIO]]] = {}
    for v in versions:
        m = manifests[v.id]
        for f in m["files"]:
            sha = f["sha256"]
            if sha and sha not in openers:
                openers[sha] = (f["size"], lambda sha=sha: cache.blobs.open(sha))
        parquet = {t.path: cache.root / t.parquet for t in cache.tables(v)}
        for t in m["tables"]:
            local = parquet[t["path"]]
            openers.setdefault(
                t["parquet_sha256"], (t["parquet_size"], lambda p=local: open(p, "rb"))
            )
    digests = sorted(openers)
    missing: list[str] = []
    for i in range(0, len(digests), MISSING_BATCH):
        check_cancel(cancel)
        missing.extend(sorted(backend.missing_blobs(digests[i : i + MISSING_BATCH])))
    total = sum(openers[d][0] for d in missing)
    done = done_bytes = 0
    lock = threading.Lock()

    def send(sha: str) -> int:
        check_cancel(cancel)
        size, opener = openers[sha]
        try:
            stream = opener()
        except FileNotFoundError as e:
            raise DesktopvizError(
                f"blob {sha} is missing from the cache; run `desktopviz verify`", file=cache.root
            ) from e
        with stream:
            backend.put_blob(sha, stream, size)
        return size

    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="push") as pool:
        futures = {pool.submit(send, sha): sha for sha in missing}
        try:
            for fut in as_completed(futures):
                size = fut.result()
                with lock:
                    done += 1
                    done_bytes += size
                progress(Progress("blobs", done, len(missing), done_bytes, total, futures[fut]))
                check_cancel(cancel)
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
    return done, done_bytes
