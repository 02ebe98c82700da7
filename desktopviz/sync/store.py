"""The store's files: ``store.json``, manifests, run records and the journal (see
docs/store-format.md). No network or folder code here: everything goes through a
:class:`~desktopviz.sync.backend.Backend`.

Public API: :func:`init_store`, :func:`read_store_info`, :func:`append_entry`,
:func:`read_entries`, :class:`JournalState`, :func:`manifest_of`, :func:`encode`,
:func:`read_manifest`, :func:`version_from_manifest`, :func:`run_record`, :func:`read_run_record`,
:func:`parquet_rel`, constants :data:`FORMAT`, :data:`FORMAT_VERSION`, :data:`MANIFEST_FORMAT`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from desktopviz.errors import DesktopvizError
from desktopviz.model import Run, Version
from desktopviz.store.cache import Cache, NewFile, NewTable, NewVersion, VersionHeader, now_iso
from desktopviz.store.verify import file_sha256
from desktopviz.sync.backend import Backend, Conflict, check_path
from desktopviz.sync.folder import blob_path

FORMAT = "desktopviz-store"
FORMAT_VERSION = 1
"""The layout version a store holds in ``store.json``; this release reads stores up to it."""
MANIFEST_FORMAT = 1
STORE_INFO = "store.json"
JOURNAL = "journal/"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_ENTRY = re.compile(r"journal/(\d{12})\.json")
ENTRY_TYPES = frozenset({"version", "alias", "alias_removed", "run", "version_deleted"})


# -- store.json ---------------------------------------------------------------------------
def init_store(backend: Backend) -> dict[str, Any]:
    """Make ``backend`` a store (write ``store.json`` unless it is there); return its info."""
    if backend.read(STORE_INFO) is None:
        try:
            backend.create(STORE_INFO, encode({"format": FORMAT, "version": FORMAT_VERSION}))
        except Conflict:
            pass  # another writer made it first
    return read_store_info(backend)


def read_store_info(backend: Backend) -> dict[str, Any]:
    """``store.json`` of the store, checked: a clear error for a folder that is no store or a
    store of a newer format than this release reads."""
    data = backend.read(STORE_INFO)
    if data is None:
        raise DesktopvizError(
            f"{backend.url} is not a desktopviz store (it has no {STORE_INFO}); "
            "`desktopviz push` or `desktopviz serve` makes one"
        )
    try:
        info = json.loads(data)
    except ValueError as e:
        raise DesktopvizError(f"{STORE_INFO} is not JSON ({e})", file=backend.url) from e
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise DesktopvizError(f"{STORE_INFO} is not a desktopviz store's", file=backend.url)
    version = info.get("version")
    if not isinstance(version, int) or version < 1:
        raise DesktopvizError(f"{STORE_INFO} has no valid format version", file=backend.url)
    if version > FORMAT_VERSION:
        raise DesktopvizError(
            f"the store has format version {version}, newer than this desktopviz reads "
            f"({FORMAT_VERSION}); upgrade desktopviz",
            file=backend.url,
        )
    return info


def encode(obj: Any) -> bytes:
    """The canonical bytes of a JSON document of the store (sorted keys, UTF-8)."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, allow_nan=True).encode()


def digest_of(data: bytes) -> str:
    """The sha256 (hex) a content-addressed file is named by."""
    return hashlib.sha256(data).hexdigest()


def _sha(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise DesktopvizError(f"{what}: not a sha256 digest ({value!r})")
    return value


# -- journal ------------------------------------------------------------------------------
def entry_path(n: int) -> str:
    """The store path of journal entry ``n``."""
    return f"journal/{n:012d}.json"


def last_entry(backend: Backend, after: int = -1) -> int:
    """The highest journal entry number (``after`` when none is beyond it; -1: empty)."""
    last = after
    start = entry_path(after) if after >= 0 else None
    for path in backend.list(JOURNAL, after=start):
        m = _ENTRY.fullmatch(path)
        if m:
            last = max(last, int(m.group(1)))
    return last


def append_entry(backend: Backend, entry: dict[str, Any], *, after: int = -1) -> int:
    """Append ``entry`` to the journal and return its number: list the entries (beyond
    ``after``, a number known to exist), create the next one, and on :class:`Conflict` (another
    writer took it) try the number after."""
    if entry.get("type") not in ENTRY_TYPES:
        raise DesktopvizError(f"unknown journal entry type {entry.get('type')!r}")
    n = last_entry(backend, after) + 1
    while True:
        try:
            backend.create(entry_path(n), encode({**entry, "n": n}))
            return n
        except Conflict:
            n = last_entry(backend, n) + 1


def read_entries(backend: Backend, after: int = -1) -> Iterator[dict[str, Any]]:
    """The journal entries numbered beyond ``after``, in order (each checked: its ``n`` is its
    number, its type known)."""
    start = entry_path(after) if after >= 0 else None
    expected = after + 1
    for path in backend.list(JOURNAL, after=start):
        m = _ENTRY.fullmatch(path)
        if not m:
            continue
        n = int(m.group(1))
        if n != expected:
            # a writer is between create and visible, or the listing is behind: stop here, the
            # next sync goes on from this point
            return
        data = backend.read(path)
        if data is None:
            return
        try:
            entry = json.loads(data)
        except ValueError as e:
            raise DesktopvizError(f"{path} is not JSON ({e})", file=backend.url) from e
        if not isinstance(entry, dict) or entry.get("n") != n:
            raise DesktopvizError(f"{path} does not hold entry {n}", file=backend.url)
        if entry.get("type") not in ENTRY_TYPES:
            raise DesktopvizError(
                f"{path}: unknown entry type {entry.get('type')!r} (a newer desktopviz wrote "
                "it? upgrade desktopviz)",
                file=backend.url,
            )
        yield entry
        expected += 1


@dataclass
class JournalState:
    """What a run of journal entries says: each artifact's versions in number order, the
    current aliases, the latest manifest of each version and record of each run."""

    digests: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    manifests: dict[tuple[str, str, str], str] = field(default_factory=dict)
    aliases: dict[tuple[str, str, str], str] = field(default_factory=dict)
    runs: dict[tuple[str, str], str] = field(default_factory=dict)
    deleted: set[tuple[str, str, str]] = field(default_factory=set)
    last: int = -1

    def number(self, project: str, name: str, digest: str) -> int:
        """The version number of ``digest`` in artifact (project, name): the count of distinct
        digests of that artifact before its first entry (adding it when new)."""
        known = self.digests.setdefault((project, name), [])
        if digest not in known:
            known.append(digest)
        return known.index(digest)

    def apply(self, entry: dict[str, Any]) -> None:
        """Fold one entry in."""
        kind, project = entry["type"], entry.get("project", "")
        self.last = max(self.last, entry.get("n", self.last))
        if kind == "version":
            key = (project, entry["name"], entry["digest"])
            self.number(*key)
            self.manifests[key] = entry["manifest"]
            self.deleted.discard(key)
        elif kind == "alias":
            self.aliases[(project, entry["name"], entry["alias"])] = entry["digest"]
        elif kind == "alias_removed":
            self.aliases.pop((project, entry["name"], entry["alias"]), None)
        elif kind == "run":
            self.runs[(project, entry["run"])] = entry["record"]
        elif kind == "version_deleted":
            key = (project, entry["name"], entry["digest"])
            self.deleted.add(key)
            self.manifests.pop(key, None)
            for akey, digest in list(self.aliases.items()):
                if akey[:2] == key[:2] and digest == key[2]:
                    del self.aliases[akey]

    @classmethod
    def read(cls, backend: Backend) -> JournalState:
        """The state of the whole journal of ``backend``."""
        state = cls()
        for entry in read_entries(backend):
            state.apply(entry)
        return state


# -- manifests ----------------------------------------------------------------------------
def parquet_rel(sha256: str) -> str:
    """Where a synced table's Parquet file lives in the cache (named by its sha256, so a
    catalog-only version knows which blob to fetch)."""
    return f"derived/tables/{sha256[:2]}/{sha256}.parquet"


def manifest_of(cache: Cache, version: Version) -> dict[str, Any]:
    """The manifest of a cached version (its tables' Parquet files are hashed here)."""
    files = []
    for f in cache.files(version):
        ref_version = None
        if f.ref_version_id is not None:
            target = cache.version_by_id(f.ref_version_id)
            ref_version = f"{target.project}/{target.name}:{target.digest}"
        files.append(
            {
                "path": f.path,
                "size": f.size,
                "sha256": f.sha256,
                "wandb_digest": f.wandb_digest,
                "ref": f.ref,
                "ref_version": ref_version,
                "ref_path": f.ref_path,
            }
        )
    tables = []
    for path, kind, parquet, schema, num_rows, digest in cache.conn.execute(
        "SELECT path, kind, parquet, schema, num_rows, digest FROM tables WHERE version_id = ? "
        "ORDER BY path",
        (version.id,),
    ):
        local = cache.root / parquet
        tables.append(
            {
                "path": path,
                "kind": kind,
                "parquet_sha256": file_sha256(local),
                "parquet_size": local.stat().st_size,
                "schema": schema,
                "num_rows": num_rows,
                "digest": digest,
            }
        )
    return {
        "format": MANIFEST_FORMAT,
        "project": version.project,
        "name": version.name,
        "type": version.type,
        "digest": version.digest,
        "description": version.description,
        "metadata": version.metadata,
        "created_at": version.created_at,
        "aliases": [a for a in version.aliases if a != "latest"],
        "files": files,
        "tables": tables,
        "produced_by": cache.producer(version),
        "used_by": cache.consumers(version),
    }


def manifest_blobs(manifest: dict[str, Any]) -> dict[str, int]:
    """Every blob a manifest names (file bytes and tables' Parquet files) with its size."""
    out = {f["sha256"]: f["size"] for f in manifest["files"] if f.get("sha256")}
    out.update((t["parquet_sha256"], t["parquet_size"]) for t in manifest["tables"])
    return out


def read_manifest(backend: Backend, sha: str) -> dict[str, Any]:
    """Manifest ``sha`` of the store, checked: its bytes against its name, its format, every
    path (a manifest naming ``../x`` or ``/x`` is refused with an error naming it)."""
    where = f"manifests/{_sha(sha, 'manifest')}.json"
    data = _read_addressed(backend, where, sha)
    try:
        m = json.loads(data)
        if not isinstance(m, dict):
            raise ValueError("not an object")
        fmt = m.get("format")
        if not isinstance(fmt, int) or fmt > MANIFEST_FORMAT:
            raise DesktopvizError(
                f"{where} has manifest format {fmt!r}, newer than this desktopviz reads; "
                "upgrade desktopviz"
            )
        for key in ("project", "name", "type", "digest"):
            if not isinstance(m.get(key), str) or not m[key]:
                raise ValueError(f"no {key}")
        for f in m["files"]:
            _checked_path(f["path"], where)
            if f.get("sha256") is not None:
                _sha(f["sha256"], f"{where}: file {f['path']!r}")
            if f.get("ref_path"):
                _checked_path(f["ref_path"], where)
            if not isinstance(f.get("size"), int) or f["size"] < 0:
                raise ValueError(f"file {f['path']!r} has no size")
        for t in m["tables"]:
            _checked_path(t["path"], where)
            _sha(t["parquet_sha256"], f"{where}: table {t['path']!r}")
    except (ValueError, KeyError, TypeError) as e:
        raise DesktopvizError(f"{where} is not a valid manifest ({e})", file=backend.url) from e
    return m


def _checked_path(path: Any, where: str) -> str:
    if not isinstance(path, str):
        raise DesktopvizError(f"{where}: a path is not text ({path!r})")
    try:
        return check_path(path)
    except DesktopvizError as e:
        raise DesktopvizError(f"{where} names {path!r}: refused ({e.message})") from e


def version_from_manifest(
    cache: Cache,
    manifest: dict[str, Any],
    *,
    idx: int | None,
    state: str = "complete",
    source: str | None = None,
) -> NewVersion:
    """The :class:`NewVersion` a manifest describes (its references resolved to versions of the
    cache by digest; its tables' Parquet files at :func:`parquet_rel`)."""
    files = []
    for f in manifest["files"]:
        ref_version_id = None
        if f.get("ref_version"):
            ref_version_id = _find_ref_version(cache, f["ref_version"])
        files.append(
            NewFile(
                f["path"],
                f["size"],
                f.get("sha256"),
                f.get("wandb_digest"),
                f.get("ref"),
                ref_version_id,
                f.get("ref_path"),
            )
        )
    tables = [
        NewTable(
            t["path"],
            t["kind"],
            parquet_rel(t["parquet_sha256"]),
            t["schema"],
            t["num_rows"],
            t.get("digest"),
        )
        for t in manifest["tables"]
    ]
    header = VersionHeader(
        project=manifest["project"],
        name=manifest["name"],
        type=manifest["type"],
        description=manifest.get("description"),
        metadata=manifest.get("metadata") or {},
        source=source,
        created_at=manifest.get("created_at"),
    )
    return NewVersion(header, manifest["digest"], files, tables, idx=idx, state=state)


def _find_ref_version(cache: Cache, ref: str) -> int | None:
    """The cache's version ``P/A:<digest>`` names, if it is here."""
    head, _, digest = ref.rpartition(":")
    project, _, name = head.partition("/")
    row = cache.conn.execute(
        "SELECT v.id FROM versions v JOIN collections c ON c.id = v.collection_id "
        "JOIN projects p ON p.id = c.project_id WHERE p.name = ? AND c.name = ? AND v.digest = ?",
        (project, name, digest),
    ).fetchone()
    return row[0] if row else None


# -- runs ---------------------------------------------------------------------------------
def run_record(cache: Cache, run_id: str) -> dict[str, Any]:
    """The store's record of a cached run: its fields and its metric history."""
    run = cache.run(run_id)
    return {
        "id": run.id,
        "project": run.project,
        "name": run.name,
        "job_type": run.job_type,
        "state": run.state,
        "config": run.config,
        "summary": run.summary,
        "environment": run.environment,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
        "history": [[step, data] for step, data in cache.history(run_id)],
    }


def read_run_record(backend: Backend, sha: str) -> tuple[Run, list[tuple[int, dict[str, Any]]]]:
    """Run record ``sha`` of the store (checked against its name): the run and its history."""
    where = f"runs/{_sha(sha, 'run record')}.json"
    data = _read_addressed(backend, where, sha)
    try:
        r = json.loads(data)
        run = Run(
            id=str(r["id"]),
            project=str(r["project"]),
            name=r.get("name"),
            job_type=r.get("job_type"),
            state=r.get("state"),
            config=r.get("config") or {},
            summary=r.get("summary") or {},
            environment=r.get("environment") or {},
            created_at=r.get("created_at") or now_iso(),
            finished_at=r.get("finished_at"),
            source=r.get("source"),
        )
        history = [(int(step), dict(row)) for step, row in r.get("history") or []]
    except (ValueError, KeyError, TypeError) as e:
        raise DesktopvizError(f"{where} is not a valid run record ({e})", file=backend.url) from e
    return run, history


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST_FORMAT",
    "JournalState",
    "append_entry",
    "blob_path",
    "digest_of",
    "encode",
    "entry_path",
    "init_store",
    "last_entry",
    "manifest_blobs",
    "manifest_of",
    "parquet_rel",
    "read_entries",
    "read_manifest",
    "read_run_record",
    "read_store_info",
    "run_record",
    "version_from_manifest",
]


def _read_addressed(backend: Backend, where: str, sha: str) -> bytes:
    """The bytes of a file the store names by their sha256, checked against it."""
    data = backend.read(where)
    if data is None:
        raise DesktopvizError(f"{where} is missing from the store", file=backend.url)
    if digest_of(data) != sha:
        raise DesktopvizError(
            f"{where} does not match its digest (altered in the store?); refused",
            file=backend.url,
        )
    return data
